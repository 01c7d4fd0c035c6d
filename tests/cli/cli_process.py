"""The real ``elcaro`` executable run as a subprocess, the way an operator runs it, for every CLI test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ELCARO = str(Path(sys.executable).parent / "elcaro")


def environment(tmp_path: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """This interpreter's environment without any ``ELCARO_*`` of the developer's, on a data dir of the test's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ELCARO_")}
    env["ELCARO_DATA_DIR"] = str(tmp_path / "data")
    if database_url:
        env["ELCARO_DATABASE_URL"] = database_url
    env.update(extra)
    return env


def elcaro(
    env: dict[str, str], *args: str, ok: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``elcaro *args``; with ``ok`` it must succeed (its stderr is the failure message)."""
    result = subprocess.run(
        [ELCARO, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )
    if ok:
        assert result.returncode == 0, result.stderr
    return result
