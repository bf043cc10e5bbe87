"""Published versions of the patient page: the hospital reviews a draft, then publishes it."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.db.schema import public_pages
from billing.directory.records import now


async def publish_page(engine: AsyncEngine, html: str, *, by: str) -> None:
    """Store ``html`` as the published page (earlier versions are kept)."""
    async with engine.begin() as connection:
        await connection.execute(
            insert(public_pages).values(html=html, published_at=now(), published_by=by)
        )


async def published_page(engine: AsyncEngine) -> str | None:
    """The page last published, or None when nothing was ever published."""
    query = select(public_pages.c.html).order_by(public_pages.c.id.desc()).limit(1)
    async with engine.connect() as connection:
        return (await connection.execute(query)).scalar()
