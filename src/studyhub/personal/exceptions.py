from __future__ import annotations

from studyhub.core.errors import NotFound


class FolderNotFound(NotFound):
    message = "Folder not found"


class ItemNotFound(NotFound):
    message = "Item not found"
