"""``/api/v1/me``: the caller's profile, language, terms, pause, settings at every level, strategies,
targets and exchange keys. Every route acts on the caller (the id comes from the access token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from elcaro.models import Balance, ExchangeKeys, PositionSide, Secret, SettingsKey, SettingsScope, Target
from elcaro.models.enums import Exchange
from elcaro.models.errors import ValidationError
from elcaro.services.desk import EDITABLE, setting_field
from elcaro.web.context import CurrentUser, PathId, Svc
from elcaro.web.schemas.common import Done, error_responses
from elcaro.web.schemas.users import (
    BalanceOut,
    CredentialIn,
    CredentialOut,
    CredentialTest,
    LanguageChange,
    PauseChange,
    Profile,
    SettingFieldOut,
    SettingsChange,
    StoredSettings,
    StrategyChange,
    StrategyOut,
    TargetChange,
    TargetOut,
)

router = APIRouter(prefix="/me", tags=["me"])


def balance_out(balance: Balance) -> BalanceOut:
    return BalanceOut(
        asset=balance.asset,
        wallet=balance.wallet,
        available=balance.available,
        unrealized_pnl=balance.unrealized_pnl,
        equity=balance.equity,
    )


def settings_key(scope: str, exchange: str | None, strategy: str | None, side: str | None) -> SettingsKey:
    """A settings level from the query; a wrong name is refused naming the parameter and what it takes."""
    try:
        level = SettingsScope(scope)
    except ValueError:
        raise ValidationError(f"one of {', '.join(SettingsScope)}", field="scope") from None
    try:
        venue = Exchange(exchange) if exchange else None
    except ValueError:
        raise ValidationError(f"one of {', '.join(Exchange)}", field="exchange") from None
    try:
        position_side = PositionSide(side) if side else None
    except ValueError:
        raise ValidationError("long or short", field="side") from None
    return SettingsKey(level, exchange=venue, strategy=strategy or None, side=position_side)


@router.get("", response_model=Profile)
async def profile(caller: CurrentUser, svc: Svc) -> Profile:
    # Read afresh: the caller's standing may be a moment old (see WebSessionService), a profile page must not be.
    return Profile.of(await svc.runtime.platform.users.get(caller.user.id))


@router.put("/language", response_model=Profile)
async def set_language(body: LanguageChange, caller: CurrentUser, svc: Svc) -> Profile:
    return Profile.of(await svc.runtime.platform.users.set_language(caller.user.id, body.language))


@router.post("/terms", response_model=Profile)
async def accept_terms(caller: CurrentUser, svc: Svc) -> Profile:
    """Accept the terms and risk disclaimer (needed before any trade)."""
    return Profile.of(await svc.runtime.platform.users.accept_terms(caller.user.id))


@router.put("/pause", response_model=Profile)
async def pause(body: PauseChange, caller: CurrentUser, svc: Svc) -> Profile:
    """Pause (or resume) new entries; open positions are still managed."""
    await svc.runtime.platform.preferences.pause(caller.user.id, body.paused)
    return Profile.of(await svc.runtime.platform.users.get(caller.user.id))


# ------------------------------------------------------------------------------ settings


@router.get("/settings/fields", response_model=list[SettingFieldOut])
async def setting_fields(caller: CurrentUser) -> list[SettingFieldOut]:
    """The fields a strategy form edits, with their kind, allowed range or choices, and whether they can be off."""
    return [SettingFieldOut.of(setting_field(name)) for name in EDITABLE]


@router.get("/settings", response_model=list[StoredSettings])
async def stored_settings(caller: CurrentUser, svc: Svc) -> list[StoredSettings]:
    """Every level the caller has set something at, with only the fields set there."""
    return [StoredSettings.of(stored) for stored in await svc.desk.stored_settings(caller.user.id)]


@router.put("/settings/{scope}", response_model=StoredSettings)
async def update_settings(
    scope: str,
    body: SettingsChange,
    caller: CurrentUser,
    svc: Svc,
    exchange: str | None = None,
    strategy: str | None = None,
    side: str | None = None,
) -> StoredSettings:
    """Merge ``changes`` into one level (``global``, ``exchange``, ``strategy``, ``strategy_side``).

    The level is validated whole; a refused value answers 422 naming the field and its allowed range,
    and nothing is stored."""
    key = settings_key(scope, exchange, strategy, side)
    return StoredSettings.of(await svc.desk.change_settings(caller.user.id, key, body.changes))


@router.delete("/settings/{scope}", response_model=Done)
async def clear_settings(
    scope: str,
    caller: CurrentUser,
    svc: Svc,
    exchange: str | None = None,
    strategy: str | None = None,
    side: str | None = None,
    fields: Annotated[list[str] | None, Query(max_length=64)] = None,
) -> Done:
    """Drop ``fields`` (all of them when none is named) from a level, so the level below applies again."""
    await svc.desk.clear_settings(caller.user.id, settings_key(scope, exchange, strategy, side), fields)
    return Done()


@router.get("/settings/effective")
async def effective_settings(
    caller: CurrentUser, svc: Svc, target: str, strategy: str, side: str = "long"
) -> dict[str, object]:
    """The settings a trade of ``strategy`` on ``side`` at ``target`` would use now (every level merged)."""
    key = settings_key("strategy_side", None, strategy, side)
    assert key.side is not None and key.strategy is not None
    settings = await svc.desk.effective_settings(caller.user.id, Target.parse(target), key.strategy, key.side)
    return settings.model_dump(mode="json")


# ------------------------------------------------------------------------------ strategies and targets


@router.get("/strategies", response_model=list[StrategyOut])
async def strategies(caller: CurrentUser, svc: Svc) -> list[StrategyOut]:
    return [StrategyOut.of(view) for view in await svc.desk.strategies(caller.user.id)]


@router.put("/strategies/{name}", response_model=StrategyOut)
async def change_strategy(name: str, body: StrategyChange, caller: CurrentUser, svc: Svc) -> StrategyOut:
    """Follow a strategy or not, and in which direction."""
    if name not in await svc.desk.strategy_names(caller.user.id):
        raise ValidationError(f"no strategy named {name!r}", field="name")
    if body.enabled is not None:
        await svc.desk.set_strategy_enabled(caller.user.id, name, body.enabled)
    if body.direction is not None:
        await svc.desk.set_direction(caller.user.id, name, body.direction)
    settings = await svc.desk.strategy_settings(caller.user.id, name)
    return StrategyOut(name=name, enabled=settings.enabled, direction=settings.direction.value)


@router.get("/targets", response_model=list[TargetOut])
async def targets(caller: CurrentUser, svc: Svc) -> list[TargetOut]:
    return [TargetOut.of(view) for view in await svc.desk.targets(caller.user.id)]


@router.put("/targets/{target}", response_model=TargetOut)
async def set_target(target: str, body: TargetChange, caller: CurrentUser, svc: Svc) -> TargetOut:
    """Trade on a target or stop; a live target needs ``live_opt_in: true``."""
    view = await svc.desk.set_target(
        caller.user.id, Target.parse(target), enabled=body.enabled, live_opt_in=body.live_opt_in
    )
    return TargetOut.of(view)


# ------------------------------------------------------------------------------ exchange keys


@router.get("/credentials", response_model=list[CredentialOut])
async def credentials(caller: CurrentUser, svc: Svc) -> list[CredentialOut]:
    return [CredentialOut.of(info) for info in await svc.desk.keys(caller.user.id)]


@router.post("/credentials", response_model=CredentialOut, status_code=201)
async def add_credentials(body: CredentialIn, caller: CurrentUser, svc: Svc) -> CredentialOut:
    """Store keys for a target: checked for the venue's shape, encrypted before storage, never shown again."""

    def secret(value: str | None) -> Secret | None:
        return Secret(value) if value else None

    keys = ExchangeKeys(
        api_key=secret(body.api_key),
        api_secret=secret(body.api_secret),
        private_key=secret(body.private_key),
        wallet_address=body.wallet_address or None,
    )
    return CredentialOut.of(await svc.desk.save_keys(caller.user.id, Target.parse(body.target), keys))


@router.post("/credentials/{credential_id}/test", response_model=CredentialTest, responses=error_responses(502))
async def test_credentials(credential_id: PathId, caller: CurrentUser, svc: Svc) -> CredentialTest:
    """Prove stored keys work (a balance read on their venue); 422 ``exchange_auth`` when the venue refuses them."""
    info, balance = await svc.desk.test_keys(caller.user.id, credential_id)
    return CredentialTest(credential=CredentialOut.of(info), balance=balance_out(balance))


@router.delete("/credentials/{credential_id}", response_model=Done)
async def delete_credentials(credential_id: PathId, caller: CurrentUser, svc: Svc) -> Done:
    await svc.desk.delete_keys(caller.user.id, credential_id)
    return Done()
