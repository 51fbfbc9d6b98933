from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from studyhub.core.logging import JsonFormatter, configure_logging, mask_secrets

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl"


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {JWT}",
        "password=hunter2hunter2",
        '{"password": "hunter2hunter2"}',
        "refresh_token=abcdefghij0123456789",
        f"token {JWT} leaked",
    ],
)
def test_secrets_are_masked(text: str) -> None:
    masked = mask_secrets(text)
    assert "hunter2hunter2" not in masked
    assert JWT not in masked
    assert "abcdefghij0123456789" not in masked


def test_records_are_json_lines_with_extra_fields() -> None:
    record = logging.makeLogRecord(
        {"name": "studyhub.access", "levelname": "INFO", "msg": "GET /x 200"}
    )
    record.request_id = "r1"
    record.user_id = 7
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "GET /x 200"
    assert (line["request_id"], line["user_id"], line["level"]) == ("r1", 7, "INFO")


def test_logs_go_to_the_rotating_file(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    try:
        configure_logging("INFO", tmp_path / "logs")
        logging.getLogger("studyhub.test").info("hello password=supersecret1")
        for handler in root.handlers:
            handler.flush()
        content = (tmp_path / "logs" / "app.log").read_text()
        assert "hello" in content
        assert "supersecret1" not in content
    finally:
        for handler in list(root.handlers):
            if handler not in before[0]:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(before[1])
