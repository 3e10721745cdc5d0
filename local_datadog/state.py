"""The stand-in's state file (GODSEYE_HOME/standin.json): how other processes find a running one.

Why a file: `godseye standin status`, the product's run command and the AI SRE tools must learn
the ports and URLs of a stand-in started elsewhere, and notice a stale one left by a crash.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

STATE_FILENAME = "standin.json"


def state_path(home: Path) -> Path:
    return Path(home) / STATE_FILENAME


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_state(home: Path) -> dict[str, Any] | None:
    """The recorded state, with `running` telling whether its process is still alive."""
    path = state_path(home)
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as exc:
        return {"running": False, "error": f"unreadable state file {path}: {exc}"}
    state["running"] = pid_alive(state.get("pid"))
    return state


def write_state(home: Path, state: dict[str, Any]) -> Path:
    path = state_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
    os.replace(tmp, path)
    return path


def remove_state(home: Path, token: str) -> None:
    """Remove the state file only if it still describes us (same token)."""
    path = state_path(home)
    with contextlib.suppress(FileNotFoundError, json.JSONDecodeError, OSError):
        if json.loads(path.read_text()).get("token") == token:
            path.unlink()
