"""Running a conversation turn through an ADK App: the one code path for CLI, UI, tests and load.

`ShopRuntime.turn()` sends one user message through the App's Runner (SQLite sessions, so a
conversation survives restarts) and condenses the events into a `TurnResult`: who answered, the
reply, the tool calls, the products shown, the guardrail scores and whether the session is blocked.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import sys
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from google.adk.apps import App
from google.adk.runners import Runner
from google.adk.sessions.session import Session
from google.genai import types

from godseye.config import PROJECT_ROOT, apply_offline_defaults, get_settings
from godseye.local_model.references import products_in
from godseye.local_model.view import tool_payload
from godseye.nudges import NudgeEngine
from godseye.nudges import get_engine as get_nudge_engine
from godseye.session_store import ConcurrentSqliteSessionService
from telemetry.llmobs import chat_turn

log = logging.getLogger(__name__)
T = TypeVar("T")
TRANSFER_TOOL = "transfer_to_agent"
PRODUCT_FIELDS = ("id", "name", "price", "category", "subcategory", "colours", "sizes", "stock")


def load_app(name: str = "vcommerce") -> App:
    """Import `agents/<name>/agent.py` the way `adk web agents/` does and return its App."""
    apply_offline_defaults()
    agents_dir = str(PROJECT_ROOT / "agents")
    if agents_dir not in sys.path:
        sys.path.insert(0, agents_dir)
    module = importlib.import_module(f"{name}.agent")
    return module.app


@dataclass
class TurnResult:
    session: str
    user: str
    text: str
    agent: str | None = None
    reply: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    products: list[dict[str, Any]] = field(default_factory=list)
    scores: dict[str, Any] = field(default_factory=dict)
    blocked: bool = False
    model: str | None = None
    route: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    latency_ms: float = 0.0
    error: str | None = None
    # What the stylist suggests unprompted after this turn (godseye/nudges): kind, text, products, agent.
    nudges: list[dict[str, Any]] = field(default_factory=list)
    # Raw tool payloads of this turn, for grounding checks; not part of the JSON output.
    tool_results: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("text")
        data.pop("tool_results")
        return data


class ShopRuntime:
    """Owns one Runner and its session service for the lifetime of a process."""

    def __init__(self, app: App | None = None, app_name: str = "vcommerce", *, nudges: NudgeEngine | None = None,
                 proactive: bool | None = None):
        settings = get_settings()
        settings.ensure_home()
        self.app = app or load_app(app_name)
        # The stylist's unprompted suggestions belong to the shop, not to the operators' AI SRE.
        self.proactive = self.app.name == "vcommerce" if proactive is None else proactive
        # WAL + serialised writes: many concurrent conversations, no 'database is locked'.
        self.session_service = ConcurrentSqliteSessionService(str(settings.sessions_db))
        self.runner = Runner(app=self.app, session_service=self.session_service)
        self._nudges = nudges

    @property
    def nudges(self) -> NudgeEngine:
        if self._nudges is None:
            self._nudges = get_nudge_engine()
        return self._nudges

    async def warm_up(self) -> None:
        """Start every MCP server and load the embedder and catalog now, so the first shopper does
        not wait for them (a stdio server takes seconds to start on small machines)."""
        from google.adk.tools.base_toolset import BaseToolset

        toolsets: dict[int, BaseToolset] = {}
        stack = [self.app.root_agent]
        while stack:
            agent = stack.pop()
            stack.extend(getattr(agent, "sub_agents", []) or [])
            for tool in getattr(agent, "tools", []) or []:
                if isinstance(tool, BaseToolset):
                    toolsets[id(tool)] = tool

        async def tools_of(toolset: BaseToolset) -> None:
            try:
                await toolset.get_tools()
            except Exception:  # a dead server is reported on first use, with a clear message
                log.warning("warm-up: %s did not start", type(toolset).__name__, exc_info=True)

        def local_models() -> None:
            from godseye.embedding import get_embedder

            get_embedder().embed_one("warm up")
            if self.proactive:
                self.nudges.warm_up()

        await asyncio.gather(*(tools_of(t) for t in toolsets.values()), asyncio.to_thread(local_models))

    async def ensure_session(self, session_id: str, user_id: str) -> Session | None:
        """Create the session if it is new; return the existing one (None when just created)."""
        name = self.app.name
        existing = await self.session_service.get_session(app_name=name, user_id=user_id, session_id=session_id)
        if existing is None:
            await self.session_service.create_session(app_name=name, user_id=user_id, session_id=session_id)
        return existing

    async def turn(self, *, session_id: str, user_id: str, text: str) -> TurnResult:
        # --- telemetry (telemetry/llmobs.py): one trace per turn, root span `godseye.chat.turn` +
        # LLM Observability workflow span; a no-op when tracing is off.
        with chat_turn(app=self.app.name, session_id=session_id, user_id=user_id, text=text) as record:
            result = await self._run_turn(session_id=session_id, user_id=user_id, text=text)
            record(result)
        return result
        # --- end telemetry

    async def _run_turn(self, *, session_id: str, user_id: str, text: str) -> TurnResult:
        result = TurnResult(session=session_id, user=user_id, text=text)
        started = time.perf_counter()
        last_activity: float | None = None
        try:
            session = await self.ensure_session(session_id, user_id)
            last_activity = session.last_update_time if session is not None else None
            # --- nudges (godseye/nudges): "stop suggestions" / "tips on" is answered here, no model call.
            ack = None
            if self.proactive and (session is None or not session.state.get("guard:blocked")):
                ack = await self._nudge_call("preference", session_id, user_id, text)
            if ack:
                result.agent, result.reply = "stylist", ack
            else:
                message = types.Content(role="user", parts=[types.Part(text=text)])
                async for event in self.runner.run_async(user_id=user_id, session_id=session_id,
                                                         new_message=message):
                    self._absorb(event, result)
                await self._read_state(result)
        except Exception as exc:  # the conversation and cart survive; the shopper gets a message
            log.exception("turn failed")
            result.error = f"{type(exc).__name__}: {exc}"
            if not result.reply:
                result.reply = "Sorry, something went wrong on our side. Your cart and conversation are kept."
        if self.proactive:
            decision = await self._nudge_call("after_turn", result, last_activity=last_activity)
            result.nudges = decision.nudges if decision is not None else []
        # --- end nudges
        result.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        return result

    async def _nudge_call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Nudges run off the event loop (SQLite, catalog reads) and can never fail a turn."""
        try:
            return await asyncio.to_thread(getattr(self.nudges, method), *args, **kwargs)
        except Exception:
            log.exception("nudge engine failed; the turn goes on without nudges")
            return None

    @staticmethod
    def _absorb(event: Any, result: TurnResult) -> None:
        if event.author and event.author != "user":
            result.agent = event.author
        if event.content is None or not event.content.parts:
            return
        for call in event.get_function_calls() or []:
            if call.name == TRANSFER_TOOL:
                result.route.append(str((call.args or {}).get("agent_name")))
                continue
            result.tool_calls.append({"name": call.name, "args": dict(call.args or {}), "agent": event.author})
        for response in event.get_function_responses() or []:
            if response.name == TRANSFER_TOOL:
                continue
            payload = tool_payload(response.response)
            result.tool_results.append({"name": response.name, "payload": payload})
            for product in products_in(payload):
                entry = {k: product.get(k) for k in PRODUCT_FIELDS if k in product}
                if entry.get("id") and all(p.get("id") != entry["id"] for p in result.products):
                    result.products.append(entry)
            if isinstance(payload, dict) and payload.get("result_id") and payload.get("path"):
                result.images.append(str(payload["path"]))  # a generated try-on preview
        texts = [p.text for p in event.content.parts if p.text and not getattr(p, "thought", False)]
        if texts and not event.partial:
            result.reply = "\n".join(texts).strip()
        if event.model_version:
            result.model = event.model_version

    async def _read_state(self, result: TurnResult) -> None:
        session = await self.session_service.get_session(
            app_name=self.app.name, user_id=result.user, session_id=result.session
        )
        if session is None:
            return
        state = session.state
        result.scores = {
            "injection": state.get("guard:injection"),
            "quality": state.get("guard:quality"),
        }
        result.blocked = bool(state.get("guard:blocked"))

    async def close(self) -> None:
        await self.runner.close()


class BackgroundLoop:
    """One asyncio loop in a daemon thread, for callers that are not async (Streamlit, the CLI).

    MCP stdio clients are bound to the loop that opened them; creating a loop per message would
    leak server processes (DESIGN.md), so every coroutine goes through this single loop.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="godseye-loop", daemon=True)
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return self.submit(coro).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
