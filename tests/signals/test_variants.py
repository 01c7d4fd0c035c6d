"""Real-world variation (spacing, case, emoji variants, separators, K/M, line order) reads the same."""

from collections import Counter
from dataclasses import fields

import pytest
from signal_samples import SOURCE, VARIANTS, Variant

from elcaro.models import Signal, SignalCancel
from elcaro.signals import Outcome, parse_message

_DEFAULTS = {f.name: f.default for f in fields(Signal) if f.name not in {"source", "raw_text", "details", "id"}}


@pytest.mark.parametrize("case", VARIANTS, ids=[f"{v.parser}-{i}" for i, v in enumerate(VARIANTS)])
def test_the_variant_reads_to_the_expected_fields(case: Variant) -> None:
    result = parse_message(case.text, SOURCE)
    assert (result.outcome, result.parser, result.reason) == (
        Outcome.CANCEL if case.parser == "cancel" else Outcome.SIGNAL,
        case.parser,
        None,
    )
    value = result.value
    if isinstance(value, SignalCancel):
        assert value.symbol == case.fields["symbol"]
        return
    assert isinstance(value, Signal)
    strategy = "cornix" if case.parser.startswith("cornix") else case.parser
    expected = {**_DEFAULTS, "strategy": strategy, "received_at": 0, **case.fields}
    assert {name: getattr(value, name) for name in expected} == expected
    assert value.raw_text == case.text


def test_every_format_has_at_least_five_variants() -> None:
    counts = Counter(v.parser for v in VARIANTS)
    parsers = {"scryptomera", "scalper", "rsi_bb", "elcaro", "fibonacci", "oi", "generic", "cornix_free"}
    parsers |= {"cornix_structured", "cancel"}
    assert {name: counts[name] for name in parsers} == {name: max(counts[name], 5) for name in parsers}
