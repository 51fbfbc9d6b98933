"""Search through StudyIndexer, restricted to what the caller may read (API.md §7)."""
