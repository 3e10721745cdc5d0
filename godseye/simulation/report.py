"""The run's report: what was sent, what the product did, who got blocked and how fast.

Built from the step records plus the block list (the source of truth for blocks: a session may be
blocked by the guardrails' escalation, by the image validator, or by the self-healing webhook when
a Datadog monitor fires). "Innocent" means a shopper journey that was blocked: the number that must
stay at zero.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from godseye.simulation.engine import Simulation, StepRecord


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "max": None, "mean": None}
    arr = np.asarray(values, dtype=float)
    return {"p50": round(float(np.percentile(arr, 50)), 1), "p95": round(float(np.percentile(arr, 95)), 1),
            "max": round(float(arr.max()), 1), "mean": round(float(arr.mean()), 1)}


def _blocks(sim: Simulation) -> dict[tuple[str, str], dict[str, Any]]:
    """Active blocks on this run's sessions and users, with their source."""
    from guardrails.blocklist import BlockList

    out: dict[tuple[str, str], dict[str, Any]] = {}
    try:
        blocklist = BlockList()
    except Exception:  # no guard database: no blocks to report
        return out
    for j in sim.journeys:
        for kind, key in (("session", j.session_id), ("user", j.user_id)):
            entry = blocklist.active(kind, key)
            if entry is not None and (kind, key) not in out:
                out[(kind, key)] = {"kind": kind, "key": key, "source": entry.source, "reason": entry.reason,
                                    "created_at": entry.created_at}
    return out


def _offender(sim: Simulation, records: list[StepRecord], blocks: dict, journey: Any) -> dict[str, Any]:
    """Attacker/bomber outcome: first hostile step, block time and source, what happened after."""
    mine = [r for r in records if r.journey == journey.index]
    hostile = [r for r in mine if r.attack or (r.action == "upload")]
    first = hostile[0].ts if hostile else None
    entry = blocks.get(("session", journey.session_id)) or blocks.get(("user", journey.user_id))
    first_refused = next((r for r in mine if r.blocked), None)
    blocked_at = entry["created_at"] if entry else (first_refused.ts if first_refused else None)
    out = {
        "kind": journey.kind, "session_id": journey.session_id, "user_id": journey.user_id,
        "steps": len(mine), "hostile_steps": len(hostile),
        "hostile_before_block": sum(1 for r in hostile if blocked_at is None or r.ts < blocked_at),
        "blocked": entry is not None or first_refused is not None,
        "blocked_by": entry["source"] if entry else None,
        "seconds_to_block": round(blocked_at - first, 2) if (blocked_at and first) else None,
        "refused_after_block": bool(mine and mine[-1].blocked),
        "attacks": Counter(r.attack for r in mine if r.attack),
        "uploads": Counter(r.upload_kind for r in mine if r.upload_kind),
    }
    out["attacks"], out["uploads"] = dict(out["attacks"]), dict(out["uploads"])
    return out


def build_report(sim: Simulation) -> dict[str, Any]:
    records = sim.records
    wall = max(sim.finished_wall - sim.started_wall, 1e-9)
    turns = [r for r in records if r.action == "say"]
    uploads = [r for r in records if r.action == "upload"]
    errors = [r for r in records if r.error]
    blocks = _blocks(sim)

    per_kind: dict[str, dict[str, Any]] = {}
    by_kind: dict[str, list[StepRecord]] = defaultdict(list)
    for r in records:
        by_kind[r.kind].append(r)
    started = Counter(j.kind for j in sim.journeys)
    for kind in sorted(set(started) | set(by_kind)):
        rs = by_kind.get(kind, [])
        done = {j.index for j in sim.journeys if j.kind == kind} - sim.cut
        per_kind[kind] = {
            "journeys": started.get(kind, 0), "completed": len(done),
            "turns": sum(1 for r in rs if r.action == "say"), "uploads": sum(1 for r in rs if r.action == "upload"),
            "errors": sum(1 for r in rs if r.error),
            "latency_ms": percentiles([r.latency_ms for r in rs if r.action == "say" and not r.error]),
        }

    innocent = sorted({j.session_id for j in sim.journeys if j.role == "shopper"
                       and (("session", j.session_id) in blocks or ("user", j.user_id) in blocks
                            or any(r.blocked for r in records if r.journey == j.index))})
    offenders = [_offender(sim, records, blocks, j) for j in sim.journeys if j.role != "shopper"]
    quality = [r.quality for r in turns if r.quality is not None]
    thirds = _by_third(turns, sim)
    return {
        "run_id": sim.config.run_id,
        "plan_digest": sim.plan.digest(),
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(sim.config).items()},
        "started_at": sim.started_wall,
        "wall_s": round(wall, 2),
        "totals": {
            "journeys": len(sim.journeys), "turns": len(turns), "uploads": len(uploads),
            "steps_per_s": round(len(records) / wall, 2), "turns_per_s": round(len(turns) / wall, 2),
            "errors": len(errors), "error_rate": round(len(errors) / max(len(records), 1), 4),
            "blocked_sessions": sorted(k for (kind, k) in blocks if kind == "session"),
            "blocked_users": sorted(k for (kind, k) in blocks if kind == "user"),
            "innocent_blocked": innocent,
            "refused_turns": sum(1 for r in turns if r.blocked),
            "uploads_rejected": Counter(r.upload_kind for r in uploads if r.upload_kind and r.upload_kind != "ok"),
        },
        "latency_ms": percentiles([r.latency_ms for r in turns if not r.error]),
        "latency_by_third_ms": thirds,
        "quality": {"mean": round(float(np.mean(quality)), 4) if quality else None,
                    "by_third": _quality_by_third(turns, sim)},
        "journeys": per_kind,
        "offenders": offenders,
        "blocks": list(blocks.values()),
        "faults": sim.faults.summary(),
        "errors": [{"session_id": r.session_id, "kind": r.kind, "text": r.text, "error": r.error}
                   for r in errors[:50]],
        "steps": [r.to_json() for r in records],
    }


def _thirds(turns: list[StepRecord], sim: Simulation) -> list[list[StepRecord]]:
    span = sim.config.duration_s or max((r.t_s for r in turns), default=0.0) or 1.0
    out: list[list[StepRecord]] = [[], [], []]
    for r in turns:
        out[min(2, int(3 * r.t_s / span))].append(r)
    return out


def _by_third(turns: list[StepRecord], sim: Simulation) -> list[float | None]:
    """Median turn latency in each third of the run: the slope a slow degradation shows."""
    return [percentiles([r.latency_ms for r in part if not r.error and not r.blocked])["p50"]
            for part in _thirds(turns, sim)]


def _quality_by_third(turns: list[StepRecord], sim: Simulation) -> list[float | None]:
    out = []
    for part in _thirds(turns, sim):
        qs = [r.quality for r in part if r.quality is not None]
        out.append(round(float(np.mean(qs)), 4) if qs else None)
    return out


def write_report(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1, default=str))
    tmp.replace(path)
