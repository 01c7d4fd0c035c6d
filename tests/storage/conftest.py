"""Fixtures of the storage tests."""

from __future__ import annotations

import pytest
from storage_builders import add_user

from elcaro.storage import Database


@pytest.fixture
async def user_id(database: Database) -> int:
    """A registered user, in a committed transaction."""
    async with database.transaction() as tx:
        return await add_user(tx, 42)
