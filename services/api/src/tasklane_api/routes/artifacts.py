"""Downloading report files: with the tenant's API key, or with a signed link and no key at all."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import StreamingResponse

from tasklane.db.base import utcnow
from tasklane.db.models import ReportArtifact
from tasklane.signing import signature_matches
from tasklane_api.deps import BearerDep, ResourcesDep, authenticate
from tasklane_api.schemas.errors import ErrorResponse

router = APIRouter(prefix="/v1/artifacts", tags=["artifacts"])


def _content_disposition(filename: str) -> str:
    fallback = filename.encode("ascii", "replace").decode().replace('"', "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


@router.get(
    "/{artifact_id}",
    response_class=StreamingResponse,
    responses={
        200: {"description": "The file, streamed.", "content": {"application/octet-stream": {}}},
        401: {"model": ErrorResponse, "description": "Neither an API key nor a signed link."},
        403: {"model": ErrorResponse, "description": "The signed link is expired or altered."},
        404: {"model": ErrorResponse, "description": "No such file, or another tenant's (with a key)."},
        410: {"model": ErrorResponse, "description": "The file has expired and is no longer kept."},
    },
)
def download_artifact(
    artifact_id: uuid.UUID,
    resources: ResourcesDep,
    credentials: BearerDep,
    expires: Annotated[int | None, Query(description="Signed link: Unix time it expires.")] = None,
    signature: Annotated[str | None, Query(description="Signed link: HMAC of the id and expiry.")] = None,
) -> StreamingResponse:
    """Download a report file, streamed with `Content-Type`, `Content-Length`, `Content-Disposition` and
    its SHA-256 as `ETag`. A signed link (`expires` and `signature`, from `result.file_url`) needs no API
    key; with `Authorization: Bearer` the owner needs no signature."""
    settings = resources.settings
    owner = None
    if expires is not None or signature is not None:
        if expires is None or signature is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "a signed link needs both expires and signature")
        if not signature_matches(settings, artifact_id, expires=expires, signature=signature):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "signature: this link is not valid")
        if utcnow().timestamp() >= expires:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, "expires: this link has expired; ask for a new one"
            )
    else:
        owner = authenticate(resources, credentials).id
    with resources.database.session() as session:
        artifact = session.get(ReportArtifact, artifact_id)
    if artifact is None or (owner is not None and artifact.business_id != owner):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"artifact {artifact_id} not found")
    if artifact.expires_at <= utcnow():
        raise HTTPException(
            status.HTTP_410_GONE,
            f"artifact {artifact_id} expired at {artifact.expires_at:%Y-%m-%d %H:%M} UTC",
        )
    return StreamingResponse(
        resources.artifacts.read(artifact),
        media_type=artifact.content_type,
        headers={
            "Content-Length": str(artifact.size_bytes),
            "Content-Disposition": _content_disposition(artifact.filename),
            "ETag": f'"{artifact.sha256}"',
            "Cache-Control": "private, no-store",
        },
    )
