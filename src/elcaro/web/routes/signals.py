"""``/api/v1/signals``: what became of the signals the caller follows, on each of their targets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from elcaro.services.execution_history import MAX_LIMIT
from elcaro.web.context import CurrentUser, Svc
from elcaro.web.schemas.signals import ExecutionEntryOut

router = APIRouter(prefix="/signals", tags=["signals"])


@router.get("/executions", response_model=list[ExecutionEntryOut])
async def my_executions(
    caller: CurrentUser, svc: Svc, limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50
) -> list[ExecutionEntryOut]:
    """The caller's executions, newest first: each signal on each target, placed, filled, closed, or skipped
    and why (``reason_code``: the gate that refused it, or the venue's refusal)."""
    found = await svc.executions.for_user(caller.user.id, limit=limit)
    return [ExecutionEntryOut.of(entry) for entry in found]
