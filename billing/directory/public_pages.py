"""Published versions of the patient page: the hospital reviews a draft, then publishes it."""

from __future__ import annotations

from sqlalchemy import insert, select

from billing.db.schema import public_pages
from billing.db.transactions import Database, reading, writing
from billing.directory.records import now


async def publish_page(db: Database, html: str, *, by: str) -> None:
    """Store ``html`` as the published page (earlier versions are kept)."""
    async with writing(db) as connection:
        await connection.execute(
            insert(public_pages).values(html=html, published_at=now(), published_by=by)
        )


async def published_page(db: Database) -> str | None:
    """The page last published, or None when nothing was ever published."""
    query = select(public_pages.c.html).order_by(public_pages.c.id.desc()).limit(1)
    async with reading(db) as connection:
        return (await connection.execute(query)).scalar()
