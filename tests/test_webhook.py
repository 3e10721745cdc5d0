"""The self-healing webhook: authenticated, replay-safe, idempotent, and it blocks only who is named."""

from __future__ import annotations

import json
import time

import pytest
from starlette.testclient import TestClient

from godseye.webhook import PATH, SelfHealer, build_app
from guardrails.blocklist import BlockList

SECRET = "s3cret-for-tests"


def payload(event_id: str, scope: str, transition: str = "Triggered", rule: str = "prompt-injection",
            date_ms: float | None = None) -> dict:
    return {
        "version": "1", "id": event_id, "date": str(int(date_ms if date_ms is not None else time.time() * 1000)),
        "tags": f"godseye-rule:{rule}, managed-by:godseye, {scope}",
        "alert": {"id": "42", "title": "Prompt injection", "transition": transition, "scope": scope},
    }


@pytest.fixture
def setup(tmp_path):
    blocks = BlockList(tmp_path / "guard.sqlite")
    healer = SelfHealer(secret=SECRET, db_path=tmp_path / "webhook.sqlite", blocklist=blocks,
                        unblock_on_recovery=True)
    return TestClient(build_app(healer)), blocks


def post(client, body, secret=SECRET):
    headers = {"X-Godseye-Webhook-Secret": secret} if secret is not None else {}
    return client.post(PATH, content=json.dumps(body), headers=headers)


def test_rejects_missing_or_wrong_secret(setup):
    client, blocks = setup
    assert post(client, payload("e1", "session_id:abc"), secret=None).status_code == 401
    assert post(client, payload("e1", "session_id:abc"), secret="nope").status_code == 401
    assert blocks.check(session_id="abc") is None


def test_blocks_named_session_only_and_is_idempotent(setup):
    client, blocks = setup
    first = post(client, payload("e2", "session_id:attacker"))
    assert first.status_code == 200 and first.json()["action"] == "blocked"
    again = post(client, payload("e2", "session_id:attacker"))
    assert again.json() == {"duplicate": True, "event_id": "e2"}
    assert blocks.check(session_id="attacker") is not None
    assert blocks.check(session_id="innocent") is None
    assert len(blocks.list_active()) == 1


def test_user_scope_blocks_user_across_sessions(setup):
    client, blocks = setup
    post(client, payload("e3", "user_id:bomber", rule="multimodal-abuse"))
    assert blocks.check(session_id="any-session", user_id="bomber") is not None
    assert blocks.check(user_id="someone-else") is None


def test_stale_and_malformed_events_are_refused(setup):
    client, blocks = setup
    old = payload("e4", "session_id:x", date_ms=(time.time() - 3600) * 1000)
    assert post(client, old).status_code == 409
    bad = client.post(PATH, content=b"{not json", headers={"X-Godseye-Webhook-Secret": SECRET})
    assert bad.status_code == 400
    assert blocks.check(session_id="x") is None


def test_non_blocking_rule_does_nothing(setup):
    client, blocks = setup
    response = post(client, payload("e5", "session_id:y", rule="answer-quality"))
    assert response.json()["action"] == "none"
    assert blocks.check(session_id="y") is None


def test_recovery_lifts_block_when_configured(setup):
    client, blocks = setup
    post(client, payload("e6", "session_id:z"))
    assert blocks.check(session_id="z") is not None
    assert post(client, payload("e7", "session_id:z", transition="Recovered")).json()["action"] == "unblocked"
    assert blocks.check(session_id="z") is None


def test_unconfigured_secret_refuses_everything(tmp_path):
    healer = SelfHealer(secret="", db_path=tmp_path / "w.sqlite", blocklist=BlockList(tmp_path / "g.sqlite"))
    decision = healer.handle("anything", json.dumps(payload("e8", "session_id:a")).encode())
    assert decision.status == 503
