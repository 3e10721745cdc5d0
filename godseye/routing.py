"""Cost-aware model routing: spend is tracked per user and per model; over budget means a cheaper tier.

- Tiers: GODSEYE_MODEL_TIERS, most capable first (default: the configured Gemini model, then
  gemini-2.5-flash-lite, then godseye-local when a Gemini key is set; just godseye-local offline).
- Budgets: GODSEYE_USER_BUDGET_USD (per user) and GODSEYE_SHOP_BUDGET_USD (everyone), over a rolling
  window of GODSEYE_BUDGET_WINDOW_S seconds. A user over budget moves down one tier per budget
  spent (2x the budget -> two tiers down), the shop over budget moves everyone down one tier, and
  when the window rolls past the spend the user is back on the first tier.
- Spend per call = tokens x the price table (`godseye.pricing`), recorded in SQLite so every
  process (UI, CLI, workers) sees the same ledger.

`RoutedLlm` is the model the agents hold; `CostRoutingPlugin` picks the tier before each model call
(written into `llm_request.model`, since ADK gives the model no user id), records spend after it,
and emits `llm.latency`, `llm.token_usage`, `llm.cost_usd`, and `llm.routing.downgrade` plus a
Datadog event when a user's tier changes.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from google.adk.agents.callback_context import CallbackContext
from google.adk.models.base_llm import BaseLlm
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.plugins.base_plugin import BasePlugin
from pydantic import PrivateAttr

from godseye.config import LOCAL_MODEL, gemini_configured, get_settings
from godseye.pricing import cost_usd
from telemetry.metrics import metrics

log = logging.getLogger(__name__)
ROUTED_PREFIX = "godseye-routed"
STATE_MODEL = "routing:model"


def model_tiers() -> list[str]:
    raw = os.environ.get("GODSEYE_MODEL_TIERS")
    if raw:
        return [t.strip() for t in raw.split(",") if t.strip()]
    if gemini_configured():
        return [get_settings().gemini_model, "gemini-2.5-flash-lite", LOCAL_MODEL]
    return [LOCAL_MODEL]


@dataclass(frozen=True)
class Budget:
    user_usd: float | None
    shop_usd: float | None
    window_s: float

    @classmethod
    def from_env(cls) -> Budget:
        """Budgets from the environment; an empty value switches that budget off."""

        def number(name: str, default: str) -> float | None:
            value = os.environ.get(name, default)
            return float(value) if value else None

        return cls(user_usd=number("GODSEYE_USER_BUDGET_USD", "1.0"), shop_usd=number("GODSEYE_SHOP_BUDGET_USD", ""),
                   window_s=float(os.environ.get("GODSEYE_BUDGET_WINDOW_S", "3600")))


class SpendLedger:
    """Spend per call in SQLite: (time, user, model, tokens, usd)."""

    def __init__(self, path: Path | None = None):
        self.path = path or get_settings().home / "spend.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._conn().executescript(
            "CREATE TABLE IF NOT EXISTS spend (ts REAL, user_id TEXT, model TEXT, input_tokens INTEGER,"
            " output_tokens INTEGER, usd REAL);"
            "CREATE INDEX IF NOT EXISTS spend_user_ts ON spend(user_id, ts);"
            "CREATE TABLE IF NOT EXISTS tiers (user_id TEXT PRIMARY KEY, model TEXT, changed_at REAL);"
        )

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            self._local.conn = conn
        return conn

    def record(self, user_id: str, model: str, input_tokens: int, output_tokens: int, usd: float,
               at: float | None = None) -> None:
        self._conn().execute("INSERT INTO spend VALUES (?,?,?,?,?,?)",
                             (at or time.time(), user_id, model, input_tokens, output_tokens, usd))

    def spent(self, since: float, user_id: str | None = None) -> float:
        if user_id is None:
            row = self._conn().execute("SELECT COALESCE(SUM(usd), 0) FROM spend WHERE ts >= ?", (since,)).fetchone()
        else:
            row = self._conn().execute("SELECT COALESCE(SUM(usd), 0) FROM spend WHERE ts >= ? AND user_id = ?",
                                       (since, user_id)).fetchone()
        return float(row[0])

    def last_tier(self, user_id: str) -> str | None:
        row = self._conn().execute("SELECT model FROM tiers WHERE user_id = ?", (user_id,)).fetchone()
        return row[0] if row else None

    def set_tier(self, user_id: str, model: str) -> None:
        self._conn().execute("INSERT INTO tiers VALUES (?,?,?) ON CONFLICT(user_id) DO UPDATE SET model=excluded.model,"
                             " changed_at=excluded.changed_at", (user_id, model, time.time()))


class BudgetRouter:
    def __init__(self, tiers: list[str] | None = None, budget: Budget | None = None, ledger: SpendLedger | None = None,
                 clock: Any = time.time):
        self.tiers = tiers or model_tiers()
        self.budget = budget or Budget.from_env()
        self.ledger = ledger or SpendLedger()
        self.clock = clock

    def tier_for(self, user_id: str) -> tuple[str, str]:
        """(model, reason) for this user's next model call."""
        since = self.clock() - self.budget.window_s
        steps, reasons = 0, []
        if self.budget.user_usd:
            spent = self.ledger.spent(since, user_id)
            over = int(spent // self.budget.user_usd)
            if over:
                steps += over
                reasons.append(f"user spent ${spent:.4f} of ${self.budget.user_usd:.2f} in the window")
        if self.budget.shop_usd:
            shop = self.ledger.spent(since)
            if shop >= self.budget.shop_usd:
                steps += 1
                reasons.append(f"shop spent ${shop:.4f} of ${self.budget.shop_usd:.2f} in the window")
        model = self.tiers[min(steps, len(self.tiers) - 1)]
        return model, "; ".join(reasons) or "within budget"

    def record(self, user_id: str, model: str, input_tokens: int, output_tokens: int) -> float:
        usd = cost_usd(model, input_tokens, output_tokens)
        self.ledger.record(user_id, model, input_tokens, output_tokens, usd, at=self.clock())
        return usd


class RoutedLlm(BaseLlm):
    """The model agents hold when routing is on: each call goes to the tier the plugin chose."""

    model: str = ROUTED_PREFIX
    tiers: list[str]
    _instances: dict[str, BaseLlm] = PrivateAttr(default_factory=dict)

    def _llm(self, name: str) -> BaseLlm:
        if name not in self._instances:
            from google.adk.models.registry import LLMRegistry

            from godseye.models import resolve_model

            resolved = resolve_model(name)
            self._instances[name] = resolved if isinstance(resolved, BaseLlm) else LLMRegistry.new_llm(resolved)
        return self._instances[name]

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        tier = llm_request.model if llm_request.model in self.tiers else self.tiers[0]
        llm_request.model = tier
        async for response in self._llm(tier).generate_content_async(llm_request, stream):
            response.model_version = response.model_version or tier
            yield response


class CostRoutingPlugin(BasePlugin):
    def __init__(self, router: BudgetRouter | None = None):
        super().__init__(name="godseye_cost_routing")
        self._router = router
        self._started: dict[tuple[str, str], tuple[float, str]] = {}
        self._turn_tier: dict[str, tuple[str, str]] = {}

    @cached_property
    def router(self) -> BudgetRouter:
        return self._router or BudgetRouter()

    async def before_model_callback(self, *, callback_context: CallbackContext, llm_request: LlmRequest) -> None:
        user_id = callback_context.user_id
        model = llm_request.model or "unknown"
        if model.startswith(ROUTED_PREFIX):
            # One tier per turn: a turn that crosses the budget finishes on the tier it started on.
            key = callback_context.invocation_id
            if key not in self._turn_tier:
                self._turn_tier[key] = self.router.tier_for(user_id)
                if len(self._turn_tier) > 10_000:
                    self._turn_tier.pop(next(iter(self._turn_tier)))
            model, reason = self._turn_tier[key]
            llm_request.model = model
            previous = self.router.ledger.last_tier(user_id)
            if previous is not None and previous != model:
                self._announce(user_id, previous, model, reason)
            if previous != model:
                self.router.ledger.set_tier(user_id, model)
            callback_context.state[STATE_MODEL] = {"model": model, "reason": reason}
            _tag_current_span(model, reason)
        self._started[(callback_context.invocation_id, callback_context.agent_name)] = (time.perf_counter(), model)
        return None

    def _announce(self, user_id: str, previous: str, model: str, reason: str) -> None:
        cheaper = self.router.tiers.index(model) > self.router.tiers.index(previous) if (
            model in self.router.tiers and previous in self.router.tiers) else True
        direction = "downgrade" if cheaper else "restore"
        metrics.increment(f"llm.routing.{direction}", tags={"user_id": user_id, "from_model": previous,
                                                             "to_model": model})
        metrics.event(f"Godseye routed {user_id} from {previous} to {model}", f"{direction}: {reason}",
                      alert_type="warning" if cheaper else "info", tags={"user_id": user_id})
        log.info("routing %s: %s -> %s (%s)", user_id, previous, model, reason)

    async def after_model_callback(self, *, callback_context: CallbackContext, llm_response: LlmResponse) -> None:
        if llm_response.partial:
            return None
        agent, user_id = callback_context.agent_name, callback_context.user_id
        started, model = self._started.pop((callback_context.invocation_id, agent),
                                           (None, llm_response.model_version or "unknown"))
        if started is not None:
            metrics.distribution("llm.latency", (time.perf_counter() - started) * 1000, tags={"agent": agent,
                                                                                              "model": model})
        usage = llm_response.usage_metadata
        if usage is None:
            return None
        prompt, output = int(usage.prompt_token_count or 0), int(usage.candidates_token_count or 0)
        usd = self.router.record(user_id, model, prompt, output)
        for direction, count in (("input", prompt), ("output", output)):
            metrics.count("llm.token_usage", count,
                          tags={"model": model, "agent": agent, "direction": direction, "user_id": user_id})
        metrics.count("llm.cost_usd", usd, tags={"model": model, "user_id": user_id})
        return None


def _tag_current_span(model: str, reason: str) -> None:
    try:
        from ddtrace.trace import tracer
    except ImportError:
        return
    span = tracer.current_span()
    if span is not None:
        span.set_tag("godseye.routing.model", model)
        span.set_tag("godseye.routing.reason", reason)


def routed_model(agent: str) -> BaseLlm | str:
    """The model an agent holds: a RoutedLlm over the tiers when there is more than one tier and the
    agent has no explicit model setting; otherwise the agent's own setting."""
    settings = get_settings()
    explicit = os.environ.get(f"GODSEYE_MODEL_{agent.upper()}") or (settings.model if settings.model != "auto" else None)
    tiers = model_tiers()
    if os.environ.get("GODSEYE_MODEL_TIERS") or (explicit is None and len(tiers) > 1):
        return RoutedLlm(tiers=tiers)
    from godseye.models import resolve_model

    return resolve_model(settings.model_for(agent))
