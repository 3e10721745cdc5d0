"""The traffic simulator: seeded plans, fault schedules, and a short run through the real product."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from godseye.simulation import FaultSchedule, SimConfig, TrafficPlan
from godseye.simulation.journeys import ATTACKS, PlanSpec, Step, followup

ROOT = Path(__file__).resolve().parents[1]


def _plan(seed: int, scenarios=("shoppers", "attack", "bombs"), run_id: str = "r1") -> TrafficPlan:
    return TrafficPlan(PlanSpec(seed=seed, run_id=run_id, scenarios=frozenset(scenarios), duration_s=60))


def _texts(plan: TrafficPlan, n: int = 30) -> list[list[str]]:
    stream = plan.shoppers()
    return [[s.text or s.fixture for s in next(stream).steps] for _ in range(n)]


def test_same_seed_same_plan_and_ids_carry_the_run():
    a, b = _plan(7, run_id="run-a"), _plan(7, run_id="run-b")
    assert _texts(a) == _texts(b)
    assert a.digest() == b.digest()
    assert _plan(8).digest() != a.digest() and _texts(_plan(8)) != _texts(a)
    first_a, first_b = next(a.shoppers()), next(b.shoppers())
    assert first_a.session_id.startswith("run-a-") and first_b.session_id.startswith("run-b-")


def test_plan_mixes_journeys_and_schedules_offenders():
    plan = _plan(3, scenarios=("shoppers", "attack", "bombs", "friction"))
    stream = plan.shoppers()
    kinds = Counter(next(stream).kind for _ in range(400))
    assert set(kinds) == {"browse", "buy", "checkout", "abandon", "stylist", "compare", "tryon", "window_shopper"}
    assert kinds["browse"] > kinds["abandon"]  # weights, not a uniform draw
    scheduled = plan.scheduled()
    attacker = next(j for j in scheduled if j.kind == "attacker")
    bomber = next(j for j in scheduled if j.kind == "bomber")
    assert attacker.until_blocked and 0 < attacker.start_s < 60
    families = [s.attack for s in attacker.steps if s.attack]
    assert len(families) == 6 and len(set(families)) == 6 and set(families) <= {name for name, _ in ATTACKS}
    assert attacker.steps[0].attack is None and attacker.steps[-1].attack is None  # opener, then a probe
    uploads = [s.fixture for s in bomber.steps if s.action == "upload"]
    assert len(uploads) == 6 and len(set(uploads)) == 6
    window = next(j for j in (next(stream) for _ in range(200)) if j.kind == "window_shopper")
    assert len(window.steps) >= 14 and not any(s.text.startswith("add ") for s in window.steps)


def test_shopper_answers_the_assistants_question():
    step = Step("say", text="add the first one to my cart")
    asked = "Sorry, that didn't work: X Boots comes in sizes 39, 40, 41. Which size would you like?"
    assert followup(step, asked).text == "add the first one to my cart in size 39"
    colour = "Sorry, that didn't work: Y Dress comes in colours navy, green. Which colour would you like?"
    assert followup(Step("say", text="add the second one to my cart in size M"), colour).text == \
        "add the second one to my cart in size M, navy"
    assert followup(step, "Added. Your cart: ...") is None
    assert followup(Step("say", text="show me boots"), asked) is None


def test_fault_schedule_ramps():
    f = FaultSchedule(duration_s=100, quality_drop=0.8, quality_start=0.25, slow_max_ms=4000)
    f.start(now=0.0)
    assert f.quality_fault(10.0) == 0.0
    assert f.quality_fault(37.5) == pytest.approx(0.4)
    assert f.quality_fault(90.0) == pytest.approx(0.8)
    assert f.extra_delay_ms(0.0) == 0.0 and f.extra_delay_ms(50.0) == pytest.approx(2000)
    assert f.extra_delay_ms(200.0) == pytest.approx(4000)
    f.forced_quality = 1.0
    assert f.pick_degradation() is not None


def test_config_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown scenario"):
        SimConfig(scenarios=("shoppers", "ddos"))
    with pytest.raises(ValueError):
        SimConfig(rate=-1)
    with pytest.raises(ValueError):
        SimConfig(duration_s=None)


def test_cli_rejects_unknown_scenario():
    from godseye.cli.main import app

    result = CliRunner().invoke(app, ["simulate", "--scenario", "shoppers,nope", "--duration", "1"])
    assert result.exit_code != 0
    assert "unknown scenario" in result.output


@pytest.mark.slow
def test_short_run_through_the_product(shop_home, tmp_path):
    """`godseye simulate` for a few seconds, as a user runs it (its own process): shoppers, one
    attacker, one bomber and a quality regression through the real app; the report shows the mix,
    the blocks and the faults."""
    report_path = tmp_path / "sim.json"
    env = dict(os.environ, GODSEYE_HOME=str(shop_home))
    proc = subprocess.run(
        [sys.executable, "-m", "godseye.cli.main", "simulate", "--duration", "14", "--rate", "5",
         "--concurrency", "4", "--seed", "5", "--scenario", "shoppers,attack,bombs,quality", "--quality-drop", "1.0",
         "--report", str(report_path), "--quiet"],
        env=env, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert report_path.exists(), proc.stderr[-3000:]
    report = json.loads(report_path.read_text())
    totals = report["totals"]
    assert proc.returncode == 0, (proc.stderr[-3000:], report["errors"])
    assert "Attackers and bombers" in proc.stderr  # the summary tables
    assert totals["errors"] == 0 and totals["turns"] >= 10
    kinds = set(report["journeys"])
    assert {"attacker", "bomber"} <= kinds and len(kinds - {"attacker", "bomber"}) >= 2, kinds
    assert report["config"]["seed"] == 5 and report["plan_digest"]
    shopper_turns = [s for s in report["steps"] if s["role"] == "shopper" and s["action"] == "say"]
    assert sum(1 for s in shopper_turns if s["tools"]) >= len(shopper_turns) / 2  # the MCP servers answered

    attacker = next(o for o in report["offenders"] if o["kind"] == "attacker")
    assert attacker["blocked"] and attacker["refused_after_block"], attacker
    assert attacker["blocked_by"] == "escalation"  # repeated attacks: the guardrails block the session
    assert attacker["hostile_before_block"] >= 2
    bomber = next(o for o in report["offenders"] if o["kind"] == "bomber")
    assert bomber["blocked"] and bomber["blocked_by"] == "image-validator", bomber
    assert {"bomb", "text_chunk_bomb", "polyglot", "animation", "bad_format"} & set(bomber["uploads"])
    assert totals["innocent_blocked"] == []
    assert totals["blocked_sessions"] == [attacker["session_id"]]
    assert report["latency_ms"]["p50"] > 0
    assert sum(report["faults"]["degraded_answers"].values()) > 0  # the regression reached the answers
    steps = report["steps"]
    assert {s["action"] for s in steps} == {"say", "upload"}
    assert all(s["session_id"].startswith(report["run_id"]) for s in steps)
