from __future__ import annotations

from studyhub.core.errors import NotFound


class IpBlockNotFound(NotFound):
    message = "IP block not found"
