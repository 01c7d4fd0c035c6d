"""Plans and position states survive storage as JSON exactly (the services store both; a restart resumes them)."""

import json
from decimal import Decimal as D

from test_management import T0, btc_plan
from trading_builders import BTC, fill, settings

from elcaro.core.codec import decode, encode
from elcaro.models import Side
from elcaro.trading.management import step
from elcaro.trading.plan import EntryPlan
from elcaro.trading.position import PositionState, PriceUpdate, open_position


def test_an_entry_plan_and_a_managed_state_round_trip_through_json() -> None:
    plan = btc_plan(partial_tp_steps=[{"profit_pct": "2", "close_pct": "25"}], trailing_type="atr")
    assert decode(EntryPlan, json.loads(json.dumps(encode(plan)))) == plan

    rules = settings(trailing_type="atr")
    state = step(open_position(plan, BTC), fill(plan.entries[0].client_order_id, Side.BUY, "0.1", "50000", T0), rules)
    state = step(state.state, PriceUpdate(D("51500.5"), T0 + 60_000, atr=D("120.25")), rules)
    restored = decode(PositionState, json.loads(json.dumps(encode(state.state))))
    assert restored == state.state
