"""A post in a known format that contradicts itself or lacks a part is rejected with a readable reason."""

import pytest
from signal_samples import REJECTIONS, SOURCE, Rejection

from elcaro.models.errors import InvalidSignalError
from elcaro.signals import Outcome, parse_message
from elcaro.signals.registry import BUILT_IN


@pytest.mark.parametrize("case", REJECTIONS, ids=[f"{r.parser}-{i}" for i, r in enumerate(REJECTIONS)])
def test_the_post_is_rejected_by_its_parser_with_the_reason(case: Rejection) -> None:
    result = parse_message(case.text, SOURCE)
    assert (result.outcome, result.parser) == (Outcome.REJECTED, case.parser)
    assert result.reason is not None
    assert case.reason in result.reason
    assert result.signal is None
    assert result.cancel is None


@pytest.mark.parametrize("case", REJECTIONS, ids=[f"{r.parser}-{i}" for i, r in enumerate(REJECTIONS)])
def test_the_parser_alone_raises_the_same_reason(case: Rejection) -> None:
    parser = next(p for p in BUILT_IN if p.name == case.parser)
    with pytest.raises(InvalidSignalError, match=None) as raised:
        parser.parse(case.text, SOURCE)
    assert case.reason in raised.value.reason


def test_a_rejection_names_the_field_it_is_about() -> None:
    result = parse_message("SOL/USDT LONG\nBuy 141.5\nTP 148\nStop 145", SOURCE)
    assert result.field == "stop_loss"
    assert result.reason == "a long's stop 145 must be below its entry 141.5"
