"""The personal knowledge base (API.md §8): a user's own folders, notes and files."""
