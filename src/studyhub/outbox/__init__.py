"""Transactional outbox for StudyIndexer jobs (DESIGN.md §8): written with the change, delivered
after commit by a relay, at least once."""
