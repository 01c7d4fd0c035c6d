"""Long id lists split for ``IN (…)``: each id is a bound parameter, and both backends cap those near 32,767."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

#: Ids per statement: a fan-out to 10,000 users is still one query.
BATCH = 10_000


def id_batches(ids: Iterable[int]) -> Iterator[list[int]]:
    """Distinct ids, at most ``BATCH`` at a time; nothing for no ids."""
    distinct = list(dict.fromkeys(ids))
    for start in range(0, len(distinct), BATCH):
        yield distinct[start : start + BATCH]
