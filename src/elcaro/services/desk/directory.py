"""Finding another user by what a person can type: ``@username``, ``#12`` (platform id) or a Telegram id.

Only users who can take part are found (approved and not banned), so a transfer or a mention never reaches
an account that is pending, rejected or banned. Usernames are matched whole, without case.
"""

from __future__ import annotations

from elcaro.models import ApprovalState, User
from elcaro.storage import Database, UnitOfWork

_PAGE = 1000


class Directory:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def find(self, text: str) -> User | None:
        query = text.strip()
        async with self._db.reading() as tx:
            if query.startswith("#") and query[1:].isdigit():
                found = await tx.users.get(int(query[1:]))
            elif query.isdigit():
                found = await tx.users.get_by_telegram_id(int(query))
            elif query.startswith("@") and len(query) > 1:
                found = await _by_username(tx, query[1:].lower())
            else:
                found = None
        if found is None or found.banned or found.approval is not ApprovalState.APPROVED:
            return None
        return found


async def _by_username(tx: UnitOfWork, name: str) -> User | None:
    offset = 0
    while True:
        page = await tx.users.list(approval=ApprovalState.APPROVED, limit=_PAGE, offset=offset)
        for user in page:
            if (user.username or "").lower() == name:
                return user
        if len(page) < _PAGE:
            return None
        offset += _PAGE
