"""Every example of shared/SIGNALS.md gives exactly the expected signal, through the registry and its own parser."""

import importlib
import re
from dataclasses import replace
from pathlib import Path

import pytest
from signal_samples import EXAMPLES, SOURCE, Example

from elcaro.models import Signal
from elcaro.signals import Outcome, parse_message

SIGNALS_MD = Path(__file__).resolve().parents[3] / "shared" / "SIGNALS.md"


@pytest.mark.parametrize("example", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_the_example_parses_to_exactly_the_expected_signal(example: Example) -> None:
    result = parse_message(example.text, SOURCE, received_at=1_732_190_400_000)
    assert result.parser == example.parser
    assert result.outcome is (Outcome.SIGNAL if isinstance(example.expected, Signal) else Outcome.CANCEL)
    value = result.value
    assert value is not None
    assert value.received_at == 1_732_190_400_000
    assert value == replace(example.expected, received_at=1_732_190_400_000)
    if isinstance(value, Signal):
        assert dict(value.details) == example.details
        assert value.id is None


@pytest.mark.parametrize("example", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_the_format_module_alone_gives_the_same_result(example: Example) -> None:
    module = importlib.import_module(f"elcaro.signals.formats.{example.parser}")
    assert module.parse(example.text, SOURCE) == example.expected


def test_prices_keep_the_digits_the_post_wrote() -> None:
    signal = parse_message(EXAMPLES["rsi_bb"].text, SOURCE).signal
    assert signal is not None
    assert str(signal.entry.prices[0]) == "2.4410"
    assert [str(tp.price) for tp in signal.take_profits] == ["2.3120", "2.2480"]


@pytest.mark.skipif(not SIGNALS_MD.exists(), reason="shared/SIGNALS.md is not beside the repository")
def test_the_samples_are_the_examples_of_signals_md() -> None:
    blocks = {block.strip() for block in re.findall(r"```\n(.*?)```", SIGNALS_MD.read_text(), flags=re.DOTALL)}
    text_examples = {e.text for e in EXAMPLES.values() if e.in_signals_md and e.parser != "cancel"}
    assert text_examples <= blocks
    for cancel in ("Cancel #ETH/USDT", "❌ Cancel #ETHUSDT"):
        assert f"`{cancel}`" in SIGNALS_MD.read_text()
