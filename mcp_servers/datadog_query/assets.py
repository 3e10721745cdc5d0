"""What the AI SRE reads from `datadog/` (the detection rules as code): thresholds and runbooks.

Why from the assets rather than constants: "is 4% errors bad?" and "what do I do now?" must have
the answers the monitors and incident settings give, and stay right when someone tunes a monitor.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from godseye.config import PROJECT_ROOT


@dataclass(frozen=True)
class Rule:
    key: str
    threshold: float
    comparator: str
    warning: float | None = None


@lru_cache(maxsize=4)
def monitor_rules(root: Path = PROJECT_ROOT / "datadog") -> dict[str, Rule]:
    """Monitor key -> its critical threshold and comparator (monitors the stand-in can read)."""
    from local_datadog.monitors import load_monitors

    out = {}
    for mon in load_monitors(root):
        th = mon.thresholds
        out[mon.key] = Rule(mon.key, float(th.get("critical", mon.query.threshold)), mon.query.comparator,
                            th.get("warning"))
    return out


@lru_cache(maxsize=4)
def runbooks(root: Path = PROJECT_ROOT / "datadog") -> dict[str, str]:
    """Monitor key -> the runbook line of the incident setting the monitor declares."""
    from local_datadog.incidents import load_incident_settings

    out: dict[str, str] = {}
    for setting in load_incident_settings(root).values():
        for key in setting.monitors:
            if setting.runbook:
                out.setdefault(key, setting.runbook)
    return out


def threshold(key: str, default: float) -> float:
    rule = monitor_rules().get(key)
    return rule.threshold if rule else default
