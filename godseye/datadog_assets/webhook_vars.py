"""Datadog's webhook payload variables (`$ALERT_TRANSITION` & co.): the names and how they are filled.

The payload of `datadog/webhooks/*.json` is a JSON template in which Datadog substitutes these
variables; the linter rejects unknown ones and the local stand-in fills them the way Datadog does,
so the product's webhook endpoint sees the same body from both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# Built-in variables documented for the Webhooks integration (monitor notifications).
BUILTIN_VARIABLES = frozenset({
    "AGGREG_KEY", "ALERT_CYCLE_KEY", "ALERT_ID", "ALERT_METRIC", "ALERT_PRIORITY", "ALERT_QUERY",
    "ALERT_SCOPE", "ALERT_STATUS", "ALERT_TITLE", "ALERT_TRANSITION", "ALERT_TYPE", "DATE", "EMAIL",
    "EVENT_MSG", "EVENT_TITLE", "EVENT_TYPE", "HOSTNAME", "ID", "INCIDENT_ATTACHMENTS",
    "INCIDENT_COMMANDER", "INCIDENT_CUSTOMER_IMPACT", "INCIDENT_FIELDS", "INCIDENT_MSG",
    "INCIDENT_PUBLIC_ID", "INCIDENT_SEVERITY", "INCIDENT_STATUS", "INCIDENT_TITLE", "INCIDENT_URL",
    "INCIDENT_UUID", "LAST_UPDATED", "LINK", "LOGS_SAMPLE", "METRIC_NAMESPACE", "ORG_ID", "ORG_NAME",
    "PRIORITY", "SNAPSHOT", "TAGS", "TEXT_ONLY_MSG", "USER", "USERNAME",
})
# `$NAME` and `$TAGS[key]`; longest names first so $ALERT_TYPE is not read as $ALERT + _TYPE.
VARIABLE = re.compile(r"\$([A-Z][A-Z0-9_]*)(\[[A-Za-z0-9_.\-]+\])?")

# $ALERT_TRANSITION values per monitor state change, and $ALERT_TYPE per state.
TRANSITION_NAMES = {"Alert": "Triggered", "Warn": "Warn", "No Data": "No Data", "OK": "Recovered"}
RENOTIFY_NAMES = {"Alert": "Re-Triggered", "Warn": "Re-Warn", "No Data": "Re-No Data"}
ALERT_TYPES = {"Alert": "error", "Warn": "warning", "No Data": "warning", "OK": "success"}


def variables_in(text: str) -> list[str]:
    return [m.group(1) + (m.group(2) or "") for m in VARIABLE.finditer(text)]


def unknown_variables(text: str, custom: set[str]) -> list[str]:
    out = []
    for m in VARIABLE.finditer(text):
        name = m.group(1)
        if name == "TAGS" and m.group(2):
            continue
        if name not in BUILTIN_VARIABLES and name not in custom:
            out.append("$" + name)
    return out


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Replace every known `$NAME` / `$TAGS[key]`; unknown names are left as they are."""

    def sub(m: re.Match[str]) -> str:
        name, index = m.group(1), m.group(2)
        if name == "TAGS" and index:
            key = index[1:-1]
            for tag in values.get("TAGS", "").split(","):
                k, _, v = tag.strip().partition(":")
                if k == key:
                    return v
            return ""
        return values.get(name, m.group(0))

    return VARIABLE.sub(sub, text)


def fill_payload(payload: str | None, values: Mapping[str, str]) -> Any:
    """The JSON body Datadog would POST: variables substituted inside JSON strings, safely escaped."""
    if not payload:
        template: Any = {k.lower(): f"${k}" for k in ("ID", "EVENT_TITLE", "ALERT_TRANSITION", "ALERT_SCOPE")}
    else:
        template = json.loads(payload)

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return substitute(node, values)
        if isinstance(node, list):
            return [walk(n) for n in node]
        if isinstance(node, dict):
            return {substitute(k, values): walk(v) for k, v in node.items()}
        return node

    return walk(template)


def fill_headers(custom_headers: str | None, values: Mapping[str, str]) -> dict[str, str]:
    if not custom_headers:
        return {}
    raw = json.loads(custom_headers)
    return {str(k): substitute(str(v), values) for k, v in raw.items()}
