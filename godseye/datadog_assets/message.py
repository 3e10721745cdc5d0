"""Datadog monitor message templates: conditional blocks, template variables and @-mentions.

The message decides who is told about what: `{{#is_alert}}@webhook-godseye-self-heal{{/is_alert}}`
calls the self-healing webhook only when a group triggers, `@incident-...` declares an incident. The
linter uses this module to check that every variable and handle exists; the local stand-in uses it
to render a message for a transition exactly the way Datadog would decide whom to notify.

Supported: `{{#cond}}..{{/cond}}`, `{{^cond}}..{{/cond}}` for is_alert, is_alert_recovery,
is_alert_to_warning, is_warning, is_warning_recovery, is_recovery, is_no_data, is_no_data_recovery,
is_renotify, plus `{{#is_match "tag.name" "a" "b"}}` / `{{#is_exact_match ...}}`; variables
`{{value}}`, `{{threshold}}`, `{{warn_threshold}}`, `{{comparator}}`, `{{<group tag>.name}}`,
`{{last_triggered_at}}`, `{{last_triggered_at_epoch}}`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

CONDITIONS = frozenset({
    "is_alert", "is_alert_recovery", "is_alert_to_warning", "is_warning", "is_warning_recovery",
    "is_recovery", "is_no_data", "is_no_data_recovery", "is_renotify", "is_match", "is_exact_match",
})
PLAIN_VARIABLES = frozenset({
    "value", "threshold", "warn_threshold", "comparator", "last_triggered_at", "last_triggered_at_epoch",
})
_TAG = re.compile(r"\{\{\s*([#^/]?)\s*([^}]*?)\s*\}\}")
# @webhook-x, @slack-x, @incident-x, @pagerduty-x, @opsgenie-x, @teams-x and @user@example.com
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9][A-Za-z0-9_.+\-]*(?:@[A-Za-z0-9.\-]+\.[A-Za-z]{2,})?)")


class TemplateError(ValueError):
    pass


@dataclass
class TransitionContext:
    """What the template can see about one notification."""

    state: str  # "Alert", "Warn", "No Data", "OK"
    previous: str = "OK"
    renotify: bool = False
    variables: dict[str, str] = field(default_factory=dict)  # value, threshold, session_id.name, ...

    def condition(self, name: str, args: list[str]) -> bool:
        s, p = self.state, self.previous
        if name in {"is_match", "is_exact_match"}:
            if not args:
                raise TemplateError(f"{name} needs a variable and at least one value")
            actual = self.variables.get(args[0], "")
            if name == "is_exact_match":
                return actual in args[1:]
            return any(v in actual for v in args[1:])
        table = {
            "is_alert": s == "Alert",
            "is_warning": s == "Warn",
            "is_no_data": s == "No Data",
            "is_recovery": s == "OK" and p != "OK",
            "is_alert_recovery": s == "OK" and p == "Alert",
            "is_warning_recovery": s == "OK" and p == "Warn",
            "is_no_data_recovery": s == "OK" and p == "No Data",
            "is_alert_to_warning": s == "Warn" and p == "Alert",
            "is_renotify": self.renotify,
        }
        return table[name]


@dataclass(frozen=True)
class Block:
    negated: bool
    name: str
    args: tuple[str, ...]
    body: tuple  # of str | Var | Block


@dataclass(frozen=True)
class Var:
    name: str


def parse(template: str) -> tuple:
    """Template -> nested blocks; raises TemplateError on unbalanced or unknown blocks."""
    stack: list[tuple[bool, str, tuple[str, ...], list]] = [(False, "", (), [])]
    pos = 0
    for m in _TAG.finditer(template):
        stack[-1][3].append(template[pos:m.start()])
        pos = m.end()
        sigil, inner = m.group(1), m.group(2)
        if sigil in {"#", "^"}:
            try:
                parts = shlex.split(inner)
            except ValueError as exc:
                raise TemplateError(f"bad block {m.group(0)!r}: {exc}") from None
            name = parts[0] if parts else ""
            if name not in CONDITIONS:
                raise TemplateError(f"unknown condition {{{{{sigil}{name}}}}}")
            stack.append((sigil == "^", name, tuple(parts[1:]), []))
        elif sigil == "/":
            if len(stack) == 1:
                raise TemplateError(f"{m.group(0)} closes a block that was never opened")
            negated, name, args, body = stack.pop()
            if inner != name:
                raise TemplateError(f"{m.group(0)} closes {{{{#{name}}}}}")
            stack[-1][3].append(Block(negated, name, args, tuple(body)))
        else:
            stack[-1][3].append(Var(inner))
    stack[-1][3].append(template[pos:])
    if len(stack) > 1:
        raise TemplateError(f"{{{{#{stack[-1][1]}}}}} is never closed")
    return tuple(stack[0][3])


def variables_used(template: str) -> set[str]:
    out: set[str] = set()

    def walk(nodes: tuple) -> None:
        for n in nodes:
            if isinstance(n, Var):
                out.add(n.name)
            elif isinstance(n, Block):
                if n.name in {"is_match", "is_exact_match"} and n.args:
                    out.add(n.args[0])
                walk(n.body)

    walk(parse(template))
    return out


def render(template: str, ctx: TransitionContext) -> str:
    def walk(nodes: tuple) -> str:
        out = []
        for n in nodes:
            if isinstance(n, str):
                out.append(n)
            elif isinstance(n, Var):
                out.append(ctx.variables.get(n.name, ""))
            else:
                if ctx.condition(n.name, list(n.args)) != n.negated:
                    out.append(walk(n.body))
        return "".join(out)

    return walk(parse(template))


def mentions(text: str) -> list[str]:
    """Handles mentioned in rendered text, in order, without duplicates (without the leading @)."""
    seen: dict[str, None] = {}
    for m in MENTION.finditer(text):
        seen.setdefault(m.group(1).rstrip("."), None)
    return list(seen)


def all_mentions(template: str) -> list[str]:
    """Every handle the template can ever mention, whatever the transition."""
    return mentions(re.sub(_TAG, " ", template))
