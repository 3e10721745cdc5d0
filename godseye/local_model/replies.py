"""Grounded replies: every product, price, stock figure and code is copied from a tool result.

Nothing here invents a fact. When results are empty or a tool failed, the reply says so plainly.
Renderers are chosen by the shape of the result (a product list, a product, a cart, a quote, an
order, an outfit, a generic record), not by which agent asked, so the AI SRE reuses them too.
"""

from __future__ import annotations

import re
from typing import Any

from godseye.local_model import slots
from godseye.local_model.references import is_product, products_in
from godseye.local_model.view import RequestView, ToolCall, error_message, tool_payload
from godseye.semantic import rank

MAX_LISTED = 5
_UPLOAD_RE = re.compile(r"\b(?:photo|upload|image)[ _-]?id[:=\s]+([A-Za-z0-9_-]{4,64})", re.IGNORECASE)

_ATTRIBUTE_QUESTIONS = {
    "materials": "what is it made of, which material or fabric, is it cotton, linen, wool or leather",
    "sizes": "which sizes are available, does it come in my size, what size",
    "colours": "which colours are available, does it come in another colour",
    "stock": "is it in stock, how many are left, is it available",
    "price": "how much does it cost, what is the price",
    "occasions": "when or where can I wear it, which occasion or event is it for",
    "seasons": "which season is it for, is it good for summer or winter",
    "description": "tell me more about it, describe it, details, fit and care",
}


def field(payload: Any, *keys: str) -> Any:
    if isinstance(payload, dict):
        for key in keys:
            if payload.get(key) is not None:
                return payload[key]
    return None


def money(value: Any, currency: str | None = "USD") -> str:
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return str(value)
    symbol = "$" if (currency or "USD").upper() == "USD" else f"{currency} "
    return f"{symbol}{amount:,.2f}"


def _join(values: Any, limit: int = 8) -> str:
    if isinstance(values, list | tuple):
        items = [str(v) for v in values][:limit]
        return ", ".join(items)
    return str(values)


def product_line(p: dict[str, Any], index: int | None = None) -> str:
    parts = [f"**{p.get('name')}** — {money(p.get('price'), p.get('currency'))}"]
    if p.get("colours") or p.get("colors"):
        parts.append(_join(p.get("colours") or p.get("colors"), 4))
    if p.get("sizes"):
        parts.append(f"sizes {_join(p['sizes'], 8)}")
    stock = p.get("stock")
    if isinstance(stock, int):
        parts.append("out of stock" if stock <= 0 else (f"only {stock} left" if stock <= 3 else f"{stock} in stock"))
    lead = f"{index}. " if index is not None else ""
    return lead + " · ".join(parts) + f" (id {p.get('id') or p.get('product_id')})"


def latest_upload_id(view: RequestView) -> str | None:
    for text in reversed(view.user_texts):
        if m := _UPLOAD_RE.search(text):
            return m.group(1)
    return None


# An agent's prompt may state its own greeting and scope on lines "Greeting: ..." and "Scope: ..."
# (the AI SRE does); the shop's wording is the default.
_GREETING_LINE = re.compile(r"^Greeting:[ \t]*(.+)$", re.MULTILINE)
_SCOPE_LINE = re.compile(r"^Scope:[ \t]*(.+)$", re.MULTILINE)


def greeting(view: RequestView) -> str:
    own = _GREETING_LINE.search(view.instruction or "")
    if own:
        return own.group(1).strip()
    return "Hello! I can search the catalog, style outfits, and manage your cart. What are you looking for?"


def out_of_scope(view: RequestView) -> str:
    abilities = "; ".join(
        f"{name}: {re.split(r'[.(]', desc)[0].strip()}" for name, desc in view.transfer_targets.items()
    )
    if slots.is_greeting(view.user_text):
        return greeting(view)
    own = _SCOPE_LINE.search(view.instruction or "")
    if own:
        return f"Sorry, I can't help with that: {own.group(1).strip()}"
    suffix = f" Here is what I can help with — {abilities}." if abilities else ""
    return (
        "Sorry, I can't help with that: I am the shop's assistant and can only help with shopping "
        f"in our catalog, outfits, try-on and your cart.{suffix}"
    )


def missing_info(tool: str, missing: list[str]) -> str:
    asks = {
        "product_id": "which product you mean (for example \"the second one\" or its name)",
        "confirmation_code": "a checkout quote first — say \"check out\" to see your order summary",
        "photo_id": "a photo of you — please upload one first",
        "upload_id": "a photo of you — please upload one first",
        "query": "what you are looking for",
    }
    needed = "; ".join(asks.get(m, m.replace("_", " ")) for m in missing)
    return f"I need a little more to do that: {needed}."


def error_text(call: ToolCall) -> str:
    return error_message(call.result) if call.is_error else ""


def render(view: RequestView, calls: list[ToolCall]) -> str:
    chunks = [_render_one(view, call) for call in calls]
    return "\n\n".join(c for c in chunks if c).strip() or "Done."


def _render_one(view: RequestView, call: ToolCall) -> str:
    if call.is_error:
        return f"Sorry, that didn't work: {error_message(call.result)}"
    payload = tool_payload(call.result)
    name = call.name
    if isinstance(payload, dict) and isinstance(payload.get("summary"), str):
        return _summary(payload)
    if isinstance(payload, dict) and ("confirmation_code" in payload) and "order_id" not in payload:
        return _quote(payload)
    if isinstance(payload, dict) and ("order_id" in payload):
        return _order(payload)
    if isinstance(payload, dict) and ("lines" in payload or "items" in payload) and "total" in payload:
        return _cart(payload, name)
    if isinstance(payload, dict) and "pieces" in payload:
        return _outfit(payload)
    if isinstance(payload, dict) and payload.get("result_id") and payload.get("description"):
        return f"{payload['description']} (preview {payload['result_id']})"
    if isinstance(payload, dict) and payload.get("ok") is False and payload.get("message"):
        return f"Sorry, that didn't work: {payload['message']}"
    if isinstance(payload, dict) and payload.get("ok") is True and payload.get("upload_id"):
        return ("Thanks, your photo is accepted and ready for try-on. Ask me to show any product on you, "
                "for example \"show me how the first one looks on me\".")
    if is_product(payload) and ("get" in name or "detail" in name):
        return _product_answer(view, payload)
    products = products_in(payload)
    if products:
        return _listing(view, call, products)
    if isinstance(payload, dict) and "products" in payload:
        return _nothing_found(call)
    if isinstance(payload, list | dict) and not payload or payload in ("", None):
        return _nothing_found(call)
    return _generic(name, payload)


def _listing(view: RequestView, call: ToolCall, products: list[dict[str, Any]]) -> str:
    shown = products[:MAX_LISTED]
    filters = []
    args = call.args
    if args.get("colour") or args.get("color"):
        filters.append(str(args.get("colour") or args.get("color")))
    if args.get("size"):
        filters.append(f"size {args['size']}")
    if args.get("min_price") is not None:
        filters.append(f"from {money(args['min_price'])}")
    if args.get("max_price") is not None:
        filters.append(f"up to {money(args['max_price'])}")
    about = f" for “{args['query']}”" if args.get("query") else ""
    constraint = f" ({', '.join(filters)})" if filters else ""
    head = f"I found {len(products)} option{'s' if len(products) != 1 else ''}{about}{constraint}"
    if len(products) > len(shown):
        head += f"; here are the top {len(shown)}"
    lines = [product_line(p, i + 1) for i, p in enumerate(shown)]
    tail = "Would you like details on one of them, something cheaper, or to add one to your cart?"
    return head + ":\n" + "\n".join(lines) + "\n" + tail


def _nothing_found(call: ToolCall) -> str:
    args = ", ".join(f"{k}={v}" for k, v in call.args.items() if k not in {"user_id", "limit", "in_stock"})
    return f"I couldn't find anything matching that ({args}). Try widening the price range or another colour/size."


def _product_answer(view: RequestView, p: dict[str, Any]) -> str:
    text = view.user_text
    wanted_colour, wanted_size = slots.colour(text), slots.size(text)
    name = f"**{p.get('name')}**"
    if wanted_colour and (p.get("colours") or p.get("colors")):
        colours = [str(c).lower() for c in (p.get("colours") or p.get("colors"))]
        if wanted_colour in colours:
            return f"Yes — the {name} comes in {wanted_colour}. Colours: {_join(colours)}. {product_line(p)}"
        return f"No — the {name} doesn't come in {wanted_colour}; it comes in {_join(colours)}."
    if wanted_size and p.get("sizes"):
        sizes = [str(s).upper() for s in p["sizes"]]
        if wanted_size.upper() in sizes:
            return f"Yes — the {name} is available in size {wanted_size}. Sizes: {_join(p['sizes'], 12)}."
        return f"No — the {name} is not made in size {wanted_size}; sizes are {_join(p['sizes'], 12)}."
    attribute, score = rank(text, _ATTRIBUTE_QUESTIONS)[0]
    if score < 0.35:
        attribute = "description"
    value = p.get(attribute) if attribute != "colours" else (p.get("colours") or p.get("colors"))
    if attribute == "stock" and isinstance(value, int):
        answer = f"The {name} is out of stock." if value <= 0 else f"The {name} is in stock ({value} left)."
    elif attribute == "price":
        answer = f"The {name} costs {money(value, p.get('currency'))}."
    elif attribute == "description" or value in (None, [], ""):
        answer = f"{name}: {p.get('description') or 'no description in the catalog.'}"
        if p.get("materials"):
            answer += f" Materials: {_join(p['materials'])}."
    else:
        answer = f"The {name} — {attribute}: {_join(value, 12)}."
    return answer + f"\n{product_line(p)}"


def _cart(payload: dict[str, Any], tool: str) -> str:
    lines = payload.get("lines") or payload.get("items") or []
    if not lines:
        return "Your cart is empty."
    out = []
    for line in lines:
        label = line.get("name") or line.get("product_id")
        extras = ", ".join(str(line[k]) for k in ("size", "colour") if line.get(k))
        qty = line.get("quantity", 1)
        price = line.get("line_total", line.get("unit_price"))
        out.append(f"- {qty} × **{label}**{f' ({extras})' if extras else ''} — {money(price)}")
    verb = {"add_to_cart": "Added. ", "remove_from_cart": "Removed. ", "update_quantity": "Updated. "}.get(tool, "")
    return f"{verb}Your cart:\n" + "\n".join(out) + f"\nTotal: {money(payload.get('total'))}"


def _quote(payload: dict[str, Any]) -> str:
    lines = payload.get("lines") or payload.get("items") or []
    items = "\n".join(
        f"- {line.get('quantity', 1)} × {line.get('name') or line.get('product_id')} — "
        f"{money(line.get('line_total', line.get('unit_price')))}" for line in lines
    )
    return (
        f"Here is your order summary:\n{items}\nTotal: {money(payload.get('total'))}.\n"
        f"Shall I place the order? Reply “yes, confirm” to buy (confirmation {payload.get('confirmation_code')})."
    )


def _order(payload: dict[str, Any]) -> str:
    total = money(payload.get("total")) if payload.get("total") is not None else None
    return f"Your order {payload.get('order_id')} is placed" + (f" — total {total}" if total else "") + ". Thank you!"


def _outfit(payload: dict[str, Any]) -> str:
    pieces = payload.get("pieces") or []
    if not pieces:
        return "I couldn't put together an outfit from what's in stock for that. Try a wider budget?"
    head = f"Here's a look for {payload.get('occasion')}" if payload.get("occasion") else "Here's a look"
    rows = []
    for i, piece in enumerate(pieces, 1):
        product = piece.get("product", piece) if isinstance(piece, dict) else piece
        role = piece.get("role") if isinstance(piece, dict) else None
        rows.append((f"{role}: " if role else "") + product_line(product, i))
    total = payload.get("total")
    tail = f"\nTotal for the look: {money(total)}." if total is not None else ""
    return f"{head}:\n" + "\n".join(rows) + tail + "\nWant me to add any of these to your cart?"


def _summary(payload: dict[str, Any]) -> str:
    """Results that state their own findings (the AI SRE's tools): the summary, then its detail lines."""
    lines = [str(d) for d in payload.get("details") or [] if d][:8]
    return payload["summary"] + ("\n" + "\n".join(f"- {d}" for d in lines) if lines else "")


def _generic(tool: str, payload: Any) -> str:
    if isinstance(payload, str):
        return payload
    if isinstance(payload, dict):
        rows = [f"- {k.replace('_', ' ')}: {_short(v)}" for k, v in payload.items()]
        return f"Result of {tool.replace('_', ' ')}:\n" + "\n".join(rows[:20])
    if isinstance(payload, list):
        rows = [f"- {_short(v)}" for v in payload[:10]]
        return f"Result of {tool.replace('_', ' ')} ({len(payload)} items):\n" + "\n".join(rows)
    return str(payload)


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_short(v)}" for k, v in list(value.items())[:6])
    if isinstance(value, list):
        return ", ".join(_short(v) for v in value[:6]) + (" …" if len(value) > 6 else "")
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)

