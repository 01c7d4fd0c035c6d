"""A directory the running platform reads posts from: the simplest way to feed it signals.

Protocol: every ``*.txt`` file that appears in the inbox is one post from the source
``manual:inbox``, read like a channel post. Once its result is stored it is moved to ``done/``
(a signal, a duplicate of one, a cancel that withdrew one) or to ``rejected/`` with a ``.reason``
file of the same stem beside it (an invalid signal, a post that is not a signal, a cancel with
nothing to withdraw). A file is moved only after its result is stored: if the platform stops in
between, the file is read again at the next start and de-duplication keeps it from being fanned out
twice. Writers should create the file under another name (``*.tmp``) and rename it, as
:func:`drop_post` does, so a half-written post is never read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from elcaro.core.clock import now_ms
from elcaro.models.errors import ValidationError
from elcaro.services.signal_ingest import INBOX_REF, IngestOutcome, IngestResult, SignalIngestService

log = logging.getLogger(__name__)

DONE = "done"
REJECTED = "rejected"
DEFAULT_POLL_INTERVAL_S = 0.5
MAX_POST_BYTES = 64 * 1024
"""Far above any post (Telegram stops at 4096 characters); a larger file was dropped by mistake."""
_FILED_AS_DONE = frozenset({IngestOutcome.ACCEPTED, IngestOutcome.DUPLICATE, IngestOutcome.CANCELLED})


def inbox_directory(data_dir: Path) -> Path:
    return data_dir / "inbox"


def drop_post(directory: Path, text: str, *, clock: Callable[[], int] = now_ms) -> Path:
    """Put ``text`` into the inbox for a running platform to pick up; returns the file's path.

    Names start with the time, so posts are read in the order they were dropped.
    """
    if not text.strip():
        raise ValidationError("a post needs some text", field="text")
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{clock():013d}-{secrets.token_hex(4)}"
    partial = directory / f".{name}.tmp"
    partial.write_text(text, encoding="utf-8")
    return partial.replace(directory / f"{name}.txt")


@dataclass(frozen=True, slots=True)
class InboxItem:
    """What became of one file: the ingest result and where the file went."""

    name: str
    result: IngestResult
    filed_as: Path


class SignalInbox:
    def __init__(self, service: SignalIngestService, directory: Path, *, clock: Callable[[], int] = now_ms) -> None:
        self._service = service
        self._directory = directory
        self._clock = clock
        self._failing: set[str] = set()
        for folder in (directory, directory / DONE, directory / REJECTED):
            folder.mkdir(parents=True, exist_ok=True)

    async def process(self) -> list[InboxItem]:
        """Read every post waiting in the inbox once, oldest first."""
        items = []
        for path in self._waiting():
            item = await self._process(path)
            if item is not None:
                items.append(item)
        return items

    async def run(
        self,
        stop: asyncio.Event,
        *,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        """Poll until ``stop`` is set (a directory watch would need a platform-specific library for
        a latency nobody typing posts would notice)."""
        log.info("reading posts dropped into %s", self._directory)
        while not stop.is_set():
            await self.process()
            if sleep is not None:
                await sleep(poll_interval_s)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll_interval_s)

    def _waiting(self) -> list[Path]:
        found = []
        for path in self._directory.glob("*.txt"):
            try:
                found.append((path.stat().st_mtime_ns, path.name, path))
            except FileNotFoundError:
                continue  # taken away between listing and looking
        return [path for _, _, path in sorted(found)]

    async def _process(self, path: Path) -> InboxItem | None:
        try:
            text, refusal = _read(path)
        except FileNotFoundError:
            return None  # taken away by someone else
        except OSError as error:
            self._failed(path, f"could not be read: {error}")
            return None
        if refusal is not None:
            result = IngestResult(IngestOutcome.IGNORED, reason=refusal)
        else:
            try:
                result = await self._service.ingest_manual_post(text, self._clock(), ref=INBOX_REF)
            except Exception:
                # Most likely the database is away: the file stays and is tried again next time.
                self._failed(path, "could not be ingested", with_traceback=True)
                return None
            self._failing.discard(path.name)
        try:
            filed = self._file(path, result)
        except OSError as error:
            log.error("inbox post %s was ingested (%s) but could not be moved: %s", path.name, result.outcome, error)
            return None
        log.info("inbox post %s: %s%s", path.name, result.outcome, f" ({result.reason})" if result.reason else "")
        return InboxItem(path.name, result, filed)

    def _failed(self, path: Path, problem: str, *, with_traceback: bool = False) -> None:
        # Tried again every poll: say so once, not twice a second.
        if path.name not in self._failing:
            log.error("inbox post %s %s; it will be tried again", path.name, problem, exc_info=with_traceback)
            self._failing.add(path.name)

    def _file(self, path: Path, result: IngestResult) -> Path:
        done = result.outcome in _FILED_AS_DONE
        destination = _free_name(self._directory / (DONE if done else REJECTED), path.name)
        if not done:
            # The reason first: a rejected post is never found without it.
            reason = result.reason or str(result.outcome)
            destination.with_suffix(".reason").write_text(f"{result.outcome}: {reason}\n", encoding="utf-8")
        return path.replace(destination)


async def run_inbox(
    service: SignalIngestService,
    directory: Path,
    stop_event: asyncio.Event,
    *,
    poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    clock: Callable[[], int] = now_ms,
) -> None:
    """Feed every post dropped into ``directory`` to ``service`` until ``stop_event`` is set."""
    await SignalInbox(service, directory, clock=clock).run(stop_event, poll_interval_s=poll_interval_s, sleep=sleep)


def _read(path: Path) -> tuple[str, str | None]:
    size = path.stat().st_size
    if size > MAX_POST_BYTES:
        return "", f"{size} bytes is not a post (at most {MAX_POST_BYTES})"
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return "", "not UTF-8 text"
    if not text.strip():
        return "", "empty"
    return text, None


def _free_name(folder: Path, name: str) -> Path:
    """``name`` in ``folder``, numbered when a post of that name was filed before."""
    candidate = folder / name
    number = 1
    while candidate.exists() or candidate.with_suffix(".reason").exists():
        candidate = folder / f"{Path(name).stem}-{number}{Path(name).suffix}"
        number += 1
    return candidate
