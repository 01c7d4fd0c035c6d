"""Sample posts shared by the signal tests: the SIGNALS.md examples, variants, non-signals, rejects."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal as D

from elcaro.models import (
    AtrExit,
    Entry,
    EntryKind,
    PositionSide,
    Signal,
    SignalCancel,
    SignalSource,
    SourceKind,
    TakeProfit,
)

SOURCE = SignalSource(SourceKind.CHANNEL, "-1001234567890")
LONG, SHORT = PositionSide.LONG, PositionSide.SHORT
MARKET, LIMIT, LADDER, ZONE, TRIGGER = (
    EntryKind.MARKET,
    EntryKind.LIMIT,
    EntryKind.LADDER,
    EntryKind.ZONE,
    EntryKind.TRIGGER,
)


def tps(*prices: str, shares: tuple[str, ...] = ()) -> tuple[TakeProfit, ...]:
    return tuple(TakeProfit(D(p), D(shares[i]) if shares else None) for i, p in enumerate(prices))


def entry(kind: EntryKind, *prices: str, shares: tuple[str, ...] = ()) -> Entry:
    return Entry(kind, tuple(D(p) for p in prices), tuple(D(s) for s in shares))


@dataclass(frozen=True)
class Example:
    """A SIGNALS.md example and the one result it must give, every field of it."""

    parser: str
    text: str
    expected: Signal | SignalCancel
    details: dict[str, str] = field(default_factory=dict)
    in_signals_md: bool = True
    """SIGNALS.md describes generic posts in words only; that example is built from the description."""


def _signal(text: str, **fields: object) -> Signal:
    return Signal(source=SOURCE, raw_text=text, **fields)  # type: ignore[arg-type]


SCRYPTOMERA = "SCRIPTOMER LONG ARBUSDT @ 1.0825"
SCALPER = "SCALPER SHORT DOGEUSDT @ 0.08112"
RSI_BB = """🔴 SHORT OPUSDT
📊 Score: 63% ⭐ B
📈 (BB:22 RSI:81 Vol:3 OI:1)
⏱ TF: 15m
💲 Entry: 2.4410
🎯 TP1: 2.3120 (3.0×ATR)
🎯 TP2: 2.2480 (4.5×ATR)
🛑 SL: 2.5270 (2.0×ATR)
📏 ATR: 0.0430
📊 RSI(14): 81.2"""
ELCARO = """Elcaro
🔔 LINKUSDT 📈 LONG 🟢🟢⚪
⏱️ 4h | 🎚 12
💰 Entry: 14.2300
🛑 SL: 13.4100 (5.76%)
🎯 TP: 16.6900 (17.29%)
📊 RR: 3.0:1 | ATR Exit: ✅
📉 ATR: 14 | ×1.5 | Trigger: 6%"""
FIBONACCI = """📊 FIBONACCI EXTENSION STRATEGY
🪙 AVAXUSDT | —
📈 LONG
⏱ TF: 60
🎯 Entry Zone: 27.10 – 27.85
🛑 Stop Loss: 25.90
✅ Target 1: 29.40
✅ Target 2: 31.05
⚡ Trigger: Price in 127.2%-141.4% zone
🟢 Quality: B (71/100)"""
OI = """🎯 OI SIGNAL ⭐️⭐️⭐️
🚀 SQUEEZE
📉 SHORT SUIUSDT @ 1.6230
📊 OI: +7.85% | Vol z=2.4 | CVD z=-1.9
🎯 Score: 3.6"""
GENERIC = """⚡ TF: 1h
LONG ENAUSDT
Price: 0.4521
OI Total: 51.2M (+312.4%, z=40.1)
Vol 8.4M → 21M
RSI: 78.4 | BB: 1.12"""
CORNIX_FREE = """SOL/USDT
Buy zone 141.5-144
Take Profit 148 152.5 158
Stop 137.2
Leverage 5x"""
CORNIX_STRUCTURED = """⚡⚡ #ETH/USDT ⚡⚡
Exchanges: Bybit USDT
Signal Type: Regular (Short)
Leverage: Isolated (20.0X)
Entry Targets:
1) 3385 - 50%
2) 3410 - 50%
Take-Profit Targets:
1) 3320 - 40%
2) 3275 - 35%
3) 3190 - 25%
Stop Targets:
1) 3468 - 100%"""
CANCEL = "Cancel #ETH/USDT"
CANCEL_EMOJI = "❌ Cancel #ETHUSDT"

EXAMPLES: dict[str, Example] = {
    "scryptomera": Example(
        "scryptomera",
        SCRYPTOMERA,
        _signal(
            SCRYPTOMERA,
            strategy="scryptomera",
            symbol="ARB/USDT:USDT",
            side=LONG,
            entry=entry(MARKET, "1.0825"),
        ),
    ),
    "scalper": Example(
        "scalper",
        SCALPER,
        _signal(SCALPER, strategy="scalper", symbol="DOGE/USDT:USDT", side=SHORT, entry=entry(MARKET, "0.08112")),
    ),
    "rsi_bb": Example(
        "rsi_bb",
        RSI_BB,
        _signal(
            RSI_BB,
            strategy="rsi_bb",
            symbol="OP/USDT:USDT",
            side=SHORT,
            entry=entry(LIMIT, "2.4410"),
            take_profits=tps("2.3120", "2.2480"),
            stop_loss=D("2.5270"),
            timeframe="15m",
            score=D("63"),
            quality="B",
            rsi=D("81.2"),
        ),
        {
            "indicators": "BB:22 RSI:81 Vol:3 OI:1",
            "tp1_atr_multiple": "3.0",
            "tp2_atr_multiple": "4.5",
            "sl_atr_multiple": "2.0",
            "atr": "0.043",
        },
    ),
    "elcaro": Example(
        "elcaro",
        ELCARO,
        _signal(
            ELCARO,
            strategy="elcaro",
            symbol="LINK/USDT:USDT",
            side=LONG,
            entry=entry(LIMIT, "14.2300"),
            take_profits=tps("16.6900"),
            stop_loss=D("13.4100"),
            leverage=D("12"),
            timeframe="4h",
            atr_exit=AtrExit(14, D("1.5"), D("6")),
        ),
        {"strength": "2/3", "risk_reward": "3", "stop_pct": "5.76", "tp1_pct": "17.29"},
    ),
    "fibonacci": Example(
        "fibonacci",
        FIBONACCI,
        _signal(
            FIBONACCI,
            strategy="fibonacci",
            symbol="AVAX/USDT:USDT",
            side=LONG,
            entry=entry(ZONE, "27.10", "27.85"),
            take_profits=tps("29.40", "31.05"),
            stop_loss=D("25.90"),
            timeframe="1h",
            quality="B",
            quality_score=D("71"),
        ),
        {"trigger": "Price in 127.2%-141.4% zone"},
    ),
    "oi": Example(
        "oi",
        OI,
        _signal(
            OI,
            strategy="oi",
            symbol="SUI/USDT:USDT",
            side=SHORT,
            entry=entry(MARKET, "1.6230"),
            score=D("3.6"),
            oi_change_pct=D("7.85"),
        ),
        {"stars": "3", "pattern": "SQUEEZE", "volume_z": "2.4", "cvd_z": "-1.9"},
    ),
    "generic": Example(
        "generic",
        GENERIC,
        _signal(
            GENERIC,
            strategy="generic",
            symbol="ENA/USDT:USDT",
            side=LONG,
            entry=entry(MARKET, "0.4521"),
            timeframe="1h",
            rsi=D("78.4"),
            oi_change_pct=D("312.4"),
        ),
        {
            "oi_total": "51200000",
            "oi_z": "40.1",
            "volume_before": "8400000",
            "volume_after": "21000000",
            "bb": "1.12",
        },
        in_signals_md=False,
    ),
    "cornix_free": Example(
        "cornix_free",
        CORNIX_FREE,
        _signal(
            CORNIX_FREE,
            strategy="cornix",
            symbol="SOL/USDT:USDT",
            side=LONG,
            entry=entry(ZONE, "141.5", "144"),
            take_profits=tps("148", "152.5", "158"),
            stop_loss=D("137.2"),
            leverage=D("5"),
        ),
    ),
    "cornix_structured": Example(
        "cornix_structured",
        CORNIX_STRUCTURED,
        _signal(
            CORNIX_STRUCTURED,
            strategy="cornix",
            symbol="ETH/USDT:USDT",
            side=SHORT,
            entry=entry(LADDER, "3385", "3410", shares=("0.5", "0.5")),
            take_profits=tps("3320", "3275", "3190", shares=("0.4", "0.35", "0.25")),
            stop_loss=D("3468"),
            leverage=D("20"),
        ),
        {"signal_type": "regular", "exchanges": "Bybit USDT", "margin_mode": "isolated"},
    ),
    "cancel": Example("cancel", CANCEL, SignalCancel(SOURCE, "ETH/USDT:USDT", raw_text=CANCEL)),
    "cancel_emoji": Example("cancel", CANCEL_EMOJI, SignalCancel(SOURCE, "ETH/USDT:USDT", raw_text=CANCEL_EMOJI)),
}


@dataclass(frozen=True)
class Variant:
    """A real-world variation of a format and the fields it must read to (unlisted ones: defaults)."""

    parser: str
    text: str
    fields: dict[str, object]


def variant(parser: str, text: str, **fields: object) -> Variant:
    return Variant(parser, text, fields)


_ARB = {"symbol": "ARB/USDT:USDT", "entry": entry(MARKET, "1.0825")}
_DOGE = {"symbol": "DOGE/USDT:USDT", "side": SHORT, "entry": entry(MARKET, "0.08112")}
_OP_SHORT = {
    "symbol": "OP/USDT:USDT",
    "side": SHORT,
    "entry": entry(LIMIT, "2.4410"),
    "take_profits": tps("2.3120", "2.2480"),
    "stop_loss": D("2.5270"),
}
_SUI = {"symbol": "SUI/USDT:USDT", "entry": entry(MARKET, "1.6230")}
_SOL_LONG = {"symbol": "SOL/USDT:USDT", "side": LONG, "take_profits": tps("148", "152.5", "158")}
_ETH_SHORT = {
    "symbol": "ETH/USDT:USDT",
    "side": SHORT,
    "entry": entry(LADDER, "3385", "3410", shares=("0.5", "0.5")),
    "take_profits": tps("3320", "3275", "3190", shares=("0.4", "0.35", "0.25")),
    "stop_loss": D("3468"),
}

VARIANTS: list[Variant] = [
    # scryptomera: case, spacing, spelling, order, no '@', '#'/'/'/'.P' pairs, decimal comma
    variant("scryptomera", "scriptomer long arbusdt @ 1.0825", side=LONG, **_ARB),
    variant("scryptomera", "SCRIPTOMER   LONG   #ARB/USDT   @1.0825", side=LONG, **_ARB),
    variant("scryptomera", "🟢 SCRYPTOMERA LONG ARBUSDT @ 1.0825", side=LONG, **_ARB),
    variant("scryptomera", "SCRIPTOMER ARBUSDT LONG @ 1.0825", side=LONG, **_ARB),
    variant("scryptomera", "SCRIPTOMER: SHORT ARB-USDT 1.0825", side=SHORT, **_ARB),
    variant("scryptomera", "Signal of the hour\nSCRIPTOMER LONG ARBUSDT.P @ 1,0825", side=LONG, **_ARB),
    # scalper
    variant("scalper", "scalper short dogeusdt @ 0.08112", **_DOGE),
    variant("scalper", "⚡️ SCALPER SHORT DOGE/USDT @ 0.08112", **_DOGE),
    variant("scalper", "SCALPER SHORT #DOGEUSDT @0.08112", **_DOGE),
    variant("scalper", "SCALPER  DOGEUSDT  SHORT  @  0.08112", **_DOGE),
    variant("scalper", "SCALPER SHORT DOGEUSDT at 0.08112 🔥", **_DOGE),
    variant(
        "scalper",
        "SCALPER LONG 1000PEPEUSDT @ 0.01234",
        symbol="1000PEPE/USDT:USDT",
        side=LONG,
        entry=entry(MARKET, "0.01234"),
    ),
    # rsi_bb
    variant(
        "rsi_bb",
        "🟩 LONG #BTC/USDT\n⭐️ Score: 71 % ⭐️ A\n(BB:-12 RSI:24 Vol:2 OI:3)\n⏱️ TF: 1H\nEntry: 67,250.5\n"
        "TP1: 68,100 (2.0×ATR)\nTP2: 69,000.5 (4.0×ATR)\nSL: 66,400 (2.0×ATR)",
        symbol="BTC/USDT:USDT",
        side=LONG,
        entry=entry(LIMIT, "67250.5"),
        take_profits=tps("68100", "69000.5"),
        stop_loss=D("66400"),
        timeframe="1h",
        score=D("71"),
        quality="A",
        rsi=D("24"),
    ),
    variant(
        "rsi_bb",
        "🔴SHORT OPUSDT\nscore: 63%\n(bb:22 rsi:81)\nentry: 2.4410\ntp1: 2.3120\ntp2: 2.2480\nsl: 2.5270",
        score=D("63"),
        rsi=D("81"),
        **_OP_SHORT,
    ),
    variant(
        "rsi_bb",
        "🔴 SHORT OPUSDT\n🛑 SL: 2.5270\n🎯 TP2: 2.2480\n🎯 TP1: 2.3120\n💲 Entry: 2.4410\n📊 Score: 63% ⭐ B",
        score=D("63"),
        quality="B",
        **_OP_SHORT,
    ),
    variant(
        "rsi_bb",
        "🔴 SHORT OPUSDT\n📊 Score: 63% ⭐ B\nEntry: 2,4410\nTP1: 2,3120\nTP2: 2,2480\nSL: 2,5270",
        score=D("63"),
        quality="B",
        **_OP_SHORT,
    ),
    variant(
        "rsi_bb",
        "🔴  SHORT   OP/USDT\n📊 Score : 63% ⭐ B\n⏱ Timeframe: 15\nEntry : 2.4410\nTP 1: 2.3120\nTP 2: 2.2480\n"
        "Stop Loss: 2.5270\n📊 RSI: 81.2",
        score=D("63"),
        quality="B",
        timeframe="15m",
        rsi=D("81.2"),
        **_OP_SHORT,
    ),
    # elcaro
    variant(
        "elcaro",
        "ELCARO\n🔔 LINKUSDT 📈 LONG 🟢🟢⚪\n⏱ 4H | 🎚️ 12x\n💰 Entry: 14.2300\n🛑 SL: 13.4100 (5.76%)\n"
        "🎯 TP: 16.6900 (17.29%)",
        symbol="LINK/USDT:USDT",
        side=LONG,
        entry=entry(LIMIT, "14.2300"),
        take_profits=tps("16.6900"),
        stop_loss=D("13.4100"),
        leverage=D("12"),
        timeframe="4h",
    ),
    variant(
        "elcaro",
        "Elcaro\n🎯 TP: 85 (15.00%)\n🛑 SL: 105 (5.00%)\n💰 Entry: 100\n🔔 #SOL/USDT 📉 SHORT 🔴⚪⚪\n⏱️ 1h | 🎚 3\n"
        "📉 ATR: 21 | ×2 | Trigger: 2.5%",
        symbol="SOL/USDT:USDT",
        side=SHORT,
        entry=entry(LIMIT, "100"),
        take_profits=tps("85"),
        stop_loss=D("105"),
        leverage=D("3"),
        timeframe="1h",
        atr_exit=AtrExit(21, D("2"), D("2.5")),
    ),
    variant(
        "elcaro",
        ELCARO.replace("ATR Exit: ✅", "ATR Exit: ❌"),
        symbol="LINK/USDT:USDT",
        side=LONG,
        entry=entry(LIMIT, "14.2300"),
        take_profits=tps("16.6900"),
        stop_loss=D("13.4100"),
        leverage=D("12"),
        timeframe="4h",
    ),
    variant(
        "elcaro",
        "elcaro\nLINKUSDT LONG\n⏱ 60\nEntry: 14.23\nSL: 13.41\nTP1: 16.69\nTP2: 17.5",
        symbol="LINK/USDT:USDT",
        side=LONG,
        entry=entry(LIMIT, "14.23"),
        take_profits=tps("16.69", "17.5"),
        stop_loss=D("13.41"),
        timeframe="1h",
    ),
    variant(
        "elcaro",
        "🤖 ElCaro Signal\n🔔 BTCUSDT 📈 LONG\nTF: 15m\nLev: 5x\n💰 Entry: 67,250.0\n🛑 SL: 65,900.0 (2.01%)\n"
        "🎯 TP: 71,300.0 (6.02%)",
        symbol="BTC/USDT:USDT",
        side=LONG,
        entry=entry(LIMIT, "67250.0"),
        take_profits=tps("71300.0"),
        stop_loss=D("65900.0"),
        leverage=D("5"),
        timeframe="15m",
    ),
    # fibonacci
    variant(
        "fibonacci",
        FIBONACCI.replace("27.10 – 27.85", "27.85 - 27.10"),
        symbol="AVAX/USDT:USDT",
        side=LONG,
        entry=entry(ZONE, "27.10", "27.85"),
        take_profits=tps("29.40", "31.05"),
        stop_loss=D("25.90"),
        timeframe="1h",
        quality="B",
        quality_score=D("71"),
    ),
    variant(
        "fibonacci",
        "📊 FIBONACCI EXTENSION STRATEGY\n🪙 AVAXUSDT | —\n📉 SHORT\n🎯 Entry Zone: 27.10 — 27.85\n"
        "🛑 Stop Loss: 29.00\n✅ Target 1: 25.90\n✅ Target 2: 24.50",
        symbol="AVAX/USDT:USDT",
        side=SHORT,
        entry=entry(ZONE, "27.10", "27.85"),
        take_profits=tps("25.90", "24.50"),
        stop_loss=D("29.00"),
    ),
    variant(
        "fibonacci",
        "Fibonacci extension\nAVAXUSDT\nlong\ntf: 4h\nentry zone: 27.10 to 27.85\nstop loss: 25.90\n"
        "target 2: 31.05\ntarget 1: 29.40\nquality: a",
        symbol="AVAX/USDT:USDT",
        side=LONG,
        entry=entry(ZONE, "27.10", "27.85"),
        take_profits=tps("29.40", "31.05"),
        stop_loss=D("25.90"),
        timeframe="4h",
        quality="A",
    ),
    variant(
        "fibonacci",
        "📊 FIBONACCI EXTENSION STRATEGY\n🪙 AVAXUSDT\n📈 LONG\n🎯 Entry: 27.50\n🛑 SL: 25.90\n✅ TP1: 29.40\n"
        "🟢 Quality: (85/100)",
        symbol="AVAX/USDT:USDT",
        side=LONG,
        entry=entry(LIMIT, "27.50"),
        take_profits=tps("29.40"),
        stop_loss=D("25.90"),
        quality_score=D("85"),
    ),
    variant(
        "fibonacci",
        "📊 FIBONACCI EXTENSION STRATEGY\n🪙 #AVAX/USDT | Bybit\n📈 LONG\n⏱ TF: 240\n🎯 Entry Zone: 27.10–27.85\n"
        "🛑 Stop Loss: 25.90\n✅ Target 1: 29.40\n🟡 Quality: C+ (55/100)",
        symbol="AVAX/USDT:USDT",
        side=LONG,
        entry=entry(ZONE, "27.10", "27.85"),
        take_profits=tps("29.40"),
        stop_loss=D("25.90"),
        timeframe="4h",
        quality="C+",
        quality_score=D("55"),
    ),
    # oi
    variant("oi", "🎯 OI SIGNAL ★★★★\n🚀 SQUEEZE\n📈 LONG SUIUSDT @ 1.6230", side=LONG, **_SUI),
    variant(
        "oi",
        "🎯 OI SIGNAL ⭐⭐\n📈 LONG #SUI/USDT @ 1.6230\n📊 OI: -3.2% | CVD z=1.1\n🎯 Score: 2.1",
        side=LONG,
        score=D("2.1"),
        oi_change_pct=D("-3.2"),
        **_SUI,
    ),
    variant("oi", "🎯 OI SIGNAL\nSUIUSDT SHORT @ 1.6230\nOI: +7.85%", side=SHORT, oi_change_pct=D("7.85"), **_SUI),
    variant("oi", "oi signal ⭐\nshort suiusdt @1.6230\nscore: 3.6", side=SHORT, score=D("3.6"), **_SUI),
    variant("oi", "🎯 OI SIGNAL ⭐️⭐️⭐️\n📉 SHORT SUIUSDT @ 1,6230\n⏱ TF: 5m", side=SHORT, timeframe="5m", **_SUI),
    # generic
    variant("generic", "ENAUSDT UP\nPx: 0.4521", symbol="ENA/USDT:USDT", side=LONG, entry=entry(MARKET, "0.4521")),
    variant(
        "generic",
        "🔴 SELL\n#ENA/USDT\nEntry: 0.4521\nTF: 30",
        symbol="ENA/USDT:USDT",
        side=SHORT,
        entry=entry(LIMIT, "0.4521"),
        timeframe="30m",
    ),
    variant(
        "generic",
        "LONG ENAUSDT\nPrice: 0.4521\nOI Total: 850K (+12%)\nVol 1.2M -> 3.4M\nRSI(14): 71.2 | BB %B: 1.05",
        symbol="ENA/USDT:USDT",
        side=LONG,
        entry=entry(MARKET, "0.4521"),
        rsi=D("71.2"),
        oi_change_pct=D("12"),
    ),
    variant(
        "generic",
        "📉 DOWN SUIUSDT\nPrice: $1.6230\nTF: 240",
        symbol="SUI/USDT:USDT",
        side=SHORT,
        entry=entry(MARKET, "1.6230"),
        timeframe="4h",
    ),
    variant(
        "generic",
        "TF: 15M | LONG ENAUSDT @ 0.4521",
        symbol="ENA/USDT:USDT",
        side=LONG,
        entry=entry(MARKET, "0.4521"),
        timeframe="15m",
    ),
    variant(
        "generic",
        "BUY ENAUSDT\nLong/Short ratio: 1.2\nLast: 0.4521",
        symbol="ENA/USDT:USDT",
        side=LONG,
        entry=entry(MARKET, "0.4521"),
    ),
    # cornix free text
    variant(
        "cornix_free",
        "#SOL/USDT\nLONG\nEntry: 141.5 - 144\nTargets: 148, 152.5, 158\nStop-loss: 137.2\nLev 5",
        entry=entry(LADDER, "141.5", "144"),
        stop_loss=D("137.2"),
        leverage=D("5"),
        **_SOL_LONG,
    ),
    variant(
        "cornix_free",
        "BTCUSDT\nEntries 51000 50500\nTP1 49000\nTP2 48000\nSL 52000",
        symbol="BTC/USDT:USDT",
        side=SHORT,
        entry=entry(LADDER, "51000", "50500"),
        take_profits=tps("49000", "48000"),
        stop_loss=D("52000"),
    ),
    variant(
        "cornix_free",
        "SOL/USDT\nEnter below 95.5\nTargets: 92 - 90 - 87.5\nStop: 98",
        symbol="SOL/USDT:USDT",
        side=SHORT,
        entry=entry(TRIGGER, "95.5"),
        take_profits=tps("92", "90", "87.5"),
        stop_loss=D("98"),
    ),
    variant(
        "cornix_free",
        "SOL/USDT\nBuy: 141.5\nTake Profit: 148 (40%) 152.5 (35%) 158 (25%)\nStop: 137.2",
        symbol="SOL/USDT:USDT",
        side=LONG,
        entry=entry(LIMIT, "141.5"),
        take_profits=tps("148", "152.5", "158", shares=("0.4", "0.35", "0.25")),
        stop_loss=D("137.2"),
    ),
    variant(
        "cornix_free",
        "SOL/USDT\nEntry: 141.5\nTP1: 148 (+4.6%)\nTP2: 152.5 (+7.8%)\nTP3: 158 (+11.7%)\nSL: 137.2",
        entry=entry(LIMIT, "141.5"),
        stop_loss=D("137.2"),
        **_SOL_LONG,
    ),
    variant(
        "cornix_free",
        "SOL/USDT\nEntry: 141.5\nTP1: 148 (4.59%)\nTP2: 152.5 (7.77%)\nTP3: 158 (11.66%)\nSL: 137.2",
        entry=entry(LIMIT, "141.5"),
        stop_loss=D("137.2"),
        **_SOL_LONG,
    ),
    variant(
        "cornix_free",
        "📌 SOL/USDT\nBuy zone: 141.5 – 144\nTargets:\n1) 148\n2) 152.5\n3) 158\nStop loss: 137.2\nLeverage: Cross 20x",
        entry=entry(ZONE, "141.5", "144"),
        stop_loss=D("137.2"),
        leverage=D("20"),
        **_SOL_LONG,
    ),
    variant(
        "cornix_free",
        "Stop 137.2\nTake-Profit 148 152.5 158\nBuy zone 144-141.5\nsol/usdt",
        entry=entry(ZONE, "141.5", "144"),
        stop_loss=D("137.2"),
        **_SOL_LONG,
    ),
    variant(
        "cornix_free",
        "BTC/USDT Long\nEntry: CMP\nTargets: 69,000 70,500.5\nStop: 66,000",
        symbol="BTC/USDT:USDT",
        side=LONG,
        entry=entry(MARKET),
        take_profits=tps("69000", "70500.5"),
        stop_loss=D("66000"),
    ),
    variant(
        "cornix_free",
        "SOL/USDT\nEnter above 150\nTarget 1: 155\nTarget 2: 160\nStop loss: 145\nTimeframe: 4H",
        symbol="SOL/USDT:USDT",
        side=LONG,
        entry=entry(TRIGGER, "150"),
        take_profits=tps("155", "160"),
        stop_loss=D("145"),
        timeframe="4h",
    ),
    # cornix structured
    variant(
        "cornix_structured",
        CORNIX_STRUCTURED.replace("1) 3385 - 50%\n2) 3410 - 50%", "1️⃣ 3385 - 50%\n2️⃣ 3410 - 50%"),
        leverage=D("20"),
        **_ETH_SHORT,
    ),
    variant(
        "cornix_structured",
        CORNIX_STRUCTURED.replace("Signal Type: Regular (Short)\n", "").replace("Isolated (20.0X)", "Cross (10X)"),
        leverage=D("10"),
        **_ETH_SHORT,
    ),
    variant(
        "cornix_structured",
        "#ETH/USDT\nSignal Type: Long\nEntry Targets:\n1) 3385\nTake-Profit Targets:\n1) 3420\n2) 3480\n"
        "Stop Targets:\n1) 3300",
        symbol="ETH/USDT:USDT",
        side=LONG,
        entry=entry(LIMIT, "3385"),
        take_profits=tps("3420", "3480"),
        stop_loss=D("3300"),
    ),
    variant(
        "cornix_structured",
        "#ETHUSDT\nSignal Type: Breakout (Long)\nLeverage: 5x\nEntry Targets:\n1) 3,385.5 - 100%\n"
        "Take-Profit Targets:\n1) 3,420\nStop Targets:\n1) 3,300",
        symbol="ETH/USDT:USDT",
        side=LONG,
        entry=entry(TRIGGER, "3385.5"),
        take_profits=tps("3420"),
        stop_loss=D("3300"),
        leverage=D("5"),
    ),
    variant(
        "cornix_structured",
        "⚡⚡ #ETH/USDT ⚡⚡\nexchanges: Binance Futures, Bybit USDT\nsignal type: regular (short)\n"
        "entry targets:\n1) 3385 (50%)\n2) 3410 (50%)\ntake-profit targets:\n1) 3320 (40%)\n2) 3275 (35%)\n"
        "3) 3190 (25%)\nstop targets:\n1) 3468",
        **_ETH_SHORT,
    ),
    # cancels
    variant("cancel", "cancelled #ETHUSDT", symbol="ETH/USDT:USDT"),
    variant("cancel", "#ETH/USDT cancelled", symbol="ETH/USDT:USDT"),
    variant("cancel", "🚫 Signal cancelled: ETHUSDT - entry missed", symbol="ETH/USDT:USDT"),
    variant("cancel", "CANCEL   ETH/USDT", symbol="ETH/USDT:USDT"),
    variant("cancel", "❌️ Cancel #SOLUSDT\nPrice ran away before the entry.", symbol="SOL/USDT:USDT"),
]

NON_SIGNALS: list[str] = [
    "",
    "   \n\n  ",
    "Good morning traders! ☀️",
    "BTC just broke $70,000 — new all-time high! 🚀",
    "🔔 BTCUSDT crossed 67,250.5",
    "BTCUSDT\nPrice: 67250\nTF: 1h",
    "Long/Short ratio on BTCUSDT is 1.2, price 67250",
    "Don't cancel your BTCUSDT orders",
    "Cancel that, wrong chat",
    "Elcaro is the best bot",
    "SCALPER results: +12% this week",
    "Scriptomera long-term outlook on ARBUSDT is bullish",
    "TP hit on SOL/USDT ✅ +5.2%",
    "Take profit 148 reached on SOL/USDT",
    "Buy the dip! BTCUSDT\nStop loss is important",
    "I have 500USDT to trade, long or short?",
    "lorem ipsum dolor sit amet " * 250,
    "lorem ipsum dolor sit amet " * 400,
    "LONG BTCUSDT Price: 60000 " * 500,
]


@dataclass(frozen=True)
class Rejection:
    parser: str
    text: str
    reason: str


REJECTIONS: list[Rejection] = [
    Rejection("cornix_free", "SOL/USDT LONG\nBuy 141.5\nTP 148\nStop 145", "stop 145 must be below its entry 141.5"),
    Rejection("cornix_free", "SOL/USDT\nEntry 141.5\nTP 1480\nStop 137.2", "more than ×10 apart"),
    Rejection("cornix_free", "BTCUSDT\nEntry: market\nTP: 62000", "no side word"),
    Rejection("cornix_free", "BTCUSDT\nEntry 60000\nTP 62000\nSL 63000", "the prices disagree"),
    Rejection("cornix_free", "SOL/USDT SHORT\nBuy zone 141.5-144\nTP 130\nStop 150", "the entry says Buy"),
    Rejection("cornix_free", "SOL/USDT\nBuy 141.5\nTP 148\nStop 137.2 135", "2 stops"),
    Rejection("cornix_free", "SOL/USDT\nBuy 141.5\nTP 148\nStop 137.2\nLeverage 5x-10x", "is a range"),
    Rejection("cornix_free", "ETH/USDT\nEntry: 3,385\nTP: 3,420\nSL: 3,300", "could be 3385 or 3.385"),
    Rejection("cornix_free", "SOL/USDT LONG SHORT\nBuy 141.5\nTP 148\nStop 137.2", "both long and short"),
    Rejection("cornix_free", "SOL/USDT\nBuy 141.5\nTP 148 (40%) 150\nStop 137.2", "every target or for none"),
    Rejection("cornix_free", "SOL/USDT ETH/USDT\nBuy 141.5\nTP 148\nStop 137.2", "names 2 pairs"),
    Rejection(
        "cornix_structured",
        CORNIX_STRUCTURED.replace("1) 3468 - 100%", "1) 3468 - 50%\n2) 3500 - 50%"),
        "2 stop targets",
    ),
    Rejection(
        "cornix_structured",
        CORNIX_STRUCTURED.replace("1) 3320 - 40%\n2) 3275 - 35%", "1) 3320 - 60%\n2) 3275 - 35%"),
        "add up to at most 100%",
    ),
    Rejection(
        "cornix_structured", CORNIX_STRUCTURED.replace("Regular (Short)", "Breakout (Short)"), "enters at one price"
    ),
    Rejection("rsi_bb", RSI_BB.replace("🔴", "🟢"), "the 🟢 dot says long but the post says short"),
    Rejection("rsi_bb", RSI_BB.replace("🛑 SL: 2.5270 (2.0×ATR)\n", ""), "no SL line"),
    Rejection("rsi_bb", RSI_BB.replace("SL: 2.5270", "SL: 2.3270"), "stop 2.3270 must be above its entry 2.4410"),
    Rejection("elcaro", ELCARO.replace("SL: 13.4100", "SL: 13.9100"), "but the post says 5.76%"),
    Rejection("elcaro", ELCARO.replace("📉 ATR: 14 | ×1.5 | Trigger: 6%", ""), "ATR Exit is on"),
    Rejection("elcaro", ELCARO.replace("LONG", "SHORT"), "stop 13.4100 must be above its entry"),
    Rejection("fibonacci", FIBONACCI.replace("Stop Loss: 25.90", "Stop Loss: 28.90"), "must be below its entry"),
    Rejection("fibonacci", FIBONACCI.replace("71/100", "171/100"), "above 100"),
    Rejection("fibonacci", FIBONACCI.replace("📈 LONG", ""), "LONG or SHORT"),
    Rejection("oi", "🎯 OI SIGNAL\n📉 SHORT SUIUSDT\n🎯 Score: 3.6", "SIDE PAIR @ price"),
    Rejection("scalper", "SCALPER SHORT DOGEUSDT", "no price"),
    Rejection("scalper", "SCALPER SHORT DOGEUSDT @ 0.08112\nSCALPER LONG ARBUSDT @ 1.0825", "2 signals"),
    Rejection("scryptomera", "SCRIPTOMER LONG ARBUSDT 1.0825 1.09", "2 numbers"),
    Rejection("generic", "LONG ENAUSDT\nSHORT\nPrice: 0.45", "both a long and a short"),
    Rejection("generic", "LONG ENAUSDT\nPrice: 0.45\nTP: 0.5", "targets or a stop"),
    Rejection("generic", "TF: 1M\nLONG ENAUSDT\nPrice: 0.45", "a minute or a month"),
    Rejection("generic", "LONG ENAUSDT\nPrice: 0.45\nPx: 0.46", "2 different prices"),
    Rejection("generic", "LONG ENAUSDT\nEntry: 0.45 - 0.47", "is a price range"),
    Rejection("scalper", "SCALPER SHORT DOGEUSDT @ 0.08112-0.0815", "exactly one '@ price'"),
    Rejection("oi", "🎯 OI SIGNAL\n📉 SHORT SUIUSDT @ 1.6230 - 1.65", "cannot read side, pair and price"),
    Rejection(
        "cornix_structured", CORNIX_STRUCTURED.replace("Regular (Short)", "Long or Short"), "both long and short"
    ),
    Rejection("cancel", "Cancel #ETH", "cannot read the pair"),
]

ALL_TEXTS: list[str] = [
    *(e.text for e in EXAMPLES.values()),
    *(v.text for v in VARIANTS),
    *NON_SIGNALS,
    *(r.text for r in REJECTIONS),
]
