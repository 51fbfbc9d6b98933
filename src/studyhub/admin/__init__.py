"""Administration: the IP block list (API.md §10)."""
