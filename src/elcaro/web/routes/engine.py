"""``/api/v1/engine``: the strategy engine's state machine, commands, presets, last scan and diagnostics.

The engine trades the operator's account, so these are admin routes. When the platform runs without the
engine (``ELCARO_ENGINE_ENABLED`` off) they answer 503 ``not_configured``. State changes are also pushed on
the websocket's admin channel as ``engine_state`` events.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from elcaro.models.errors import ConfigError, ValidationError
from elcaro.services.engine import EngineService, status_json
from elcaro.web.context import AdminUser, Svc, WebServices
from elcaro.web.schemas.common import Body, error_responses, plain

router = APIRouter(prefix="/engine", tags=["engine"], responses=error_responses(503))


class CommandIn(Body):
    command: str = Field(max_length=32, description="start, stop, pause, resume, reload_preset, time_stop, ...")
    preset: str | None = Field(None, max_length=64, description="For reload_preset: a shipped preset's name.")


def _engine(svc: WebServices) -> EngineService:
    if svc.engine is None:
        raise ConfigError("the strategy engine is not running on this platform (ELCARO_ENGINE_ENABLED)")
    engine: EngineService = svc.engine
    return engine


@router.get("/status")
async def status(admin: AdminUser, svc: Svc) -> dict[str, Any]:
    """State, since when, preset, positions, breakers, faults, the risk book: the engine at a glance."""
    return status_json(_engine(svc).status())


@router.post("/commands")
async def command(body: CommandIn, admin: AdminUser, svc: Svc) -> dict[str, Any]:
    """Carry out a command (409 when the engine's state refuses it, with the reason)."""
    engine = _engine(svc)
    if body.preset is not None and body.preset not in engine.presets():  # a name, never a file path
        raise ValidationError(f"one of {', '.join(engine.presets())}", field="preset")
    record = engine.command(body.command, f"user:{admin.user.id}", preset=body.preset)
    answer: dict[str, Any] = plain(record)  # type: ignore[assignment]
    answer["state_now"] = engine.state.value
    return answer


@router.get("/presets", response_model=list[str])
async def presets(admin: AdminUser, svc: Svc) -> list[str]:
    return _engine(svc).presets()


@router.get("/scan")
async def last_scan(admin: AdminUser, svc: Svc) -> dict[str, Any] | None:
    """The last scanner pass: candidates and every symbol's filter decisions (null before the first)."""
    found = _engine(svc).last_scan()
    return None if found is None else plain(found)  # type: ignore[return-value]


@router.get("/diagnostics")
async def diagnostics(admin: AdminUser, svc: Svc) -> dict[str, Any]:
    """What went wrong and what the engine decided: faults, breakers, recent decisions and commands."""
    status = status_json(_engine(svc).status())
    keys = (
        "state",
        "since",
        "attempts",
        "retry_at",
        "faults",
        "breakers",
        "decisions",
        "commands",
        "history",
        "killed",
    )
    return {key: status.get(key) for key in keys}
