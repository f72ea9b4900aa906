"""Files tasks produce, stored with their tenant, size, checksum and expiry.

Storage sits behind ``ArtifactStore``. The default keeps the bytes in the database in 1 MiB chunks,
streamed in from a file and out to the client a chunk at a time, so the API and workers share nothing but
the database (no shared volume in Kubernetes). An object store can implement the same three methods.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from tasklane.db.engine import Database
from tasklane.db.models import ArtifactChunk, ReportArtifact

CHUNK_SIZE = 1024 * 1024


class ArtifactStore(Protocol):
    name: str

    def write(self, session: Session, artifact: ReportArtifact, source: Path) -> tuple[int, str]:
        """Store ``source`` for ``artifact`` within ``session``'s transaction; return (size, sha256)."""

    def read(self, artifact: ReportArtifact) -> Iterator[bytes]:
        """Yield the stored bytes in order, holding no database connection between chunks."""

    def delete(self, session: Session, artifact: ReportArtifact) -> None:
        """Remove the stored bytes (the artifact row is the caller's)."""


class DatabaseArtifactStore:
    name = "database"

    def __init__(self, database: Database, chunk_size: int = CHUNK_SIZE) -> None:
        self.database = database
        self.chunk_size = chunk_size

    def write(self, session: Session, artifact: ReportArtifact, source: Path) -> tuple[int, str]:
        digest = hashlib.sha256()
        size = 0
        with source.open("rb") as stream:
            for seq, chunk in enumerate(iter(lambda: stream.read(self.chunk_size), b"")):
                digest.update(chunk)
                size += len(chunk)
                session.execute(insert(ArtifactChunk).values(artifact_id=artifact.id, seq=seq, data=chunk))
        return size, digest.hexdigest()

    def read(self, artifact: ReportArtifact) -> Iterator[bytes]:
        seq = 0
        while True:
            with self.database.session() as session:
                chunk = session.scalar(
                    select(ArtifactChunk.data).where(
                        ArtifactChunk.artifact_id == artifact.id, ArtifactChunk.seq == seq
                    )
                )
            if chunk is None:
                return
            yield chunk
            seq += 1

    def delete(self, session: Session, artifact: ReportArtifact) -> None:
        session.execute(delete(ArtifactChunk).where(ArtifactChunk.artifact_id == artifact.id))


def save_artifact(
    database: Database,
    store: ArtifactStore,
    source: Path,
    *,
    business_id: uuid.UUID,
    task_id: str | None,
    filename: str,
    content_type: str,
    expires_at: datetime,
) -> ReportArtifact:
    """Store ``source`` and its metadata in one transaction: all of it, or (on any error) none of it.

    A task's file replaces any its earlier runs stored: a worker killed after storing a file but before
    its task was recorded complete runs the task again, and the first file would be an orphan until it
    expired."""
    with database.transaction() as session:
        if task_id is not None:
            for earlier in session.scalars(select(ReportArtifact).where(ReportArtifact.task_id == task_id)):
                store.delete(session, earlier)
                session.delete(earlier)
        artifact = ReportArtifact(
            id=uuid.uuid4(),
            business_id=business_id,
            task_id=task_id,
            filename=filename,
            content_type=content_type,
            size_bytes=0,
            sha256="",
            storage=store.name,
            expires_at=expires_at,
        )
        session.add(artifact)
        session.flush()
        artifact.size_bytes, artifact.sha256 = store.write(session, artifact, source)
    return artifact
