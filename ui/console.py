"""The operator console: key metrics, triggered monitors, incidents, the block list and the AI SRE chat.

Everything on the page comes from the same `SreOperations` the AI SRE's tools use (Datadog when keys
are set, the local stand-in otherwise), so a chart and the agent's answer never disagree. Streamlit
reruns this script on every interaction: the SRE Runner and its event loop live in
`st.cache_resource` (one per server process) and each chat turn is submitted to that loop, like the
shop page; the conversation itself is kept in ADK's SQLite session.

Run: `streamlit run ui/console.py` (GODSEYE_HOME and DD_* as for the rest of the product).
"""

from __future__ import annotations

import atexit
import uuid
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from godseye.config import apply_offline_defaults, get_settings
from mcp_servers.datadog_query.operations import SreError, SreOperations

apply_offline_defaults()
st.set_page_config(page_title="Godseye operator console", page_icon="🛰️", layout="wide")

WINDOWS = ["15m", "1h", "6h", "1d", "1w"]
CHARTS = [  # (title, metric, aggregation)
    ("Injection score (max)", "llm.security.injection_score", "max"),
    ("Blocked requests", "llm.security.blocked", "sum"),
    ("Answer quality (avg)", "llm.response.quality", "avg"),
    ("Model latency p95 (ms)", "llm.latency", "p95"),
    ("Tokens", "llm.token_usage", "sum"),
    ("Spend (USD)", "llm.cost_usd", "sum"),
    ("Failure probability (max)", "llm.prediction.failure_probability", "max"),
]
CHAT_TIMEOUT_S = 180


@st.cache_resource
def operations(home: str) -> SreOperations:
    """One operations object per data home (the back end is chosen once, like the MCP server does)."""
    from mcp_servers.datadog_query.backend import select_backend

    return SreOperations(select_backend())


@st.cache_resource(show_spinner="Starting the AI SRE…")
def sre_runtime(home: str):  # -> tuple[BackgroundLoop, ShopRuntime]
    from godseye.runtime import BackgroundLoop, ShopRuntime
    from telemetry.setup import init_telemetry

    init_telemetry(service="godseye-console")
    loop = BackgroundLoop()
    runtime = ShopRuntime(app_name="sre")
    # Close the Runner (and its MCP server process) when the Streamlit server exits.
    atexit.register(lambda: loop.run(runtime.close(), timeout=10))
    return loop, runtime


def _ops() -> SreOperations:
    return operations(str(get_settings().home))


def _safe(call, what: str):
    """Run one read for the page; a failure becomes a warning on the page, not a crash."""
    try:
        return call()
    except SreError as exc:
        st.warning(f"{what}: {exc}")
    return None


def _frame(result: dict) -> pd.DataFrame:
    columns = {}
    for row in result.get("series") or []:
        points = row.get("series") or []
        columns[row["label"]] = pd.Series([v for _, v in points],
                                          index=[datetime.fromtimestamp(t, UTC) for t, _ in points])
    return pd.DataFrame(columns)


def _state() -> None:
    st.session_state.setdefault("sre_session", f"console-{uuid.uuid4().hex[:10]}")
    st.session_state.setdefault("sre_messages", [])  # dicts: role, text, tools


def _sidebar() -> str:
    with st.sidebar:
        st.header("Operator console")
        window = st.selectbox("Window", WINDOWS, index=1, key="window")
        st.caption(f"Back end: **{_ops().backend.name}** · data home `{get_settings().home}`")
        if st.button("Refresh"):
            st.rerun()
        st.divider()
        st.caption(f"Chat session {st.session_state.sre_session}")
        if st.button("New chat"):
            st.session_state.sre_session = f"console-{uuid.uuid4().hex[:10]}"
            st.session_state.sre_messages = []
            st.rerun()
    return window


def _health(window: str) -> None:
    health = _safe(lambda: _ops().service_health(window), "Service health")
    if not health:
        return
    status = health["status"]
    (st.error if status == "degraded" else st.success if status == "healthy" else st.info)(health["summary"])
    cols = st.columns(6)
    cols[0].metric("Tool error rate", "n/a" if health["error_rate_pct"] is None else f"{health['error_rate_pct']}%")
    cols[1].metric("Latency p95", "n/a" if health["latency_p95_ms"] is None else f"{health['latency_p95_ms']} ms")
    cols[2].metric("Tokens", "n/a" if health["tokens"] is None else f"{health['tokens']}")
    cols[3].metric("Spend", "n/a" if health["cost_usd"] is None else f"${health['cost_usd']}")
    cols[4].metric("Blocked requests", f"{health['blocked_requests']}")
    cols[5].metric("Answer quality", "n/a" if health["quality_avg"] is None else f"{health['quality_avg']}")


def _charts(window: str) -> None:
    cols = st.columns(2)
    for i, (title, metric, agg) in enumerate(CHARTS):
        with cols[i % 2]:
            st.subheader(title)
            result = _safe(lambda metric=metric, agg=agg: _ops().query_metric(metric, agg, window), title)
            if not result:
                continue
            frame = _frame(result)
            if frame.empty:
                st.caption(result["summary"])
            else:
                st.line_chart(frame, height=200)
                st.caption(result["summary"])


def _monitors() -> None:
    result = _safe(lambda: _ops().triggered_monitors(), "Monitors")
    if not result:
        return
    st.markdown(result["summary"])
    if result["monitors"]:
        st.dataframe(pd.DataFrame([{k: m[k] for k in ("state", "name", "group", "value", "comparator", "threshold",
                                                      "since_utc", "source")} for m in result["monitors"]]),
                     hide_index=True, width="stretch")
    for line in result["details"]:
        st.caption(line)


def _incidents() -> None:
    result = _safe(lambda: _ops().list_incidents("all", 50), "Incidents")
    if not result:
        return
    st.markdown(result["summary"])
    for inc in result["incidents"]:
        ref = f"#{inc['public_id']}" if inc["public_id"] is not None else inc["id"]
        with st.expander(f"{ref} · {inc['severity']} · {inc['status']} · {inc['title']}"):
            detail = _safe(lambda ref=ref: _ops().get_incident(ref.lstrip("#")), f"Incident {ref}")
            if not detail:
                continue
            st.caption(detail["summary"])
            if detail["timeline"]:
                st.dataframe(pd.DataFrame([{"at": e["at_utc"], "kind": e["kind"], "what": e["text"]}
                                           for e in detail["timeline"]]), hide_index=True, width="stretch")


def _blocks() -> None:
    from guardrails.blocklist import BlockList

    if st.session_state.get("last_unblock"):
        st.success(st.session_state.pop("last_unblock"))
    blocklist = BlockList()
    active = blocklist.list_active()
    if not active:
        st.markdown("No session or user is blocked.")
        return
    st.markdown(f"{len(active)} active block{'s' if len(active) != 1 else ''}.")
    for entry in active:
        left, right = st.columns([5, 1])
        since = datetime.fromtimestamp(entry.created_at, UTC).strftime("%H:%M UTC")
        left.markdown(f"**{entry.kind} `{entry.key}`** — {entry.reason} (by {entry.source}, since {since})")
        if right.button("Unblock", key=f"unblock-{entry.kind}-{entry.key}"):
            lifted = blocklist.lift(entry.kind, entry.key, by="console")
            st.session_state.last_unblock = f"Unblocked {entry.kind} {entry.key} ({lifted} block lifted)."
            st.rerun()


def _ask(text: str) -> None:
    loop, runtime = sre_runtime(str(get_settings().home))
    st.session_state.sre_messages.append({"role": "user", "text": text})
    with st.spinner("Checking the telemetry…"):
        result = loop.run(runtime.turn(session_id=st.session_state.sre_session, user_id="operator", text=text),
                          timeout=CHAT_TIMEOUT_S)
    st.session_state.sre_messages.append({"role": "assistant", "text": result.reply, "error": result.error,
                                          "tools": [c["name"] for c in result.tool_calls]})


def _chat() -> None:
    st.caption("Ask: “what is firing?”, “who is attacking us?”, “will anything break in the next two hours?”, "
               "“how healthy is the service?”")
    for message in st.session_state.sre_messages:
        with st.chat_message(message["role"]):
            if message.get("tools"):
                st.caption("tools: " + ", ".join(message["tools"]))
            st.markdown(message["text"])
            if message.get("error"):
                st.error(message["error"])
    if prompt := st.chat_input("Ask the AI SRE"):
        _ask(prompt)
        st.rerun()


def main() -> None:
    _state()
    window = _sidebar()
    st.title("Godseye operator console")
    _health(window)
    charts, monitors, incidents, blocks, chat = st.tabs(["Metrics", "Monitors", "Incidents", "Blocks", "AI SRE"])
    with charts:
        _charts(window)
    with monitors:
        _monitors()
    with incidents:
        _incidents()
    with blocks:
        _blocks()
    with chat:
        _chat()


main()
