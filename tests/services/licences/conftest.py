"""Licence and payment services on a migrated database, with a clock the test moves."""

from __future__ import annotations

import pytest
from licence_accounts import Accounts, build_accounts

from elcaro.storage import Database


@pytest.fixture
def accounts(database: Database) -> Accounts:
    return build_accounts(database)
