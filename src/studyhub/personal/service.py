"""The personal knowledge base: owner-only folders, notes and files, indexed through the outbox."""

from __future__ import annotations

import uuid
from pathlib import Path

from starlette.datastructures import UploadFile

from studyhub.auth.service import Principal
from studyhub.core.errors import ValidationFailed
from studyhub.core.pagination import PageParams
from studyhub.core.storage import FileKind, FileStore
from studyhub.courses.models import IndexStatus
from studyhub.courses.repository import CourseRepository
from studyhub.indexer.schemas import DOCUMENT_TYPES
from studyhub.outbox.models import SubjectType
from studyhub.outbox.repository import OutboxRepository
from studyhub.personal.exceptions import FolderNotFound, ItemNotFound
from studyhub.personal.models import ItemKind, PersonalFolder, PersonalItem
from studyhub.personal.repository import FolderRepository, ItemRepository
from studyhub.personal.schemas import (
    FolderCreate,
    FolderOut,
    FolderUpdate,
    ItemFile,
    ItemOut,
    ItemUpdate,
    NoteCreate,
)
from studyhub.users.models import UserRole

PERSONAL_FILE_KINDS = {FileKind.PDF, FileKind.TEXT, FileKind.MARKDOWN}


def folder_out(folder: PersonalFolder, item_count: int) -> FolderOut:
    return FolderOut(
        id=folder.id,
        name=folder.name,
        parent_id=folder.parent_id,
        description=folder.description,
        course_id=folder.course_id,
        item_count=item_count,
        created_at=folder.created_at,
        updated_at=folder.updated_at,
    )


def item_out(item: PersonalItem) -> ItemOut:
    is_file = item.kind is ItemKind.FILE
    return ItemOut(
        id=item.id,
        folder_id=item.folder_id,
        title=item.title,
        kind=item.kind,
        content=None if is_file else item.content,
        file=ItemFile(
            name=item.file_name or "file",
            size=item.file_size or 0,
            media_type=item.file_media_type or "application/octet-stream",
        )
        if is_file
        else None,
        index_status=item.index_status,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _subtree(links: list[tuple[int, int | None]], root: int) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for folder_id, parent_id in links:
        children.setdefault(parent_id, []).append(folder_id)
    found, stack = {root}, [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


class PersonalService:
    def __init__(
        self,
        folders: FolderRepository,
        items: ItemRepository,
        courses: CourseRepository,
        outbox: OutboxRepository,
        files: FileStore,
    ) -> None:
        self.folders = folders
        self.items = items
        self.courses = courses
        self.outbox = outbox
        self.files = files

    # -- folders --

    async def list_folders(
        self, owner: Principal, params: PageParams
    ) -> tuple[list[FolderOut], int]:
        rows, total = await self.folders.page(
            owner.user_id, offset=params.offset, limit=params.limit
        )
        return [folder_out(folder, count) for folder, count in rows], total

    async def folder(self, owner: Principal, folder_id: int) -> PersonalFolder:
        folder = await self.folders.get(owner.user_id, folder_id)
        if folder is None:
            raise FolderNotFound
        return folder

    async def folder_view(self, owner: Principal, folder_id: int) -> FolderOut:
        folder = await self.folder(owner, folder_id)
        return folder_out(folder, await self.folders.item_count(folder.id))

    async def create_folder(self, owner: Principal, body: FolderCreate) -> FolderOut:
        if body.parent_id is not None:
            await self._parent(owner, body.parent_id)
        await self._check_course(owner, body.course_id)
        folder = await self.folders.add(
            PersonalFolder(
                owner_id=owner.user_id,
                parent_id=body.parent_id,
                name=body.name,
                description=body.description,
                course_id=body.course_id,
            )
        )
        return folder_out(folder, 0)

    async def update_folder(
        self, owner: Principal, folder_id: int, body: FolderUpdate
    ) -> FolderOut:
        folder = await self.folder(owner, folder_id)
        changes = body.model_dump(exclude_unset=True)
        for name in ("name", "description"):
            if name in changes and changes[name] is None:
                raise ValidationFailed(details={name: ["may not be null"]})
        if changes.get("parent_id") is not None:
            parent_id = int(changes["parent_id"])
            await self._parent(owner, parent_id)
            if parent_id in _subtree(await self.folders.links(owner.user_id), folder.id):
                raise ValidationFailed(
                    details={"parent_id": ["would put the folder inside itself"]}
                )
        if "course_id" in changes:
            await self._check_course(owner, changes["course_id"])
        for name, value in changes.items():
            setattr(folder, name, value)
        await self.folders.flush()
        return folder_out(folder, await self.folders.item_count(folder.id))

    async def delete_folder(self, owner: Principal, folder_id: int) -> None:
        folder = await self.folder(owner, folder_id)
        doomed = _subtree(await self.folders.links(owner.user_id), folder.id)
        for item in await self.items.in_folders(sorted(doomed)):
            self._forget(item)
        await self.folders.delete(folder.id)

    async def _parent(self, owner: Principal, parent_id: int) -> None:
        if await self.folders.get(owner.user_id, parent_id) is None:
            raise ValidationFailed(details={"parent_id": ["no such folder"]})

    async def _check_course(self, owner: Principal, course_id: object) -> None:
        if course_id is None:
            return
        if owner.role is UserRole.ADMIN:
            # Admins may attach any course, but it must exist (a dangling id broke the foreign key).
            if not await self.courses.exists(int(str(course_id))):
                raise ValidationFailed(details={"course_id": ["no such course"]})
            return
        if int(str(course_id)) not in await self.courses.readable_courses(owner.user_id):
            # The same answer for a course that does not exist: ids do not leak.
            raise ValidationFailed(details={"course_id": ["not a course you can read"]})

    # -- items --

    async def list_items(
        self, owner: Principal, folder_id: int, params: PageParams
    ) -> tuple[list[ItemOut], int]:
        folder = await self.folder(owner, folder_id)
        rows, total = await self.items.page(
            owner.user_id, folder.id, offset=params.offset, limit=params.limit
        )
        return [item_out(item) for item in rows], total

    async def item(self, owner: Principal, item_id: int) -> PersonalItem:
        item = await self.items.get(owner.user_id, item_id)
        if item is None:
            raise ItemNotFound
        return item

    async def create_note(self, owner: Principal, folder_id: int, body: NoteCreate) -> ItemOut:
        folder = await self.folder(owner, folder_id)
        item = await self.items.add(
            PersonalItem(
                owner_id=owner.user_id,
                folder_id=folder.id,
                title=body.title,
                kind=ItemKind.NOTE,
                content=body.content,
            )
        )
        self._index(item, "markdown")
        await self.items.flush()
        return item_out(item)

    async def create_file(
        self, owner: Principal, folder_id: int, upload: UploadFile, title: str | None
    ) -> ItemOut:
        folder = await self.folder(owner, folder_id)
        stored = await self.files.save(upload, PERSONAL_FILE_KINDS)
        self.files.delete_on_rollback(self.items.session, stored.storage_name)
        item = await self.items.add(
            PersonalItem(
                owner_id=owner.user_id,
                folder_id=folder.id,
                title=(title or "").strip()[:200] or stored.name,
                kind=ItemKind.FILE,
                file_name=stored.name,
                file_size=stored.size,
                file_media_type=stored.media_type,
                file_storage_name=stored.storage_name,
            )
        )
        self._index(item, DOCUMENT_TYPES[stored.kind.value])
        await self.items.flush()
        return item_out(item)

    async def update_item(self, owner: Principal, item_id: int, body: ItemUpdate) -> ItemOut:
        item = await self.item(owner, item_id)
        changes = body.model_dump(exclude_unset=True)
        if any(changes.get(name, "") is None for name in ("title", "content", "folder_id")):
            raise ValidationFailed(
                details={"body": ["title, content and folder_id are not nullable"]}
            )
        if "content" in changes and item.kind is ItemKind.FILE:
            raise ValidationFailed(details={"content": ["only notes have content"]})
        if "folder_id" in changes:
            await self.folder(owner, int(changes["folder_id"]))
        reindex = any(name in changes for name in ("title", "content"))
        for name, value in changes.items():
            setattr(item, name, value)
        if reindex:
            self._forget_document(item)
            kind = "markdown" if item.kind is ItemKind.NOTE else self._file_type(item)
            self._index(item, kind)
        await self.items.flush()
        return item_out(item)

    async def delete_item(self, owner: Principal, item_id: int) -> None:
        item = await self.item(owner, item_id)
        self._forget(item)
        await self.items.delete(item.id)

    async def download(self, owner: Principal, item_id: int) -> tuple[PersonalItem, Path | None]:
        item = await self.item(owner, item_id)
        if item.kind is ItemKind.NOTE:
            return item, None
        path = self.files.path(item.file_storage_name or "")
        if not path.is_file():
            raise ItemNotFound("The item's file is missing")
        return item, path

    # -- indexing --

    def _index(self, item: PersonalItem, document_type: str) -> None:
        item.index_revision = uuid.uuid4().hex
        item.index_status = IndexStatus.PENDING
        self.outbox.enqueue_index(
            SubjectType.PERSONAL_ITEM,
            item.id,
            {
                "revision": item.index_revision,
                "document_type": document_type,
                "collection": "personal",
                # The owner tag lets search ask StudyIndexer for this user's items only.
                "tags": [f"owner:{item.owner_id}", f"item:{item.id}"],
            },
        )

    def _forget_document(self, item: PersonalItem, *, keep_row: bool = True) -> None:
        if item.indexer_document_id:
            self.outbox.enqueue_delete(SubjectType.PERSONAL_ITEM, item.id, item.indexer_document_id)
            if keep_row:  # a row about to be deleted must not be left dirty for the flush
                item.indexer_document_id = None

    def _forget(self, item: PersonalItem) -> None:
        """The item is going: its document too, and its file once the delete commits."""
        self._forget_document(item, keep_row=False)
        if item.file_storage_name:
            self.files.delete_after_commit(self.items.session, item.file_storage_name)

    @staticmethod
    def _file_type(item: PersonalItem) -> str:
        extension = (item.file_name or "").rsplit(".", 1)[-1].lower()
        return DOCUMENT_TYPES.get(extension, "text")
