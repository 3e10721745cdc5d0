"""The local planner's decisions: transfer, call tools, or answer from tool results.

Each decision reads only the request (conversation, tool declarations, agent descriptions), so the
same code serves the shop agents, the try-on agent and the AI SRE without knowing them by name.
Tool choice is semantic (the shopper's words against each tool's own description); arguments come
from `slots` and `references`; answers come from `replies`, which only restate tool results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from godseye.local_model import operator_slots, replies, slots
from godseye.local_model.references import last_product_list, product_id, resolve_product
from godseye.local_model.view import RequestView, ToolCall, ToolSpec
from godseye.semantic import rank

TRANSFER_TOOL = "transfer_to_agent"
# Below this similarity no agent or tool is about the request: say so instead of guessing.
ROUTE_THRESHOLD = 0.33
TOOL_THRESHOLD = 0.22
_STICKY_BONUS = 0.12
CLEAR_INTENT = 0.45  # a follow-up goes elsewhere only when another agent matches at least this well
SEARCH_PRIOR = 0.15
ACTION_THRESHOLD = 0.45  # how clearly a request must ask for an action before we act on a search hit


@dataclass
class Decision:
    text: str | None = None
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def decide(view: RequestView) -> Decision:
    if view.pending_results:
        follow_up = _follow_up(view)
        if follow_up is not None:
            return follow_up
        return Decision(text=replies.render(view, view.pending_results))
    if not view.user_text:
        return Decision(text=replies.greeting(view))
    if TRANSFER_TOOL in view.tools and view.transfer_targets:
        return _route(view)
    tools = {name: spec for name, spec in view.tools.items() if name != TRANSFER_TOOL}
    if not tools:
        return Decision(text=replies.out_of_scope(view))
    return _choose_tool(view, tools)


# --- routing ---------------------------------------------------------------------------------


def _last_target(view: RequestView) -> str | None:
    call = view.last_call(TRANSFER_TOOL, with_result=False)
    return str(call.args.get("agent_name")) if call else None


def _new_words(text: str) -> list[str]:
    """Words of a request that are not refinements ("cheaper", "in blue", "size L", "that one")."""
    return [
        w for w in slots.search_query(text).split()
        if w.lower() not in _REFINEMENT_WORDS and not slots.colour(w) and not slots.size(f"size {w}")
    ]


def _is_follow_up(view: RequestView) -> bool:
    """A turn that only makes sense with the previous one: it goes to the agent that handled that."""
    text = view.user_text
    if view.turn <= 1:
        return False
    referential = slots.ordinal(text) is not None or slots.wants_cheaper(text) or slots.wants_pricier(text)
    refinement = bool(slots.constraints(text).as_args()) and not _new_words(text)
    return referential or refinement or slots.is_affirmation(text) or slots.is_negation(text)


def _route(view: RequestView) -> Decision:
    if slots.is_greeting(view.user_text):
        return Decision(text=replies.greeting(view))
    targets = dict(view.transfer_targets)
    last = _last_target(view)
    scores = dict(rank(slots.without_ids(view.user_text), targets))
    best, score = max(scores.items(), key=lambda item: item[1])
    if last in targets and _is_follow_up(view):
        # "the second one", "cheaper", "yes": stay with the agent of the previous turn, unless the
        # message clearly asks for another one ("can I try the second one on?").
        if best == last or score < CLEAR_INTENT or score - scores[last] < _STICKY_BONUS:
            return Decision(calls=[(TRANSFER_TOOL, {"agent_name": last})])
        return Decision(calls=[(TRANSFER_TOOL, {"agent_name": best})])
    if last in scores and best != last and scores[last] + _STICKY_BONUS * 0.5 >= score:
        best, score = last, scores[last]
    if score < ROUTE_THRESHOLD:
        return Decision(text=replies.out_of_scope(view))
    return Decision(calls=[(TRANSFER_TOOL, {"agent_name": best})])


# --- tool choice -----------------------------------------------------------------------------


def _find_tool(tools: dict[str, ToolSpec], *keywords: str) -> str | None:
    """A declared tool whose name contains all keywords (tool names are part of their contract)."""
    for name in tools:
        if all(k in name for k in keywords):
            return name
    return None


def _choose_tool(view: RequestView, tools: dict[str, ToolSpec]) -> Decision:
    text = view.user_text
    if slots.is_greeting(text):  # an agent without sub-agents greets back rather than run a tool
        return Decision(text=replies.greeting(view))
    # Dialogue acts that answer the assistant's own question come first.
    quote = view.last_call("quote_checkout")
    confirm_tool = _find_tool(tools, "confirm", "checkout")
    if quote is not None and not quote.is_error and confirm_tool:
        confirmed_after = view.last_call(confirm_tool)
        pending_quote = confirmed_after is None or view.calls.index(confirmed_after) < view.calls.index(quote)
        if pending_quote and slots.is_affirmation(text):
            code = replies.field(quote.payload, "confirmation_code", "code")
            return Decision(calls=[(confirm_tool, {"user_id": "me", "confirmation_code": code})])
        if pending_quote and slots.is_negation(text):
            return Decision(text="No problem, I have not placed the order. Your cart is unchanged.")

    upload = replies.latest_upload_id(view)
    if upload and upload in text:
        # The shopper just sent a file reference: check it with the tool that takes uploads, if any.
        checker = next((n for n, spec in tools.items() if "upload_id" in spec.parameters), None)
        if checker:
            args, _ = fill_args(view, tools[checker])
            return Decision(calls=[(checker, args)])

    search_tool = _find_tool(tools, "search")
    refinement = _refined_search(view, search_tool)
    if refinement is not None:
        return refinement

    scores = dict(rank(slots.without_ids(text), {name: tool_text(spec) for name, spec in tools.items()}))
    if search_tool and slots.constraints(text).as_args() and slots.ordinal(text) is None:
        # Stated constraints (a price, colour or size) with nothing pointed at describe products to find.
        scores[search_tool] += SEARCH_PRIOR
    best, score = max(scores.items(), key=lambda item: item[1])
    if score < TOOL_THRESHOLD:
        return Decision(text=replies.out_of_scope(view))
    spec = tools[best]
    args, missing = fill_args(view, spec)
    if missing:
        # A product the shopper named but we have not shown yet: look it up first.
        if "product_id" in missing and search_tool and search_tool != best:
            return Decision(calls=[(search_tool, _search_args(view, tools[search_tool], text))])
        return Decision(text=replies.missing_info(best, missing))
    return Decision(calls=[(best, args)])


def tool_text(spec: ToolSpec) -> str:
    """What a tool is about: its name in words (names are chosen to say it) and its description."""
    return f"{spec.name.replace('_', ' ')}.\n{spec.description}"


def _search_args(view: RequestView, spec: ToolSpec, text: str, base: dict[str, Any] | None = None) -> dict[str, Any]:
    args = dict(base or {})
    query = slots.search_query(text)
    if query:
        args["query"] = query
    args.update(slots.constraints(text).as_args())
    return {k: v for k, v in _rename_colour(args, spec).items() if k in spec.parameters or k == "query"}


def _rename_colour(args: dict[str, Any], spec: ToolSpec) -> dict[str, Any]:
    if "colour" in args and "colour" not in spec.parameters and "color" in spec.parameters:
        args["color"] = args.pop("colour")
    return args


def _refined_search(view: RequestView, search_tool: str | None) -> Decision | None:
    """ "something cheaper", "in blue", "in size L": the last search again, changed as asked."""
    if not search_tool:
        return None
    last = view.last_call(search_tool)
    if last is None:
        return None
    text = view.user_text
    new = slots.constraints(text).as_args()
    cheaper, pricier = slots.wants_cheaper(text), slots.wants_pricier(text)
    leftover = _new_words(text)
    if not (new or cheaper or pricier) or leftover:
        return None  # new product words mean a new search, not a refinement of the last one
    args = dict(last.args)
    if "colour" in new and args.get("query"):
        # "in blue" after "red dresses": the old colour word must leave the query too.
        old = slots.colour(str(args["query"]))
        if old:
            args["query"] = re.sub(rf"\b{re.escape(old)}\b", new["colour"], str(args["query"]), flags=re.I).strip()
    args.update(new)
    listing = last_product_list(view)
    prices = [float(p["price"]) for p in listing if isinstance(p.get("price"), int | float)]
    focus = resolve_product(view) if slots.ordinal(text) is not None else None
    if cheaper and prices:
        ceiling = float(focus["price"]) if focus else min(prices)
        args["max_price"] = round(ceiling - 0.01, 2)
        args.pop("min_price", None)
    if pricier and prices:
        args["min_price"] = round((float(focus["price"]) if focus else max(prices)) + 0.01, 2)
        args.pop("max_price", None)
    spec = view.tools[search_tool]
    return Decision(calls=[(search_tool, _rename_colour(args, spec))])


_REFINEMENT_WORDS = {
    "in", "cheaper", "one", "ones", "the", "a", "an", "it", "that", "those", "instead", "maybe", "how", "about",
    "what", "same", "but", "also", "colour", "color", "size", "less", "expensive", "more", "pricier", "something",
    "show", "them", "please", "any", "option", "options", "version", "have", "you", "do", "got", "there",
}


# --- arguments -------------------------------------------------------------------------------


def fill_args(view: RequestView, spec: ToolSpec) -> tuple[dict[str, Any], list[str]]:
    """Arguments for a tool from the conversation; returns (args, required names left unfilled)."""
    text = view.user_text
    cons = slots.constraints(text)
    args: dict[str, Any] = {}
    for name, schema in spec.parameters.items():
        value = _value_for(view, name, schema if isinstance(schema, dict) else {}, text, cons)
        if value is not None:
            args[name] = value
    missing = [name for name in spec.required if name not in args]
    return args, missing


def _enum_choice(schema: dict[str, Any], text: str) -> Any:
    options = schema.get("enum") or []
    lowered = text.lower()
    for option in options:
        if str(option).lower() in lowered:
            return option
    return None


def _value_for(view: RequestView, name: str, schema: dict[str, Any], text: str, cons: slots.Constraints) -> Any:
    lname = name.lower()
    if schema.get("enum"):
        return _enum_choice(schema, text)
    if lname in {"user_id", "session_id"}:
        return "me"  # the runtime overwrites identity arguments from the session
    if lname in {"query", "q", "search", "text", "occasion", "request", "question", "description"}:
        return slots.search_query(text) or text
    if lname in {"min_price", "max_price", "size"}:
        return getattr(cons, lname)
    if lname in {"colour", "color"}:
        return cons.colour
    if lname in {"max_total", "budget"}:
        return cons.max_price
    if lname in {"product_id", "id", "item_id"}:
        product = resolve_product(view)
        if product:
            return product_id(product)
        # An id the shopper typed (or a product card's button sent): pass it on; the tool checks it.
        ids = slots.product_ids(text)
        return ids[0] if ids else None
    if lname in {"quantity", "qty", "count"}:
        return slots.quantity(text)
    if lname in {"confirmation_code", "code"}:
        quote = view.last_call("quote_checkout")
        return replies.field(quote.payload, "confirmation_code", "code") if quote else None
    if lname in {"photo_id", "upload_id", "image_id"}:
        return replies.latest_upload_id(view)
    if lname in operator_slots.OPERATOR_PARAMETERS:  # windows, thresholds, metrics... (observability tools)
        return operator_slots.value_for(lname, text, slots.search_query(text) or text)
    return None


_FILTER_ARGS = ("colour", "color", "size", "category", "subcategory", "gender")


def _retry_without_bad_filter(view: RequestView, call: ToolCall) -> Decision | None:
    """A search refused a filter value the shop does not have ("no products in colour 'teal'"):
    search again without it, once, rather than give up."""
    if len(view.calls_this_turn()) != 1:
        return None
    message = replies.error_text(call).lower()
    for key in _FILTER_ARGS:
        value = call.args.get(key)
        if value is not None and (key in message or str(value).lower() in message):
            args = {k: v for k, v in call.args.items() if k != key}
            return Decision(calls=[(call.name, args)])
    return None


def _follow_up(view: RequestView) -> Decision | None:
    """One more tool step after results, when the first call only found what the shopper meant."""
    done = {c.name for c in view.calls_this_turn()}
    if len(done) != 1:
        return None
    (only,) = done
    if "search" not in only:
        return None
    last = view.calls_this_turn()[-1]
    if last.is_error:
        return _retry_without_bad_filter(view, last)
    # The shopper asked to act on a named product we first had to find: act on the best match now.
    text = view.user_text
    if slots.wants_cheaper(text) or slots.wants_pricier(text) or not _new_words(text):
        return None  # a refinement of the listing, not an action on one product
    tools = {name: spec for name, spec in view.tools.items() if name != TRANSFER_TOOL}
    ranked = rank(text, {n: tool_text(s) for n, s in tools.items()})
    best, score = ranked[0]
    if best == only or score < ACTION_THRESHOLD or "product_id" not in tools[best].parameters:
        return None
    listing = last_product_list(view)
    if not listing:
        return None
    args, missing = fill_args(view, tools[best])
    args["product_id"] = product_id(listing[0])
    missing = [m for m in missing if m not in args]
    if missing:
        return None
    return Decision(calls=[(best, args)])

