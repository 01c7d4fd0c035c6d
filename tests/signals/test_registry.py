"""The registry: one outcome per post, parser order, channel-bound custom parsers."""

import pytest
from signal_samples import ALL_TEXTS, EXAMPLES, SOURCE

from elcaro.models import SignalSource, SourceKind
from elcaro.models.errors import InvalidSignalError
from elcaro.signals import BUILT_IN, NOTHING, CustomParserSpec, Outcome, SignalParserRegistry, parse_message
from elcaro.signals.formats import cornix_free, generic, rsi_bb


def _claims(text: str) -> dict[str, object]:
    """Every built-in parser run alone: what each that claims the post makes of it."""
    found: dict[str, object] = {}
    for parser in BUILT_IN:
        try:
            value = parser.parse(text, SOURCE)
        except InvalidSignalError as error:
            found[parser.name] = error.reason
            continue
        if value is not None:
            found[parser.name] = value
    return found


@pytest.mark.parametrize("text", ALL_TEXTS, ids=[f"{i}-{t[:20]}" for i, t in enumerate(ALL_TEXTS)])
def test_no_post_is_claimed_by_two_parsers(text: str) -> None:
    claims = _claims(text)
    assert len(claims) <= 1, sorted(claims)
    result = parse_message(text, SOURCE)
    assert result.parser == next(iter(claims), None)


def test_a_post_with_the_shapes_of_two_formats_is_refused_as_ambiguous() -> None:
    text = EXAMPLES["oi"].text + "\n" + EXAMPLES["elcaro"].text
    assert _claims(text) == {}
    result = parse_message(text, SOURCE)
    assert (result.outcome, result.parser) == (Outcome.REJECTED, "oi")
    assert result.reason == "the post has the shape of both oi and elcaro: refusing to pick one"


def test_the_catch_all_formats_come_last() -> None:
    names = [p.name for p in BUILT_IN]
    assert names[-2:] == ["cornix_free", "generic"]
    assert names[0] == "cancel"


def test_a_registry_refuses_a_catch_all_before_the_formats_it_gives_way_to() -> None:
    with pytest.raises(ValueError, match="generic must come after"):
        SignalParserRegistry([generic.PARSER, *BUILT_IN[:-1]])
    with pytest.raises(ValueError, match="cornix_free must come after"):
        SignalParserRegistry([cornix_free.PARSER])


def test_a_registry_of_some_formats_reads_only_those() -> None:
    registry = SignalParserRegistry([rsi_bb.PARSER])
    assert registry.parse(EXAMPLES["rsi_bb"].text, SOURCE).parser == "rsi_bb"
    assert registry.parse(EXAMPLES["scalper"].text, SOURCE) == NOTHING
    assert registry.parsers == (rsi_bb.PARSER,)


def test_a_post_longer_than_telegram_allows_is_nothing() -> None:
    text = EXAMPLES["scalper"].text + "\n" + "x" * 9000
    assert parse_message(text, SOURCE) == NOTHING


_SPEC = CustomParserSpec(
    name="vip",
    strategy="vip_calls",
    channel_ids=("-100777",),
    marker=r"^VIP CALL",
    symbol=r"coin: (?P<symbol>\S+)",
    side=r"direction: (?P<side>\w+)",
    price=r"entry price is (?P<price>[\d.]+)",
)
_VIP_POST = "VIP CALL 🚀\nDirection: long\ncoin: ARBUSDT\nentry price is 1.0825"


def test_a_custom_parser_reads_its_own_channels_first() -> None:
    registry = SignalParserRegistry(custom=[_SPEC])
    vip = SignalSource(SourceKind.CHANNEL, "-100777")
    result = registry.parse(_VIP_POST, vip)
    assert (result.outcome, result.parser) == (Outcome.SIGNAL, "custom:vip")
    assert result.signal is not None
    assert result.signal.strategy == "vip_calls"
    assert registry.parse(_VIP_POST, SOURCE) == NOTHING
    assert registry.parse(EXAMPLES["scalper"].text, vip).parser == "scalper"


def test_custom_parsers_ignore_webhook_sources_with_the_same_name() -> None:
    registry = SignalParserRegistry(custom=[_SPEC])
    assert registry.parse(_VIP_POST, SignalSource(SourceKind.WEBHOOK, "-100777")) == NOTHING
