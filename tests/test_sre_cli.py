"""`godseye sre --json`: JSON lines in, one JSON line per turn out, bad lines answered with an error."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from support.sre_telemetry import seed, ungrounded_numbers

from godseye.config import PROJECT_ROOT
from godseye.runtime import TurnResult

CHAT_FIELDS = set(TurnResult(session="", user="", text="").to_json())  # what `godseye chat --json` prints


def test_json_mode_answers_operator_questions(tmp_path):
    # Its own freshly seeded home: the subprocess reads windows relative to now, whenever it runs.
    seed(tmp_path)
    lines = [
        json.dumps({"session": "cli-op", "user": "oncall", "text": "what is firing?"}),
        "not json",
        json.dumps({"session": "cli-op", "text": "   "}),
    ]
    path = os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "GODSEYE_HOME": str(tmp_path), "GODSEYE_NETWORK_GUARD": "1", "PYTHONPATH": path}
    proc = subprocess.run([sys.executable, "-m", "godseye.cli.main", "sre", "--json"], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=240)
    out = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert len(out) == 3, proc.stderr[-2000:]
    turn, bad_json, empty = out
    assert set(turn) == CHAT_FIELDS | {"tool_results"}  # `godseye chat --json`'s fields, plus the evidence
    assert (turn["session"], turn["user"], turn["agent"], turn["error"]) == ("cli-op", "oncall", "ai_sre", None)
    assert [c["name"] for c in turn["tool_calls"]] == ["triggered_monitors"]
    assert "s-evil" in turn["reply"]
    assert ungrounded_numbers(turn["reply"], [r["payload"] for r in turn["tool_results"]]) == []
    assert bad_json["error"].startswith("invalid JSON") and "text" in empty["error"]
    assert proc.returncode == 1  # some lines were refused


def test_help_lists_chat_and_forecast():
    proc = subprocess.run([sys.executable, "-m", "godseye.cli.main", "sre", "--help"], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, timeout=120)
    assert proc.returncode == 0
    assert "chat" in proc.stdout and "forecast" in proc.stdout and "--json" in proc.stdout
