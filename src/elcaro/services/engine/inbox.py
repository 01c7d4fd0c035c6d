"""Commands for a running engine from another process: ``elcaro engine command kill_switch`` from a second shell.

A command is one small JSON file dropped into ``<data dir>/engine/commands/`` (written aside, then
renamed in, so the engine never reads half a file). The running engine takes the files in name
order — their names start with the time they were dropped — carries each out as its ``actor``, and
moves it to ``done/`` with the outcome (accepted, or refused and why).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Protocol

from elcaro.core.clock import now_ms
from elcaro.engine import Command, CommandRecord
from elcaro.models.errors import ElcaroError, ValidationError

log = logging.getLogger(__name__)


class Commandable(Protocol):
    def command(self, name: str | Command, actor: str, *, preset: str | None = None) -> CommandRecord: ...


def commands_directory(data_dir: Path) -> Path:
    return data_dir / "engine" / "commands"


def drop_command(directory: Path, command: str, actor: str, *, preset: str | None = None) -> Path:
    """Queue ``command`` for the engine running on this data directory; returns the file written."""
    try:
        Command(command)
    except ValueError:
        raise ValidationError(
            f"unknown command {command!r}; commands: {', '.join(c.value for c in Command)}", field="command"
        ) from None
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{now_ms():015d}-{command}.json"
    partial = directory / f".{name}.tmp"
    partial.write_text(json.dumps({"command": command, "actor": actor, "preset": preset}), encoding="utf-8")
    target = directory / name
    partial.replace(target)
    return target


def take_commands(engine: Commandable, directory: Path) -> int:
    """Carry out every queued command, oldest first; returns how many were taken."""
    if not directory.is_dir():
        return 0
    done = directory / "done"
    taken = 0
    for path in sorted(directory.glob("*.json")):
        try:
            request = json.loads(path.read_text(encoding="utf-8"))
            record = engine.command(str(request["command"]), str(request["actor"]), preset=request.get("preset"))
            outcome = {"accepted": True, "state": record.state.value}
        except (ElcaroError, KeyError, ValueError) as error:
            outcome = {"accepted": False, "reason": str(error)}
        log.info("engine command file %s: %s", path.name, outcome)
        done.mkdir(exist_ok=True)
        (done / path.name).write_text(json.dumps(outcome), encoding="utf-8")
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        taken += 1
    return taken


async def run_command_inbox(
    engine: Commandable, directory: Path, stop: asyncio.Event, *, interval: float = 0.5
) -> None:
    """Take queued commands every ``interval`` seconds until ``stop`` is set."""
    while not stop.is_set():
        take_commands(engine, directory)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
