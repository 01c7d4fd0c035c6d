from decimal import Decimal as D

import pytest

from elcaro.models import Entry, EntryKind, PositionSide, Signal, SignalSource, SourceKind, TakeProfit
from elcaro.models.errors import InvalidSignalError

SOURCE = SignalSource(SourceKind.CHANNEL, "-100123")


def signal(side: PositionSide = PositionSide.LONG, entry: Entry | None = None, **kwargs: object) -> Signal:
    return Signal(
        source=SOURCE,
        strategy="cornix",
        symbol="SOL/USDT:USDT",
        side=side,
        entry=entry or Entry(EntryKind.ZONE, (D("141.5"), D("144"))),
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_consistent_long() -> None:
    s = signal(
        take_profits=(
            TakeProfit(D("148"), D("0.4")),
            TakeProfit(D("152.5"), D("0.35")),
            TakeProfit(D("158"), D("0.25")),
        ),
        stop_loss=D("137.2"),
        leverage=D("5"),
    )
    assert s.entry.reference_price == D("142.75")


def test_a_consistent_short_ladder() -> None:
    signal(
        PositionSide.SHORT,
        Entry(EntryKind.LADDER, (D("3385"), D("3410")), (D("0.5"), D("0.5"))),
        take_profits=(TakeProfit(D("3320")), TakeProfit(D("3275"))),
        stop_loss=D("3468"),
    )


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"stop_loss": D("145")}, "stop 145 must be below its entry 141.5"),
        ({"side": PositionSide.SHORT, "stop_loss": D("140")}, "stop 140 must be above its entry 144"),
        ({"take_profits": (TakeProfit(D("143")),)}, "target 143 must be above its entry 144"),
        ({"take_profits": (TakeProfit(D("1480")),)}, "more than ×10 apart"),
        ({"take_profits": (TakeProfit(D("150")), TakeProfit(D("149")))}, "one after another"),
        ({"leverage": D("500")}, "leverage 500 is outside"),
        ({"take_profits": (TakeProfit(D("150"), D("0.7")), TakeProfit(D("155"), D("0.7")))}, "add up to at most"),
        ({"take_profits": (TakeProfit(D("150"), D("0.5")), TakeProfit(D("155")))}, "a share for every target"),
    ],
)
def test_inconsistent_signals_are_refused_with_a_reason(kwargs: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidSignalError, match=reason):
        signal(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "prices"),
    [
        (EntryKind.ZONE, (D(2), D(1))),
        (EntryKind.LIMIT, ()),
        (EntryKind.LADDER, (D(1),)),
        (EntryKind.MARKET, (D(1), D(2))),
    ],
)
def test_entry_shapes(kind: EntryKind, prices: tuple[D, ...]) -> None:
    with pytest.raises(InvalidSignalError):
        Entry(kind, prices)


def test_content_hash_ignores_spacing_and_case_but_not_source() -> None:
    a = signal(raw_text="SOL/USDT\nBuy zone 141.5-144")
    b = signal(raw_text="sol/usdt   buy zone 141.5-144 ")
    assert a.content_hash == b.content_hash
    other = Signal(
        SignalSource(SourceKind.CHANNEL, "-100999"), "cornix", a.symbol, a.side, a.entry, raw_text=a.raw_text
    )
    assert other.content_hash != a.content_hash
