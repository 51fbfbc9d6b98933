from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import FileResponse

from studyhub.auth.dependencies import CurrentUser
from studyhub.core.openapi import error_responses, schema_ref
from studyhub.core.pagination import PageDep, set_link_header
from studyhub.core.storage import safe_filename
from studyhub.personal.dependencies import FileInput, ItemInputDep, PersonalServiceDep
from studyhub.personal.schemas import (
    FolderCreate,
    FolderList,
    FolderOut,
    FolderUpdate,
    ItemList,
    ItemOut,
    ItemUpdate,
    NoteCreate,
)
from studyhub.personal.service import item_out

router = APIRouter(prefix="/personal", tags=["personal"])
FolderId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]
READ = error_responses(401, 404)
WRITE = error_responses(401, 404)
_ITEM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": schema_ref("NoteCreate", NoteCreate)},
            "multipart/form-data": {
                "schema": schema_ref(
                    "PersonalFileUpload",
                    {
                        "title": "PersonalFileUpload",
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "title": {"type": "string", "maxLength": 200},
                        },
                    },
                )
            },
        },
    }
}


@router.get("/folders", name="personal-folders-list", summary="Your folders", responses=READ)
async def list_folders(
    principal: CurrentUser,
    service: PersonalServiceDep,
    params: PageDep,
    request: Request,
    response: Response,
) -> FolderList:
    folders, total = await service.list_folders(principal, params)
    set_link_header(request, response, params, total)
    return FolderList(folders=folders, pagination=params.meta(total))


@router.post(
    "/folders",
    name="personal-folders-create",
    status_code=status.HTTP_201_CREATED,
    summary="Create a folder (optionally inside another, optionally tied to a course)",
    responses=WRITE,
)
async def create_folder(
    body: FolderCreate, principal: CurrentUser, service: PersonalServiceDep, response: Response
) -> FolderOut:
    folder = await service.create_folder(principal, body)
    response.headers["Location"] = f"/api/v1/personal/folders/{folder.id}"
    return folder


@router.get(
    "/folders/{folder_id}", name="personal-folders-get", summary="One folder", responses=READ
)
async def get_folder(
    folder_id: FolderId, principal: CurrentUser, service: PersonalServiceDep
) -> FolderOut:
    return await service.folder_view(principal, folder_id)


@router.patch(
    "/folders/{folder_id}",
    name="personal-folders-update",
    summary="Change or move a folder",
    responses=WRITE,
)
async def update_folder(
    folder_id: FolderId, body: FolderUpdate, principal: CurrentUser, service: PersonalServiceDep
) -> FolderOut:
    return await service.update_folder(principal, folder_id, body)


@router.delete(
    "/folders/{folder_id}",
    name="personal-folders-delete",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a folder with its subfolders and items",
    responses=READ,
)
async def delete_folder(
    folder_id: FolderId, principal: CurrentUser, service: PersonalServiceDep
) -> None:
    await service.delete_folder(principal, folder_id)


@router.get(
    "/folders/{folder_id}/items",
    name="personal-items-list",
    summary="The folder's items, newest first",
    responses=READ,
)
async def list_items(
    folder_id: FolderId,
    principal: CurrentUser,
    service: PersonalServiceDep,
    params: PageDep,
    request: Request,
    response: Response,
) -> ItemList:
    items, total = await service.list_items(principal, folder_id, params)
    set_link_header(request, response, params, total)
    return ItemList(items=items, pagination=params.meta(total))


@router.post(
    "/folders/{folder_id}/items",
    name="personal-items-create",
    status_code=status.HTTP_201_CREATED,
    summary="Add a note (JSON `{title, content}`) or a file (multipart `file`: txt, md, pdf)",
    responses=error_responses(401, 404, 413, 415),
    openapi_extra=_ITEM_BODY,
)
async def create_item(
    folder_id: FolderId,
    principal: CurrentUser,  # before the body: an anonymous caller gets 401, never a 400
    body: ItemInputDep,
    service: PersonalServiceDep,
    response: Response,
) -> ItemOut:
    if isinstance(body, FileInput):
        item = await service.create_file(principal, folder_id, body.file, body.title)
    else:
        item = await service.create_note(principal, folder_id, body)
    response.headers["Location"] = f"/api/v1/personal/items/{item.id}"
    return item


@router.get("/items/{item_id}", name="personal-items-get", summary="One item", responses=READ)
async def get_item(item_id: ItemId, principal: CurrentUser, service: PersonalServiceDep) -> ItemOut:
    return item_out(await service.item(principal, item_id))


@router.patch(
    "/items/{item_id}",
    name="personal-items-update",
    summary="Rename, edit (notes) or move an item",
    responses=WRITE,
)
async def update_item(
    item_id: ItemId, body: ItemUpdate, principal: CurrentUser, service: PersonalServiceDep
) -> ItemOut:
    return await service.update_item(principal, item_id, body)


@router.delete(
    "/items/{item_id}",
    name="personal-items-delete",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an item",
    responses=READ,
)
async def delete_item(item_id: ItemId, principal: CurrentUser, service: PersonalServiceDep) -> None:
    await service.delete_item(principal, item_id)


@router.get(
    "/items/{item_id}/download",
    name="personal-items-download",
    summary="Download a file, or a note as Markdown (as an attachment)",
    response_class=Response,
    responses={
        **READ,
        200: {
            "content": {"application/octet-stream": {}, "text/markdown": {}},
            "description": "The bytes",
        },
    },
)
async def download_item(
    item_id: ItemId, principal: CurrentUser, service: PersonalServiceDep
) -> Response:
    item, path = await service.download(principal, item_id)
    headers = {"Cache-Control": "private, no-store"}
    if path is None:
        name = quote(safe_filename(item.title) + ".md")
        disposition = f"attachment; filename=\"note.md\"; filename*=utf-8''{name}"
        return Response(
            item.content,
            media_type="text/markdown; charset=utf-8",
            headers={**headers, "Content-Disposition": disposition},
        )
    return FileResponse(
        path,
        media_type=item.file_media_type,
        filename=item.file_name,
        content_disposition_type="attachment",
        headers=headers,
    )
