"""Chat, news, alerts without a side, empty and very long posts yield nothing, from every parser."""

import pytest
from signal_samples import NON_SIGNALS, SOURCE

from elcaro.signals import BUILT_IN, NOTHING, parse_message


@pytest.mark.parametrize("text", NON_SIGNALS, ids=[t[:30] or "empty" for t in NON_SIGNALS])
def test_a_non_signal_yields_nothing(text: str) -> None:
    assert parse_message(text, SOURCE) == NOTHING
    for parser in BUILT_IN:
        assert parser.parse(text, SOURCE) is None, parser.name
