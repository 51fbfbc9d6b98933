"""SQL for the personal knowledge base. Every lookup is by id *and* owner: others see nothing."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.personal.models import PersonalFolder, PersonalItem


class FolderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(
        self, owner_id: int, *, offset: int, limit: int
    ) -> tuple[list[tuple[PersonalFolder, int]], int]:
        total = await self.session.scalar(
            select(func.count())
            .select_from(PersonalFolder)
            .where(PersonalFolder.owner_id == owner_id)
        )
        counts = (
            select(PersonalItem.folder_id, func.count().label("n"))
            .where(PersonalItem.owner_id == owner_id)
            .group_by(PersonalItem.folder_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(PersonalFolder, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.folder_id == PersonalFolder.id)
            .where(PersonalFolder.owner_id == owner_id)
            .order_by(PersonalFolder.name, PersonalFolder.id)
            .offset(offset)
            .limit(limit)
        )
        return [(folder, int(n)) for folder, n in rows], int(total or 0)

    async def get(self, owner_id: int, folder_id: int) -> PersonalFolder | None:
        return await self.session.scalar(
            select(PersonalFolder).where(
                PersonalFolder.id == folder_id, PersonalFolder.owner_id == owner_id
            )
        )

    async def item_count(self, folder_id: int) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(PersonalItem)
            .where(PersonalItem.folder_id == folder_id)
        )
        return int(count or 0)

    async def links(self, owner_id: int) -> list[tuple[int, int | None]]:
        """(id, parent_id) of every folder of the owner: the tree, for cycle checks and deletes."""
        rows = await self.session.execute(
            select(PersonalFolder.id, PersonalFolder.parent_id).where(
                PersonalFolder.owner_id == owner_id
            )
        )
        return [(folder_id, parent_id) for folder_id, parent_id in rows]

    async def add(self, folder: PersonalFolder) -> PersonalFolder:
        self.session.add(folder)
        await self.session.flush()
        return folder

    async def flush(self) -> None:
        await self.session.flush()

    async def delete(self, folder_id: int) -> None:
        # Subfolders and items go with it (ON DELETE CASCADE).
        await self.session.execute(delete(PersonalFolder).where(PersonalFolder.id == folder_id))


class ItemRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(
        self, owner_id: int, folder_id: int, *, offset: int, limit: int
    ) -> tuple[list[PersonalItem], int]:
        where = (PersonalItem.owner_id == owner_id, PersonalItem.folder_id == folder_id)
        total = await self.session.scalar(
            select(func.count()).select_from(PersonalItem).where(*where)
        )
        rows = await self.session.scalars(
            select(PersonalItem)
            .where(*where)
            .order_by(PersonalItem.created_at.desc(), PersonalItem.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(rows), int(total or 0)

    async def get(self, owner_id: int, item_id: int) -> PersonalItem | None:
        return await self.session.scalar(
            select(PersonalItem).where(
                PersonalItem.id == item_id, PersonalItem.owner_id == owner_id
            )
        )

    async def in_folders(self, folder_ids: Sequence[int]) -> list[PersonalItem]:
        if not folder_ids:
            return []
        rows = await self.session.scalars(
            select(PersonalItem).where(PersonalItem.folder_id.in_(folder_ids))
        )
        return list(rows)

    async def by_documents(self, owner_id: int, document_ids: Sequence[str]) -> list[PersonalItem]:
        if not document_ids:
            return []
        rows = await self.session.scalars(
            select(PersonalItem).where(
                PersonalItem.owner_id == owner_id,
                PersonalItem.indexer_document_id.in_(document_ids),
            )
        )
        return list(rows)

    async def add(self, item: PersonalItem) -> PersonalItem:
        self.session.add(item)
        await self.session.flush()
        return item

    async def flush(self) -> None:
        await self.session.flush()

    async def delete(self, item_id: int) -> None:
        await self.session.execute(delete(PersonalItem).where(PersonalItem.id == item_id))
