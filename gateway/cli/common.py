"""Small pieces shared by the CLI command modules."""

from __future__ import annotations


def migrate_database(database_url: str) -> None:
    """Apply pending migrations (Alembic is imported only when a command needs it)."""
    from billing.db.migrate import upgrade_to_head

    upgrade_to_head(database_url)
