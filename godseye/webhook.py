"""The self-healing endpoint: Datadog (or the local stand-in) calls it when rule 1 or 5 alerts.

POST /hooks/datadog/self-heal with the payload defined in `datadog/webhooks/godseye-self-heal.json`.
- Authentication: the `X-Godseye-Webhook-Secret` header must equal GODSEYE_WEBHOOK_SECRET
  (constant-time compare). With no secret configured every call is refused: an open endpoint
  that blocks shoppers would be a denial-of-service tool.
- Replay safety: each event `id` is processed once (kept in SQLite, so retries after a restart are
  still recognised), and events whose `date` is older than GODSEYE_WEBHOOK_MAX_AGE_S are refused.
- Action: `Triggered`/`Re-Triggered` from a monitor tagged `godseye-rule:prompt-injection` or
  `godseye-rule:multimodal-abuse` blocks the session or user named in `alert.scope` through the
  guardrails' block list; `Recovered` lifts that block when GODSEYE_WEBHOOK_UNBLOCK_ON_RECOVERY is
  true. Every decision is recorded (who, why, which event) and answered quickly with 2xx.
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from godseye.config import get_settings
from guardrails.blocklist import BlockList

log = logging.getLogger(__name__)
PATH = "/hooks/datadog/self-heal"
SECRET_HEADER = "x-godseye-webhook-secret"
BLOCKING_RULES = {"prompt-injection", "multimodal-abuse"}
TRIGGERS = {"Triggered", "Re-Triggered"}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_events (
    event_id TEXT PRIMARY KEY,
    received_at REAL NOT NULL,
    transition TEXT,
    scope TEXT,
    rule TEXT,
    action TEXT NOT NULL,
    detail TEXT
);
"""


@dataclass
class Decision:
    status: int
    body: dict[str, Any]


class SelfHealer:
    """The endpoint's logic, separate from HTTP so tests and the stand-in can call it directly."""

    def __init__(self, secret: str | None = None, db_path: Path | None = None, blocklist: BlockList | None = None,
                 max_age_s: float | None = None, unblock_on_recovery: bool | None = None):
        self.secret = secret if secret is not None else os.environ.get("GODSEYE_WEBHOOK_SECRET", "")
        settings = get_settings()
        self.db_path = db_path or settings.home / "webhook.sqlite"
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.blocklist = blocklist or BlockList()
        self.max_age_s = max_age_s if max_age_s is not None else float(os.environ.get("GODSEYE_WEBHOOK_MAX_AGE_S", "600"))
        env_unblock = os.environ.get("GODSEYE_WEBHOOK_UNBLOCK_ON_RECOVERY", "false").lower() in {"1", "true", "yes"}
        self.unblock_on_recovery = env_unblock if unblock_on_recovery is None else unblock_on_recovery
        self._lock = threading.Lock()
        with self._db() as db:
            db.executescript(_SCHEMA)

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db_path, timeout=10)

    def handle(self, secret_header: str | None, raw: bytes) -> Decision:
        if not self.secret:
            return Decision(503, {"error": "webhook secret not configured (set GODSEYE_WEBHOOK_SECRET)"})
        if not secret_header or not hmac.compare_digest(secret_header.encode(), self.secret.encode()):
            return Decision(401, {"error": "bad or missing X-Godseye-Webhook-Secret"})
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return Decision(400, {"error": "body is not JSON"})
        if not isinstance(payload, dict) or not isinstance(payload.get("alert"), dict):
            return Decision(400, {"error": "payload has no 'alert' object"})
        event_id = str(payload.get("id") or "")
        if not event_id:
            return Decision(400, {"error": "payload has no event 'id'"})
        age = self._age_s(payload.get("date"))
        if age is None:
            return Decision(400, {"error": "payload 'date' must be epoch milliseconds"})
        if age > self.max_age_s:
            return Decision(409, {"error": f"stale event ({age:.0f} s old)"})
        with self._lock:
            if self._seen(event_id):
                return Decision(200, {"duplicate": True, "event_id": event_id})
            decision = self._act(payload)
            self._record(event_id, payload, decision.body)
        return decision

    @staticmethod
    def _age_s(date: Any) -> float | None:
        try:
            millis = float(date)
        except (TypeError, ValueError):
            return None
        return max(0.0, time.time() - millis / 1000.0)

    def _seen(self, event_id: str) -> bool:
        with self._db() as db:
            return db.execute("SELECT 1 FROM webhook_events WHERE event_id=?", (event_id,)).fetchone() is not None

    def _record(self, event_id: str, payload: dict[str, Any], body: dict[str, Any]) -> None:
        alert = payload["alert"]
        with self._db() as db:
            db.execute(
                "INSERT OR IGNORE INTO webhook_events VALUES (?,?,?,?,?,?,?)",
                (event_id, time.time(), alert.get("transition"), alert.get("scope"), body.get("rule"),
                 body.get("action", "none"), json.dumps(body)),
            )

    def _act(self, payload: dict[str, Any]) -> Decision:
        alert = payload["alert"]
        tags = [t.strip() for t in str(payload.get("tags") or "").split(",") if t.strip()]
        rules = {t.split(":", 1)[1] for t in tags if t.startswith("godseye-rule:")}
        rule = next(iter(rules & BLOCKING_RULES), None)
        transition = str(alert.get("transition") or "")
        target = _scope_target(str(alert.get("scope") or ""))
        body: dict[str, Any] = {"rule": rule, "transition": transition, "action": "none"}
        if rule is None or target is None:
            body["detail"] = "not a blocking rule or no session_id/user_id in scope"
            return Decision(200, body)
        kind, key = target
        body.update(kind=kind, key=key)
        if transition in TRIGGERS:
            entry = self.blocklist.block(kind, key, reason=f"Datadog monitor: {alert.get('title') or rule}",
                                         source=f"datadog-webhook:{payload.get('id')}")
            body.update(action="blocked", expires_at=entry.expires_at)
            log.warning("self-heal: blocked %s %s (%s)", kind, key, rule)
        elif transition == "Recovered" and self.unblock_on_recovery:
            lifted = self.blocklist.lift(kind, key, by=f"datadog-webhook:{payload.get('id')}")
            body.update(action="unblocked" if lifted else "none")
        return Decision(200, body)


def _scope_target(scope: str) -> tuple[str, str] | None:
    for part in scope.split(","):
        key, _, value = part.strip().partition(":")
        if key == "session_id" and value:
            return "session", value
        if key == "user_id" and value:
            return "user", value
    return None


def build_app(healer: SelfHealer | None = None) -> Starlette:
    healer = healer or SelfHealer()

    async def self_heal(request: Request) -> JSONResponse:
        raw = await request.body()
        if len(raw) > 256 * 1024:
            return JSONResponse({"error": "payload too large"}, status_code=413)
        decision = healer.handle(request.headers.get(SECRET_HEADER), raw)
        return JSONResponse(decision.body, status_code=decision.status)

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route(PATH, self_heal, methods=["POST"]), Route("/health", health)])


def main(argv: list[str] | None = None) -> None:
    from godseye.netguard import install_if_requested

    install_if_requested()
    parser = argparse.ArgumentParser(prog="python -m godseye.webhook", description="Godseye self-healing webhook")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8088)
    args = parser.parse_args(argv)
    import uvicorn

    uvicorn.run(build_app(), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
