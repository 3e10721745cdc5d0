"""The shopper's page: chat with product cards, a cart sidebar with checkout, and photo upload.

Streamlit reruns this script on every interaction, so the Runner and its event loop live in
`st.cache_resource` (one per server process) and each turn is submitted to that loop; the
conversation itself lives in ADK's SQLite session, so a reload or a restart loses nothing.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import streamlit as st

from godseye.config import apply_offline_defaults, get_settings
from godseye.runtime import BackgroundLoop, ShopRuntime, TurnResult

apply_offline_defaults()
st.set_page_config(page_title="Godseye shop", page_icon="👁️", layout="wide")


@st.cache_resource(show_spinner="Starting the shop…")
def runtime() -> tuple[BackgroundLoop, ShopRuntime]:
    from telemetry.setup import init_telemetry

    init_telemetry(service="godseye-ui")
    loop = BackgroundLoop()
    runtime = ShopRuntime()
    loop.run(runtime.warm_up(), timeout=120)
    return loop, runtime


@st.cache_resource
def cart_store():
    from mcp_servers.cart.store import CartStore

    return CartStore()


def _state() -> None:
    st.session_state.setdefault("session_id", f"web-{uuid.uuid4().hex[:10]}")
    st.session_state.setdefault("user_id", "guest")
    st.session_state.setdefault("messages", [])  # dicts: role, text, products, images, agent


def _send(text: str) -> TurnResult:
    loop, rt = runtime()
    st.session_state.messages.append({"role": "user", "text": text})
    with st.spinner("Thinking…"):
        result = loop.run(rt.turn(session_id=st.session_state.session_id, user_id=st.session_state.user_id,
                                  text=text), timeout=120)
    st.session_state.messages.append(
        {"role": "assistant", "text": result.reply, "products": result.products, "images": result.images,
         "agent": result.agent, "blocked": result.blocked, "error": result.error}
    )
    for nudge in result.nudges:  # the stylist speaking first (godseye/nudges)
        st.session_state.messages.append({"role": "assistant", "text": nudge["text"], "products": nudge["products"],
                                          "agent": nudge.get("agent", "stylist"), "nudge": nudge["kind"]})
    return result


def _product_cards(products: list[dict], key: str, nudge: bool = False) -> None:
    if not products:
        return
    cols = st.columns(min(4, len(products)))
    images = get_settings().home / "catalog_images"
    for i, product in enumerate(products[:8]):
        with cols[i % len(cols)]:
            image = images / f"{product.get('id')}.png"
            if image.exists():
                st.image(str(image), width=140)
            st.markdown(f"**{product.get('name')}**  \n${float(product.get('price') or 0):,.2f}")
            st.caption(" · ".join(str(c) for c in (product.get("colours") or [])[:3]))
            if st.button("Add to cart", key=f"add-{key}-{product.get('id')}"):
                _send(f"Add product {product.get('id')} to my cart")
                st.rerun()
            if nudge and st.button("Tell me more", key=f"more-{key}-{product.get('id')}"):
                _send(f"Show me product {product.get('id')}")
                st.rerun()


def _sidebar() -> None:
    with st.sidebar:
        st.header("Your cart")
        st.text_input("Shopper", key="user_id")
        view = cart_store().view(st.session_state.user_id)
        if not view.lines:
            st.caption("Your cart is empty.")
        for line in view.lines:
            st.write(f"{line.quantity} × {line.name} — ${line.line_total:,.2f}")
        if view.lines:
            st.subheader(f"Total ${view.total:,.2f}")
            if st.button("Check out", type="primary"):
                _send("I'd like to check out")
                st.rerun()
            if st.button("Yes, confirm my order"):
                _send("Yes, confirm")
                st.rerun()
        st.divider()
        st.header("Try it on")
        photo = st.file_uploader("Your photo", type=["jpg", "jpeg", "png", "webp"])
        camera = st.camera_input("…or take one")
        data = (camera or photo)
        if data is not None and st.button("Use this photo"):
            _upload(data.getvalue())
        st.divider()
        _suggestions_toggle()
        st.caption(f"Session {st.session_state.session_id}")
        if st.button("New conversation"):
            st.session_state.session_id = f"web-{uuid.uuid4().hex[:10]}"
            st.session_state.messages = []
            st.rerun()


def _suggestions_toggle() -> None:
    """The shopper's switch for the stylist's unprompted tips (same store as "stop suggestions" in chat).

    The stored setting is copied into the widget's state before every render, so a chat command
    ("no more tips", "suggestions on") shows up here; only a click (on_change) writes it back.
    """
    from godseye.nudges import get_engine

    engine = get_engine()
    session_id, user_id = st.session_state.session_id, st.session_state.user_id
    key = f"nudges-{session_id}"
    st.session_state[key] = engine.enabled(session_id)
    st.toggle("Stylist suggestions", key=key,
              on_change=lambda: engine.set_enabled(session_id, bool(st.session_state[key]), user_id),
              help="Tips the stylist offers on its own: what completes your look, low stock, "
                   "cheaper matches, what's popular.")


def _upload(data: bytes) -> None:
    from mcp_servers.image import store_upload

    result = store_upload(data, user_id=st.session_state.user_id)
    if not result.ok:
        st.error(result.message)
        return
    st.session_state.photo_id = result.upload_id
    st.success("Photo accepted. Ask “show me how the … looks on me”.")
    _send(f"I uploaded a photo (photo_id: {result.upload_id}).")


def main() -> None:
    _state()
    _sidebar()
    st.title("Godseye")
    st.caption("Ask for anything in the shop: “red dresses under $80 in size M”, “an outfit for a summer wedding”.")
    for i, message in enumerate(st.session_state.messages):
        with st.chat_message(message["role"]):
            if message.get("agent"):
                st.caption(message["agent"])
            st.markdown(message["text"])
            for image in message.get("images") or []:
                if Path(image).exists():
                    st.image(image, width=320)
            if message.get("blocked"):
                st.warning("This conversation is paused by our safety checks.")
            _product_cards(message.get("products") or [], key=str(i), nudge=bool(message.get("nudge")))
    if prompt := st.chat_input("What are you looking for?"):
        _send(prompt)
        st.rerun()


main()
