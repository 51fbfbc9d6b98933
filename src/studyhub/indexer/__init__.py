"""The StudyIndexer client (API.md §9), shared by search, the outbox relay and readiness."""
