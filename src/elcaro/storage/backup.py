"""Backups: an online copy while the platform runs, and a restore with the platform stopped.

SQLite goes through SQLite's own backup API, which copies a consistent snapshot page by page (WAL
included) even while another connection writes. PostgreSQL goes through ``pg_dump`` and
``pg_restore``, which must be on PATH and not older than the server.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from elcaro.core.clock import now_ms, to_datetime
from elcaro.models.errors import ElcaroError
from elcaro.storage.database import Database
from elcaro.storage.engine import dialect_of, sqlite_path


class BackupError(ElcaroError):
    """A backup or restore failed; the message says why (never with a password)."""


async def backup(db: Database, destination: Path) -> Path:
    """Write a backup of ``db`` and return its path.

    ``destination`` is the file to write, or an existing directory to put a time-stamped file in.
    The file appears only once complete and checked, so a failed backup never looks like a good one.
    """
    suffix = ".sqlite3" if db.dialect == "sqlite" else ".pgdump"
    destination = await asyncio.to_thread(_backup_file, destination, suffix)
    partial = destination.with_name(destination.name + ".partial")
    try:
        if db.dialect == "sqlite":
            await asyncio.to_thread(_sqlite_copy, sqlite_path(db.url), partial, check_source=False)
        else:
            await _run_pg("pg_dump", make_url(db.url), "--format=custom", f"--file={partial}")
            await _run_pg("pg_restore", None, "--list", str(partial))  # reads the whole archive back
        await asyncio.to_thread(partial.replace, destination)
    finally:
        await asyncio.to_thread(partial.unlink, missing_ok=True)
    return destination


async def restore(url: str, source: Path) -> None:
    """Replace the database at ``url`` with the backup in ``source``.

    Stop the platform first: connections open during a restore would keep working on (or writing
    into) what is being replaced. The source is checked before anything is touched; on PostgreSQL
    the restore is one transaction, so a failure leaves the database as it was.
    """
    if not await asyncio.to_thread(source.is_file):
        raise BackupError(f"no backup file at {source}")
    if dialect_of(url) == "sqlite":
        await asyncio.to_thread(_sqlite_copy, source, sqlite_path(url), check_source=True)
    else:
        await _run_pg(
            "pg_restore", make_url(url), "--clean", "--if-exists", "--no-owner", "--single-transaction", str(source)
        )


def _backup_file(destination: Path, suffix: str) -> Path:
    if destination.is_dir():
        destination = destination / f"elcaro-{to_datetime(now_ms()):%Y%m%d-%H%M%S}{suffix}"
    destination.parent.mkdir(parents=True, exist_ok=True)
    return destination


def _sqlite_copy(source: Path, target: Path, *, check_source: bool) -> None:
    if check_source:
        _check_integrity(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    # mode=ro: a backup source is never written to, and a missing file is an error rather than a new database.
    with closing(sqlite3.connect(_read_only(source), uri=True)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)  # one step: a single read transaction, hence one consistent snapshot
        if not check_source:
            # The copy inherits WAL mode from the live database; a backup should be one self-contained file.
            dst.execute("PRAGMA journal_mode=DELETE")
    if not check_source:
        _check_integrity(target)


def _read_only(path: Path) -> str:
    return f"{path.resolve().as_uri()}?mode=ro"


def _check_integrity(path: Path) -> None:
    try:
        with closing(sqlite3.connect(_read_only(path), uri=True)) as connection:
            problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a usable SQLite database: {exc}") from None
    if problems != ["ok"]:
        raise BackupError(f"{path} failed the integrity check: {'; '.join(problems[:5])}")


async def _run_pg(tool: str, url: URL | None, *arguments: str) -> None:
    """Run a PostgreSQL client tool against ``url``; the password travels in the environment, not argv."""
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(f"{tool} is not on PATH: install the PostgreSQL client tools (the server's version or newer)")
    env = dict(os.environ)
    command = [executable, *arguments]
    if url is not None:
        if url.password is not None:
            env["PGPASSWORD"] = str(url.password)
        command.append(f"--dbname={_libpq_url(url)}")
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        message = stderr.decode(errors="replace").strip()
        if url is not None and url.password:
            message = message.replace(str(url.password), "***")
        raise BackupError(f"{tool} failed (exit code {process.returncode}): {message}")


def _libpq_url(url: URL) -> str:
    """``postgresql+asyncpg://user:pw@host/db?ssl=require`` → ``postgresql://user@host/db?sslmode=require``."""
    query = dict(url.query)
    if "ssl" in query:
        query["sslmode"] = query.pop("ssl")
    plain = url.set(drivername="postgresql", query=query)._replace(password=None)  # set() treats None as "keep"
    return plain.render_as_string(hide_password=False)
