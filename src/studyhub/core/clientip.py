"""The client's IP address: the socket peer, unless that peer is a configured trusted proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_ip(connection: HTTPConnection, trusted: Sequence[Network]) -> str:
    """Walk `X-Forwarded-For` from the right, skipping trusted proxies; the first untrusted hop is
    the client. A client cannot spoof its address by sending the header itself: entries left of
    the first untrusted hop are never read."""
    peer = connection.client.host if connection.client else ""
    cached = connection.scope.get("studyhub.client_ip")
    if isinstance(cached, str):
        return cached
    address = peer
    peer_ip = _parse(peer) if trusted else None
    if peer_ip is not None and any(peer_ip in net for net in trusted):
        hops = [h for h in connection.headers.get("x-forwarded-for", "").split(",") if h.strip()]
        for hop in reversed(hops):
            hop_ip = _parse(hop)
            if hop_ip is None:
                break  # garbage in the chain: stop at the last address we could trust
            address = str(hop_ip)
            if not any(hop_ip in net for net in trusted):
                break
    connection.scope["studyhub.client_ip"] = address
    return address
