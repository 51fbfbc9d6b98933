"""Every `studyhub` command explains itself with an example; exit codes are as documented."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from studyhub.cli import EXIT_CODES, app

runner = CliRunner()
COMMANDS = sorted(
    c.name or (c.callback.__name__.replace("_", "-") if c.callback else "")
    for c in app.registered_commands
)


def test_the_commands_are_the_documented_ones() -> None:
    assert set(COMMANDS) >= {"serve", "init-db", "create-admin", "seed", "openapi"}


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_an_example(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    text = re.sub(r"[\s│]+", " ", result.output)  # unwrap rich's box and line breaks
    assert "Example:" in text
    assert f"studyhub {command}" in text.split("Example:", 1)[1]


def test_top_level_help_lists_exit_codes() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Exit codes" in result.output
    assert "0 success" in EXIT_CODES and "2 usage" in EXIT_CODES


def test_usage_errors_exit_2() -> None:
    assert runner.invoke(app, ["serve", "--no-such-option"]).exit_code == 2
    assert runner.invoke(app, ["serve", "--port", "not-a-number"]).exit_code == 2
    assert runner.invoke(app, ["no-such-command"]).exit_code == 2
