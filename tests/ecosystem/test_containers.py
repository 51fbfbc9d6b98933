"""Static checks of `Dockerfile` and `compose.yaml` (no Docker engine runs here): the shape the
deployment relies on, and that every setting the backend container gets is a known setting."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from studyhub.cli import app as cli_app
from studyhub.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
# Read by the image or by libraries rather than by Settings; each is documented in .env.example.
NON_SETTINGS = {"WORKERS", "PROMETHEUS_MULTIPROC_DIR"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return data


def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def _env_example_keys() -> set[str]:
    keys = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]+)=", line)
        if match:
            keys.add(match.group(1))
    return keys


def test_compose_has_backend_postgres_redis(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"backend", "postgres", "redis"} <= set(services)
    backend = services["backend"]
    assert backend["build"] == "."
    assert "5000:5000" in backend["ports"]
    assert backend["environment"]["WORKERS"] == "2"
    for dependency in ("postgres", "redis"):
        assert backend["depends_on"][dependency]["condition"] == "service_healthy"
    for name, service in services.items():
        assert "test" in service["healthcheck"], f"{name} has no healthcheck"
        assert service.get("restart") == "unless-stopped", name


def test_compose_volumes_are_named_and_declared(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    used = {
        volume.split(":", 1)[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
    }
    assert {"backend-data", "postgres-data"} <= used
    assert used <= declared, "a service mounts a volume that is not declared (or a host path)"


def test_backend_environment_is_known_and_consistent(compose: dict[str, Any]) -> None:
    env: dict[str, str] = compose["services"]["backend"]["environment"]
    settings_keys = {name.upper() for name in Settings.model_fields}
    documented = _env_example_keys()
    for key in env:
        assert key in settings_keys or key in NON_SETTINGS, f"{key} is not a setting"
        assert key in documented, f"{key} is missing from .env.example"
    assert env["ENVIRONMENT"] == "production"
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?"), "SECRET_KEY must be required"
    # The URLs point at the compose services, by their service names.
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379")
    postgres = compose["services"]["postgres"]["environment"]
    assert f"{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}@" in env["DATABASE_URL"]
    assert env["DATABASE_URL"].endswith("/" + postgres["POSTGRES_DB"])


def test_every_setting_is_in_env_example() -> None:
    missing = {name.upper() for name in Settings.model_fields} - _env_example_keys()
    assert missing == set(), f"settings missing from .env.example: {missing}"


def test_dockerfile_is_multi_stage_non_root_and_health_checked() -> None:
    instructions = _instructions()
    stages = [rest for keyword, rest in instructions if keyword == "FROM"]
    assert len(stages) >= 2, "expected a build stage and a runtime stage"
    build_stage = stages[0].split()[-1]
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    runtime = instructions[last_from:]
    assert any(k == "COPY" and f"--from={build_stage}" in r for k, r in runtime)
    users = [rest for keyword, rest in runtime if keyword == "USER"]
    assert users and users[-1] not in {"root", "0", "0:0"}, "the runtime must not run as root"
    assert any(k == "HEALTHCHECK" and "/health" in r for k, r in runtime)
    assert ("EXPOSE", "5000") in runtime


def test_dockerfile_cmd_runs_real_console_script_commands() -> None:
    runtime_cmd = [rest for keyword, rest in _instructions() if keyword == "CMD"][-1]
    argv = yaml.safe_load(runtime_cmd)  # the exec form is a JSON (so YAML) list
    assert isinstance(argv, list)
    script = " ".join(argv)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "studyhub" in scripts
    commands = {c.name or c.callback.__name__ for c in cli_app.registered_commands if c.callback}
    used = re.findall(r"studyhub\s+([a-z-]+)", script)
    assert used, script
    for command in used:
        assert command in commands, f"CMD runs `studyhub {command}`, which does not exist"
    assert "--host 0.0.0.0" in script and "--port 5000" in script
    assert shlex.split(script)  # well-formed shell


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".venv", ".git", "instance", "uploads"} <= ignored
