"""Operator tasks on the database: migrate, back up, restore."""

from __future__ import annotations

from pathlib import Path

from elcaro.core.clock import now_ms, to_datetime
from elcaro.core.config import Settings
from elcaro.services.platform import open_database
from elcaro.storage import backup, migrate, restore


async def upgrade_database(settings: Settings, revision: str = "head") -> str | None:
    """Migrate the schema; returns the revision now in force."""
    url = settings.resolved_database_url
    await migrate.upgrade_async(url, revision)
    return await migrate.current_async(url)


async def backup_database(settings: Settings, destination: Path | None = None) -> Path:
    """A consistent copy of the live database (default: ``<data_dir>/backups/elcaro-<UTC time>``)."""
    if destination is None:
        stamp = to_datetime(now_ms()).strftime("%Y%m%dT%H%M%SZ")
        destination = settings.data_dir / "backups" / f"elcaro-{stamp}.backup"
    database = open_database(settings)
    try:
        return await backup(database, destination)
    finally:
        await database.close()


async def restore_database(settings: Settings, source: Path) -> None:
    """Replace the database with a backup. Stop the platform first."""
    await restore(settings.resolved_database_url, source)
