"""The inbox directory: each dropped file read once, filed with its result, safe across restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from elcaro.core.events import EventBus
from elcaro.core.secrets import Keyring, generate_key
from elcaro.models import Signal, SignalSource, SourceKind
from elcaro.models.errors import ValidationError
from elcaro.services.signal_inbox import (
    MAX_POST_BYTES,
    SignalInbox,
    drop_post,
    inbox_directory,
    run_inbox,
)
from elcaro.services.signal_ingest import IngestOutcome, IngestResult, SignalIngestService
from elcaro.storage import Database, SignalStatus

pytestmark = pytest.mark.db

T0 = 1_732_190_400_000
SCALPER = "SCALPER SHORT DOGEUSDT @ 0.08112"
SCRYPTOMERA = "SCRIPTOMER LONG ARBUSDT @ 1.0825"
INCONSISTENT = "ETH/USDT LONG\nBuy 3385\nTake Profit 3450\nStop 3400"


class Recorder:
    def __init__(self) -> None:
        self.signals: list[Signal] = []

    async def on_signal(self, signal: Signal) -> None:
        self.signals.append(signal)

    async def on_cancel(self, signal_id: int) -> None:
        return None


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def ingest(database: Database, recorder: Recorder) -> AsyncIterator[SignalIngestService]:
    service = SignalIngestService(
        database, Keyring([generate_key()]), EventBus(), recorder.on_signal, recorder.on_cancel
    )
    yield service
    await service.close()


@pytest.fixture
def inbox_dir(tmp_path: Path) -> Path:
    return inbox_directory(tmp_path / "data")


def listing(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


async def stored(database: Database) -> list[tuple[SignalStatus, str]]:
    async with database.transaction() as tx:
        return [(r.status, r.raw_text) for r in reversed(await tx.signals.list_recent(100))]


def test_drop_post_writes_whole_files_named_in_order(inbox_dir: Path) -> None:
    first = drop_post(inbox_dir, SCALPER, clock=lambda: T0)
    second = drop_post(inbox_dir, SCRYPTOMERA, clock=lambda: T0 + 1)
    assert first.parent == inbox_dir and first.suffix == ".txt" and first.name < second.name
    assert first.read_text(encoding="utf-8") == SCALPER
    assert listing(inbox_dir) == sorted([first.name, second.name])  # no temporary file left behind
    with pytest.raises(ValidationError, match="needs some text"):
        drop_post(inbox_dir, " \n ")


async def test_each_post_is_ingested_once_and_filed_with_its_result(
    ingest: SignalIngestService, database: Database, recorder: Recorder, inbox_dir: Path
) -> None:
    inbox = SignalInbox(ingest, inbox_dir, clock=lambda: T0)
    assert listing(inbox_dir) == ["done", "rejected"]  # made at start
    accepted = drop_post(inbox_dir, SCALPER)
    (inbox_dir / "bad.txt").write_text(INCONSISTENT, encoding="utf-8")
    (inbox_dir / "chat.txt").write_text("gm everyone", encoding="utf-8")
    (inbox_dir / "notes.md").write_text(SCRYPTOMERA, encoding="utf-8")

    items = await inbox.process()
    await ingest.close()

    assert {item.name: item.result.outcome for item in items} == {
        accepted.name: IngestOutcome.ACCEPTED,
        "bad.txt": IngestOutcome.REJECTED,
        "chat.txt": IngestOutcome.IGNORED,
    }
    assert listing(inbox_dir) == ["done", "notes.md", "rejected"]
    assert listing(inbox_dir / "done") == [accepted.name]
    assert listing(inbox_dir / "rejected") == ["bad.reason", "bad.txt", "chat.reason", "chat.txt"]
    assert (inbox_dir / "rejected" / "bad.reason").read_text(encoding="utf-8") == (
        "rejected: cornix_free: a long's stop 3400 must be below its entry 3385\n"
    )
    assert (inbox_dir / "rejected" / "chat.reason").read_text(encoding="utf-8") == "ignored: not a signal\n"
    [signal] = recorder.signals
    assert signal.source == SignalSource(SourceKind.MANUAL, "inbox") and signal.received_at == T0
    assert await stored(database) == [(SignalStatus.ACCEPTED, SCALPER), (SignalStatus.REJECTED, INCONSISTENT)]
    assert await inbox.process() == []  # filed posts are not read again


async def test_files_that_are_not_posts_are_rejected_with_the_reason(
    ingest: SignalIngestService, database: Database, inbox_dir: Path
) -> None:
    inbox = SignalInbox(ingest, inbox_dir)
    (inbox_dir / "empty.txt").write_text("  \n", encoding="utf-8")
    (inbox_dir / "binary.txt").write_bytes(b"\xff\xfe\x00garbage")
    (inbox_dir / "huge.txt").write_text("x" * (MAX_POST_BYTES + 1), encoding="utf-8")
    await inbox.process()
    reasons = {
        path.stem: path.read_text(encoding="utf-8").strip() for path in (inbox_dir / "rejected").glob("*.reason")
    }
    assert reasons == {
        "empty": "ignored: empty",
        "binary": "ignored: not UTF-8 text",
        "huge": f"ignored: {MAX_POST_BYTES + 1} bytes is not a post (at most {MAX_POST_BYTES})",
    }
    assert await stored(database) == []


async def test_a_repeated_file_name_is_filed_beside_the_first(
    ingest: SignalIngestService, recorder: Recorder, inbox_dir: Path
) -> None:
    inbox = SignalInbox(ingest, inbox_dir)
    for text in (SCALPER, SCALPER, SCRYPTOMERA):
        (inbox_dir / "post.txt").write_text(text, encoding="utf-8")
        await inbox.process()
    await ingest.close()
    assert listing(inbox_dir / "done") == ["post-1.txt", "post-2.txt", "post.txt"]
    assert (inbox_dir / "done" / "post-2.txt").read_text(encoding="utf-8") == SCRYPTOMERA
    assert len(recorder.signals) == 2  # the second SCALPER post was a duplicate


async def test_a_restart_between_storing_and_moving_never_fans_out_twice(
    database: Database, recorder: Recorder, inbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring = Keyring([generate_key()])
    before = SignalIngestService(database, keyring, EventBus(), recorder.on_signal, recorder.on_cancel)
    path = drop_post(inbox_dir, SCALPER)

    def crash(self: Path, target: Path) -> Path:
        raise OSError("the platform stopped here")

    with monkeypatch.context() as patched:
        patched.setattr(Path, "replace", crash)
        assert await SignalInbox(before, inbox_dir).process() == []
    await before.close()
    assert path.exists() and len(recorder.signals) == 1

    after = SignalIngestService(database, keyring, EventBus(), recorder.on_signal, recorder.on_cancel)
    [item] = await SignalInbox(after, inbox_dir).process()
    await after.close()
    assert item.result.outcome is IngestOutcome.DUPLICATE
    assert item.filed_as == inbox_dir / "done" / path.name and not path.exists()
    assert len(recorder.signals) == 1
    assert [status for status, _ in await stored(database)] == [SignalStatus.ACCEPTED, SignalStatus.DUPLICATE]


class FlakyIngest(SignalIngestService):
    """The database goes away for the first attempt."""

    failures = 1

    async def ingest_manual_post(
        self, text: str, received_at: int, *, ref: str = "inbox", actor_id: int | None = None
    ) -> IngestResult:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database unreachable")
        return await super().ingest_manual_post(text, received_at, ref=ref, actor_id=actor_id)


async def test_a_post_that_cannot_be_ingested_stays_for_the_next_round(
    database: Database, recorder: Recorder, inbox_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ingest = FlakyIngest(database, Keyring([generate_key()]), EventBus(), recorder.on_signal, recorder.on_cancel)
    inbox = SignalInbox(ingest, inbox_dir)
    path = drop_post(inbox_dir, SCALPER)
    assert await inbox.process() == []
    assert path.exists() and "could not be ingested; it will be tried again" in caplog.text
    [item] = await inbox.process()
    await ingest.close()
    assert item.result.outcome is IngestOutcome.ACCEPTED and len(recorder.signals) == 1


async def test_run_inbox_reads_posts_until_stopped(
    ingest: SignalIngestService, recorder: Recorder, inbox_dir: Path
) -> None:
    stop = asyncio.Event()
    rounds: list[float] = []

    async def sleep(seconds: float) -> None:
        rounds.append(seconds)
        if len(rounds) == 1:
            drop_post(inbox_dir, SCRYPTOMERA)  # arrives while the platform runs
        else:
            stop.set()

    drop_post(inbox_dir, SCALPER)
    await run_inbox(ingest, inbox_dir, stop, poll_interval_s=0.25, sleep=sleep)
    await ingest.close()
    assert rounds == [0.25, 0.25]
    assert sorted(s.strategy for s in recorder.signals) == ["scalper", "scryptomera"]
    assert len(listing(inbox_dir / "done")) == 2


async def test_run_inbox_ends_as_soon_as_it_is_told_to_stop(database: Database, inbox_dir: Path) -> None:
    handed = asyncio.Event()

    async def on_signal(signal: Signal) -> None:
        handed.set()

    ingest = SignalIngestService(database, Keyring([generate_key()]), EventBus(), on_signal, Recorder().on_cancel)
    stop = asyncio.Event()
    drop_post(inbox_dir, SCALPER)
    running = asyncio.create_task(run_inbox(ingest, inbox_dir, stop, poll_interval_s=3600))
    await handed.wait()
    stop.set()
    await running  # an hour-long poll interval does not delay the stop
    await ingest.close()
    assert len(listing(inbox_dir / "done")) == 1
