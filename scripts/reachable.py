"""Exit 0 when the host:port of each URL given accepts a TCP connection within 2 seconds."""

from __future__ import annotations

import socket
import sys
from urllib.parse import urlparse

DEFAULT_PORTS = {"postgresql": 5432, "postgres": 5432, "redis": 6379}


def reachable(url: str) -> bool:
    parsed = urlparse(url)
    port = parsed.port or DEFAULT_PORTS.get(parsed.scheme.split("+")[0], 0)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(0 if all(reachable(url) for url in sys.argv[1:]) else 1)
