"""The nudge engine: after each turn, decide whether the stylist speaks first, and with what.

Moments, in the order they win when several apply in one turn:
1. `complete_look`: right after a cart add, pieces of the same look that go with it;
2. `returning`: the first turn after a pause (`return_after_s`): the cart's items, or what is popular;
3. `low_stock` / `cheaper_match`: the product the shopper just looked at has few units left, or a
   close match of the same kind costs noticeably less;
4. `idle`: several turns (`idle_turns`) without adding anything: what is popular in the kind of
   product they have been looking at (trends), or the catalog's top-rated in stock.
Every named product comes from the catalog (and the trends computed from the shop's own records)
and is read again right before the nudge is shown: nothing out of stock, nothing invented.

Limits: one nudge per `every_turns` turns and `max_per_session` per session; none for a turn that
was refused or failed; none once the shopper switched them off (chat command or UI toggle).

Measured as `nudge.shown`, `nudge.clicked` (a nudged product asked about, viewed or named within
`click_window_turns`) and `nudge.converted` (a nudged product added to the cart), tagged `kind`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from godseye.nudges import picks, preferences
from godseye.nudges.ledger import NudgeLedger, SessionState
from godseye.nudges.settings import NudgeSettings
from mcp_servers.catalog.models import Product
from telemetry.metrics import metrics

log = logging.getLogger(__name__)

AGENT = "stylist"
_PRODUCT_ID = re.compile(r"\b([A-Z]{1,4}-?\d{3,8})\b")
VIEW_TOOLS = {"get_product"}
ADD_TOOL = "add_to_cart"


class TurnLike(Protocol):
    """What the engine reads from a turn (`godseye.runtime.TurnResult` has all of it)."""

    session: str
    user: str
    text: str
    blocked: bool
    error: str | None
    scores: dict[str, Any]
    tool_calls: list[dict[str, Any]]
    tool_results: list[dict[str, Any]]
    products: list[dict[str, Any]]


@dataclass
class Nudge:
    kind: str
    text: str
    products: list[dict[str, Any]]
    agent: str = AGENT

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "products": self.products, "agent": self.agent}


@dataclass
class Decision:
    """What the engine decided for one turn, and why (tests and debugging read `reason`)."""

    nudges: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""
    turn: int = 0


@dataclass
class _Observed:
    added: list[str] = field(default_factory=list)  # product ids successfully added this turn
    viewed: list[str] = field(default_factory=list)  # product ids whose details were shown
    mentioned: set[str] = field(default_factory=set)  # ids referred to by the shopper or the tools
    text: str = ""


@dataclass
class _Draft:
    kind: str
    product_ids: list[str]
    compose: Callable[[list[Product]], str]
    required: set[str] = field(default_factory=set)  # ids that must still be in stock, or no nudge


def money(product: Product) -> str:
    if product.currency.upper() == "USD":
        return f"${product.price:,.2f}"
    return f"{product.price:,.2f} {product.currency}"


def _listing(products: list[Product]) -> str:
    items = [f"{p.name} ({money(p)})" for p in products]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}"


class NudgeEngine:
    """Decides the stylist's unprompted suggestions. One per process; safe to call from threads."""

    def __init__(
        self,
        settings: NudgeSettings | None = None,
        *,
        ledger: NudgeLedger | None = None,
        catalog: Any = None,
        cart: Any = None,
        trends: Any = None,
        clock: Callable[[], float] = time.time,
    ):
        self.settings = settings or NudgeSettings()
        self.ledger = ledger or NudgeLedger()
        self._catalog = catalog
        self._cart = cart
        self._trends = trends
        self.clock = clock
        self._lock = threading.RLock()  # re-entrant: `cart` and `trends` open `catalog` under it

    # --- collaborators, opened on first use (a turn that never nudges never loads the catalog) ----------

    def warm_up(self) -> None:
        """Open the catalog's in-memory snapshot and the cart store before the first turn needs them."""
        if self.catalog.exists():
            self.catalog.snapshot()
        _ = self.cart

    @property
    def catalog(self) -> Any:
        if self._catalog is None:
            with self._lock:
                if self._catalog is None:
                    from mcp_servers.catalog.store import CatalogStore

                    self._catalog = CatalogStore()
        return self._catalog

    @property
    def cart(self) -> Any:
        if self._cart is None:
            with self._lock:
                if self._cart is None:
                    from mcp_servers.cart.store import CartStore

                    self._cart = CartStore(products=self.catalog)
        return self._cart

    @property
    def trends(self) -> Any:
        if self._trends is None:
            with self._lock:
                if self._trends is None:
                    from mcp_servers.cart.trends import TrendSource

                    self._trends = TrendSource(self.cart.path, catalog=self.catalog)
        return self._trends

    # --- the shopper's switch -------------------------------------------------------------------------

    def preference(self, session_id: str, user_id: str, text: str) -> str | None:
        """The acknowledgement when `text` is only a suggestions switch that applies now, else None.

        "Turn suggestions on" while they are on is not a command (it may well be a shopping request),
        so the agents answer it.
        """
        command = preferences.command(text)
        if command is None or (command == "on" and self.ledger.enabled(session_id)):
            return None
        self.ledger.set_enabled(session_id, command == "on", user_id)
        return preferences.ON_ACK if command == "on" else preferences.OFF_ACK

    def set_enabled(self, session_id: str, enabled: bool, user_id: str = "") -> None:
        self.ledger.set_enabled(session_id, enabled, user_id)

    def enabled(self, session_id: str) -> bool:
        return self.ledger.enabled(session_id)

    # --- one turn -------------------------------------------------------------------------------------

    def after_turn(self, turn: TurnLike, *, last_activity: float | None = None) -> Decision:
        """Count the turn, attribute clicks and conversions of earlier nudges, then maybe nudge.

        `last_activity`: when the session was last active before this turn (ADK's session update time);
        without it the engine's own record of the previous turn is used.
        """
        now = self.clock()
        state = self.ledger.begin_turn(turn.session, turn.user, now)
        observed = self._observe(turn)
        if observed.added:
            state.last_add_turn = state.turn
        try:
            self._measure(state, observed)
        except Exception:  # measuring must never cost the shopper the turn
            log.exception("nudge attribution failed")
        state.seen = self._remember(state.seen, turn)
        decision = self._decide(state, turn, observed, now, last_activity)
        decision.turn = state.turn
        self.ledger.update(state)
        return decision

    def _decide(self, state: SessionState, turn: TurnLike, observed: _Observed, now: float,
                last_activity: float | None) -> Decision:
        settings = self.settings
        if not settings.enabled:
            return Decision(reason="disabled")
        command = preferences.command(turn.text)
        if command is not None:
            self.ledger.set_enabled(turn.session, command == "on", turn.user)
            return Decision(reason=f"preference_{command}")
        if state.opted_out:
            return Decision(reason="opted_out")
        injection = (turn.scores or {}).get("injection") or {}
        if turn.blocked or turn.error or (isinstance(injection, dict) and injection.get("verdict") == "block"):
            return Decision(reason="refused")
        if state.nudges >= settings.max_per_session:
            return Decision(reason="session_limit")
        if state.last_nudge_turn is not None and state.turn - state.last_nudge_turn < settings.every_turns:
            return Decision(reason="spacing")

        previous = last_activity if last_activity is not None else state.previous_turn_at
        returning = state.turn > 1 and previous is not None and now - previous >= settings.return_after_s
        idle = (state.turn - state.last_add_turn >= settings.idle_turns
                and state.turn - state.last_idle_turn >= settings.idle_turns)
        moments: list[Callable[[], _Draft | None]] = []
        if observed.added:
            moments.append(lambda: self._complete_look(state, observed.added[-1]))
        if returning:
            moments.append(lambda: self._returning(state))
        for product_id in reversed(observed.viewed):
            moments.append(lambda pid=product_id: self._viewed(state, pid))
        if idle:
            moments.append(lambda: self._idle(state))
        for build in moments:
            try:
                draft = build()
                nudge = self._finalise(draft) if draft else None
            except Exception:  # one failing moment must not cost the turn (or the other moments)
                log.exception("nudge moment failed")
                continue
            if nudge is None:
                continue
            state.nudges += 1
            state.last_nudge_turn = state.turn
            if nudge.kind == "idle":
                state.last_idle_turn = state.turn
            self.ledger.record_shown(turn.session, state.turn, nudge.kind,
                                     {p["id"]: p["name"] for p in nudge.products}, nudge.text, now)
            metrics.increment("nudge.shown", tags={"kind": nudge.kind})
            return Decision(nudges=[nudge.as_dict()], reason=f"shown_{nudge.kind}")
        return Decision(reason="no_moment" if not moments else "nothing_to_suggest")

    # --- reading the turn ------------------------------------------------------------------------------

    @staticmethod
    def _observe(turn: TurnLike) -> _Observed:
        seen = _Observed(text=turn.text or "")
        added_lines: set[str] = set()
        for item in turn.tool_results or []:
            payload = item.get("payload")
            name = item.get("name")
            if name == ADD_TOOL and isinstance(payload, dict):
                added_lines |= {str(line.get("product_id")) for line in payload.get("lines") or []
                                if isinstance(line, dict)}
            if name in VIEW_TOOLS and isinstance(payload, dict) and payload.get("id"):
                seen.viewed.append(str(payload["id"]))
                seen.mentioned.add(str(payload["id"]))
        for call in turn.tool_calls or []:
            args = call.get("args") or {}
            pid = args.get("product_id")
            if not isinstance(pid, str) or not pid:
                continue
            seen.mentioned.add(pid)
            if call.get("name") == ADD_TOOL and pid in added_lines and pid not in seen.added:
                seen.added.append(pid)
        seen.mentioned |= {m.upper() for m in _PRODUCT_ID.findall(seen.text)}
        return seen

    @staticmethod
    def _remember(seen: list[dict], turn: TurnLike) -> list[dict]:
        """Keep the kinds of product the shopper was shown lately (for 'popular in what you browse')."""
        for product in turn.products or []:
            if product.get("id") and product.get("subcategory"):
                seen = [s for s in seen if s.get("id") != product["id"]]
                seen.append({"id": str(product["id"]), "subcategory": str(product["subcategory"])})
        return seen[-20:]

    def _measure(self, state: SessionState, observed: _Observed) -> None:
        """Clicks and conversions of this session's recent nudges, each counted once per nudge."""
        if not (observed.mentioned or observed.added or observed.text):
            return
        text = observed.text.casefold()
        for shown in self.ledger.shown(state.session_id, since_turn=state.turn - self.settings.click_window_turns):
            if shown.turn >= state.turn:
                continue
            converted = [pid for pid in observed.added if pid in shown.products]
            clicked = [pid for pid in shown.products
                       if pid in observed.mentioned or (len(name := shown.products[pid]) > 3 and name.casefold() in text)]
            if converted and self.ledger.record_outcome(shown.id, converted[0], "converted", state.turn):
                metrics.increment("nudge.converted", tags={"kind": shown.kind})
            first_click = (clicked or converted or [None])[0]
            if first_click and self.ledger.record_outcome(shown.id, first_click, "clicked", state.turn):
                metrics.increment("nudge.clicked", tags={"kind": shown.kind})

    # --- the moments -------------------------------------------------------------------------------------

    def _cart_ids(self, user_id: str) -> list[str]:
        try:
            return [line.product_id for line in self.cart.view(user_id).lines if line.available]
        except Exception:
            log.debug("cart not readable for nudges", exc_info=True)
            return []

    def _trend_boost(self) -> dict[str, float]:
        trends = self.trends.trending(days=self.settings.trend_days, limit=50)
        top = max((p.score for p in trends.products), default=0.0)
        return {p.id: 0.5 * p.score / top for p in trends.products} if top > 0 else {}

    def _complete_look(self, state: SessionState, product_id: str) -> _Draft | None:
        product = self.catalog.get(product_id)
        if product is None:
            return None
        exclude = set(self._cart_ids(state.user_id)) | {product_id}
        pairs = picks.complete_the_look(self.catalog, product, limit=self.settings.products, exclude=exclude,
                                        boost=self._trend_boost())
        if not pairs:
            return None
        name = product.name

        def compose(products: list[Product]) -> str:
            return f"Nice pick! To complete the look with the {name}: {_listing(products)}."

        return _Draft("complete_look", [p.id for _, p in pairs], compose)

    def _returning(self, state: SessionState) -> _Draft | None:
        cart_ids = self._cart_ids(state.user_id)
        if cart_ids:
            def in_cart(products: list[Product]) -> str:
                still = "it's" if len(products) == 1 else "they're all"
                return f"Welcome back! Your cart still has {_listing(products)}; {still} in stock and ready when you are."

            return _Draft("returning", cart_ids[: self.settings.products], in_cart)
        focus = picks.focus_subcategory(state.seen)
        trending = self._trending(focus, exclude=set())
        if trending:
            scope = f" in {focus}" if focus else ""

            def popular(products: list[Product]) -> str:
                return (f"Welcome back! Popular{scope} in this shop over the last {self.settings.trend_days:g} days: "
                        f"{_listing(products)}.")

            return _Draft("returning", trending, popular)
        recent = [s["id"] for s in reversed(state.seen)][: self.settings.products]
        if recent:
            def still(products: list[Product]) -> str:
                return f"Welcome back! Still in stock from last time: {_listing(products)}."

            return _Draft("returning", recent, still)
        return None

    def _viewed(self, state: SessionState, product_id: str) -> _Draft | None:
        product = self.catalog.get(product_id)
        if product is None or product.stock <= 0:
            return None
        cart = set(self._cart_ids(state.user_id))
        cheaper = picks.cheaper_match(self.catalog, product, ratio=self.settings.cheaper_ratio,
                                      exclude=cart | {product_id})
        if product.stock <= self.settings.low_stock and product_id not in cart:
            def low(products: list[Product]) -> str:
                viewed = next((p for p in products if p.id == product_id), product)
                units = "unit" if viewed.stock == 1 else "units"
                text = f"Heads-up: only {viewed.stock} {units} left of the {viewed.name} ({money(viewed)})."
                others = [p for p in products if p.id != product_id]
                if others:
                    text += f" A close match for less: {_listing(others)}."
                return text

            ids = [product_id] + ([cheaper.id] if cheaper else [])
            return _Draft("low_stock", ids, low, required={product_id})
        if cheaper is not None:
            name, price = product.name, product.price

            def cheaper_text(products: list[Product]) -> str:
                match = products[0]
                saving = price - match.price
                return (f"Similar for less: the {match.name} ({money(match)}) is a close match to the {name}, "
                        f"{saving:,.2f} less.")

            return _Draft("cheaper_match", [cheaper.id], cheaper_text)
        return None

    def _trending(self, focus: str | None, exclude: set[str]) -> list[str]:
        n = self.settings.products
        days = self.settings.trend_days
        if focus:
            found = self.trends.trending(days=days, category=focus, limit=n, exclude=exclude).products
            if found:
                return [p.id for p in found]
        return [p.id for p in self.trends.trending(days=days, limit=n, exclude=exclude).products]

    def _idle(self, state: SessionState) -> _Draft | None:
        cart = set(self._cart_ids(state.user_id))
        focus = picks.focus_subcategory(state.seen)
        days = self.settings.trend_days
        if focus:
            trending = self.trends.trending(days=days, category=focus, limit=self.settings.products,
                                            exclude=cart).products
            if trending:
                def popular_here(products: list[Product]) -> str:
                    return (f"Need a hand deciding? Popular in {focus} in this shop over the last {days:g} days: "
                            f"{_listing(products)}.")

                return _Draft("idle", [p.id for p in trending], popular_here)
            rated = picks.best_rated(self.catalog, focus, limit=self.settings.products, exclude=cart)
            if rated:
                def top_rated(products: list[Product]) -> str:
                    return f"Need a hand deciding? Our top-rated {focus} in stock: {_listing(products)}."

                return _Draft("idle", [p.id for p in rated], top_rated)
        trending = self.trends.trending(days=days, limit=self.settings.products, exclude=cart).products
        if trending:
            def popular(products: list[Product]) -> str:
                return (f"Need a hand deciding? Popular in this shop over the last {days:g} days: "
                        f"{_listing(products)}.")

            return _Draft("idle", [p.id for p in trending], popular)
        return None

    # --- showing ---------------------------------------------------------------------------------------

    def _finalise(self, draft: _Draft) -> Nudge | None:
        """Read every product again now; drop what sold out; no nudge if nothing (or a must-have) is left."""
        current = picks.fresh(self.catalog, draft.product_ids)
        if draft.required - current.keys():
            return None
        products = [current[pid] for pid in dict.fromkeys(draft.product_ids) if pid in current]
        if not products:
            return None
        return Nudge(
            kind=draft.kind,
            text=draft.compose(products),
            products=[{"id": p.id, "name": p.name, "price": p.price} for p in products],
        )


_engine: NudgeEngine | None = None
_engine_lock = threading.Lock()


def get_engine() -> NudgeEngine:
    """The process's engine over GODSEYE_HOME (rebuilt when GODSEYE_HOME changes, e.g. between tests)."""
    global _engine
    from godseye.config import get_settings

    home = get_settings().home
    if _engine is None or _engine.ledger.path.parent != home:
        with _engine_lock:
            if _engine is None or _engine.ledger.path.parent != home:
                _engine = NudgeEngine()
    return _engine
