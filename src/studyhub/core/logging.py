"""JSON logs to stdout and a rotating `logs/app.log`, with secrets masked."""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Values that must never reach a log line: JWTs, bearer credentials, and password/token fields in
# anything that looks like `key=value` or a JSON pair.
_SECRET_PATTERNS = [
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[jwt]"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[masked]"),
    (
        re.compile(
            r"""(?i)(["']?(?:password|passwd|secret|token|refresh_token|access_token|api_key)"""
            r"""["']?\s*[:=]\s*["']?)[^"',\s}]+"""
        ),
        r"\1[masked]",
    ),
]
_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def mask_secrets(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_secrets(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = mask_secrets(value) if isinstance(value, str) else value
        if record.exc_info:
            payload["exc"] = mask_secrets(self.formatException(record.exc_info))
        return json.dumps(payload, default=str)


def configure_logging(level: str, log_dir: Path | None) -> None:
    """Install the JSON handlers on the root logger (idempotent: replaces our own handlers)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_studyhub", False):
            root.removeHandler(handler)
            handler.close()
    formatter = JsonFormatter()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                log_dir / "app.log", maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8"
            )
        )
    for handler in handlers:
        handler.setFormatter(formatter)
        handler._studyhub = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's own access log would duplicate ours, without request ids.
    logging.getLogger("uvicorn.access").disabled = True
