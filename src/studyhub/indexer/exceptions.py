"""StudyIndexer failures as domain errors: never a 500 (DESIGN.md §8)."""

from __future__ import annotations

from studyhub.core.errors import BadGateway, GatewayTimeout, ServiceUnavailable


class SearchUnavailable(ServiceUnavailable):
    """Not configured, unreachable, rate-limiting us, or the breaker is open."""

    code, message = "SEARCH_UNAVAILABLE", "Search is unavailable right now; retry shortly"


class SearchTimeout(GatewayTimeout):
    code, message = "SEARCH_TIMEOUT", "Search took too long; retry shortly"


class IndexerBadGateway(BadGateway):
    """StudyIndexer answered, but not with what its contract promises (5xx, garbage, refusal)."""

    code, message = "BAD_GATEWAY", "The search service answered badly"
