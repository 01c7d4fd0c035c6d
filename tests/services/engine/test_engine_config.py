"""Engine set-up: paper needs a paper target, live a real one and the explicit flag; publishing defaults."""

from __future__ import annotations

import pytest

from elcaro.models import Target
from elcaro.models.errors import ConfigError, ValidationError
from elcaro.services.engine import EngineConfig, EngineMode

PAPER = Target.parse("bybit:paper")
DEMO = Target.parse("bybit:demo")
LIVE = Target.parse("binance:live")


def test_paper_mode_publishes_by_default_and_names_its_account() -> None:
    config = EngineConfig(user_id=7)
    assert (config.mode, config.target, config.publishes) == (EngineMode.PAPER, PAPER, True)
    assert config.account_ref == "7@bybit:paper"
    assert not EngineConfig(user_id=7, publish_signals=False).publishes


def test_live_mode_needs_a_real_target_and_the_explicit_flag() -> None:
    with pytest.raises(ConfigError, match="explicit live flag"):
        EngineConfig(user_id=7, mode=EngineMode.LIVE, target=LIVE)
    with pytest.raises(ConfigError, match="real target"):
        EngineConfig(user_id=7, mode=EngineMode.LIVE, target=PAPER, allow_live=True)
    with pytest.raises(ConfigError, match="paper mode trades a paper target"):
        EngineConfig(user_id=7, target=DEMO)
    live = EngineConfig(user_id=7, mode=EngineMode.LIVE, target=LIVE, allow_live=True)
    assert not live.publishes  # real-money signals are published only when asked for
    assert EngineConfig(user_id=7, mode=EngineMode.LIVE, target=DEMO, allow_live=True, publish_signals=True).publishes


@pytest.mark.parametrize(("field", "value"), [("user_id", 0), ("leverage", 0), ("extra_bars", -1)])
def test_nonsense_is_refused_with_the_field(field: str, value: int) -> None:
    values: dict[str, object] = {"user_id": 7, field: value}
    with pytest.raises(ValidationError) as error:
        EngineConfig(**values)  # type: ignore[arg-type]
    assert error.value.field == field
