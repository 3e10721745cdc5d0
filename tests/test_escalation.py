"""Escalation: repeated attacks block that session (or user), nobody else; blocks expire and lift."""

from __future__ import annotations

from dataclasses import dataclass

from guardrails.blocklist import BlockList
from guardrails.escalation import Escalation


@dataclass
class R:
    score: float
    verdict: str


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def make(tmp_path, clock=None):
    blocks = BlockList(tmp_path / "guard.sqlite")
    return Escalation(blocklist=blocks, clock=clock or Clock()), blocks


def test_one_attack_does_not_block_but_repeats_do(tmp_path):
    esc, blocks = make(tmp_path)
    assert not esc.record("s1", "u1", R(0.95, "block")).blocked
    decision = esc.record("s1", "u1", R(0.9, "block"))
    assert decision.blocked and decision.entry.kind == "session"
    assert blocks.check(session_id="s1") is not None
    assert blocks.check(session_id="s2") is None


def test_benign_traffic_never_escalates(tmp_path):
    esc, blocks = make(tmp_path)
    for _ in range(50):
        assert not esc.record("s1", "u1", R(0.05, "allow")).blocked
    assert blocks.list_active() == []


def test_risk_decays_over_time(tmp_path):
    clock = Clock()
    esc, _ = make(tmp_path, clock)
    esc.record("s1", "u1", R(0.95, "block"))
    clock.now += 3600 * 2
    assert esc.risk("s1") < 0.01
    assert not esc.record("s1", "u1", R(0.95, "block")).blocked


def test_user_blocked_across_sessions(tmp_path):
    esc, blocks = make(tmp_path)
    decisions = [esc.record(f"s{i}", "mallory", R(0.95, "block")) for i in range(4)]
    assert decisions[-1].blocked
    assert blocks.check(session_id="fresh-session", user_id="mallory") is not None
    assert blocks.check(session_id="fresh-session", user_id="alice") is None


def test_survives_restart_and_can_be_lifted(tmp_path):
    clock = Clock()
    esc, _ = make(tmp_path, clock)
    esc.record("s1", "u1", R(0.95, "block"))
    again = Escalation(blocklist=BlockList(tmp_path / "guard.sqlite"), clock=clock)
    assert again.record("s1", "u1", R(0.95, "block")).blocked
    blocks = BlockList(tmp_path / "guard.sqlite")
    assert blocks.lift("session", "s1") == 1
    assert blocks.check(session_id="s1") is None
