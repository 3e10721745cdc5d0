"""A parser for Datadog's classic metric query language, as used in monitors and widgets.

One parser serves two readers: the linter (metric and tag names, windows, aggregators) and the local
stand-in's monitor evaluator (which needs the same tree to compute values). Supported forms:

    monitor   := TIME_AGG "(" WINDOW ")" ":" EXPR COMPARATOR NUMBER
    TIME_AGG  := avg | sum | min | max | last | median | percentile
    WINDOW    := last_<n><m|h|d|w>  |  next_<n><m|h|d|w>  (forecast monitors)
    EXPR      := arithmetic (+ - * /, parentheses, numbers) over metric queries and functions
    metric    := SPACE_AGG ":" METRIC "{" FILTERS "}" [ "by" "{" TAGS "}" ] { "." METHOD "(" ARGS ")" }
    function  := NAME "(" EXPR | 'string' | NAME | key=value , ... ")"   e.g. anomalies(), forecast()

Everything it does not understand is a `QuerySyntaxError` with the character position, so a typo
is reported instead of silently producing an empty series.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

TIME_AGGREGATORS = frozenset({"avg", "sum", "min", "max", "last", "median", "percentile"})
SPACE_AGGREGATORS = frozenset({"avg", "sum", "min", "max", "count"})
PERCENTILE_AGG = re.compile(r"^p(\d{1,2}(\.\d+)?|100)$")
COMPARATORS = (">=", "<=", ">", "<")
METHODS = frozenset({"as_count", "as_rate", "rollup", "fill", "weighted"})
ROLLUP_METHODS = frozenset({"avg", "sum", "min", "max", "count"})
FILL_MODES = frozenset({"null", "zero", "linear", "last"})
FUNCTIONS = frozenset({
    "anomalies", "forecast", "outliers", "abs", "log2", "log10", "cumsum", "integral", "per_second",
    "per_minute", "per_hour", "diff", "derivative", "monotonic_diff", "timeshift", "hour_before",
    "day_before", "week_before", "month_before", "ewma_3", "ewma_5", "ewma_7", "ewma_10", "ewma_20",
    "median_3", "median_5", "median_7", "median_9", "top", "top_offset", "count_nonzero", "count_not_null",
    "clamp_min", "clamp_max", "cutoff_min", "cutoff_max", "default_zero", "robust_trend", "trend_line",
    "piecewise_constant", "exclude_null",
})
WINDOW_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_WINDOW = re.compile(r"^(last|next)_(\d+)([mhdw])$")
_METRIC_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.]*")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_TAG_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-/]*$")
MAX_WINDOW_S = 31 * 86400  # Datadog metric monitors evaluate at most one month back


class QuerySyntaxError(ValueError):
    def __init__(self, message: str, query: str, pos: int):
        super().__init__(f"{message} at position {pos} in {query!r}")
        self.reason = message
        self.query = query
        self.pos = pos


@dataclass(frozen=True)
class Window:
    text: str
    direction: str  # "last" or "next"
    seconds: int


@dataclass(frozen=True)
class TagFilter:
    """`key:value`, `!key:value`, bare `tag`, `key:val*` wildcards, or a `$template` variable."""

    text: str
    key: str | None
    value: str | None
    negated: bool = False
    template_var: str | None = None

    def matches(self, tags: dict[str, str]) -> bool:
        if self.template_var is not None:
            return True  # resolved by the dashboard, never in monitors
        if self.key is None:
            return True
        actual = tags.get(self.key)
        if self.value is None:
            hit = self.key in tags
        elif actual is None:
            hit = False
        elif "*" in self.value:
            hit = re.fullmatch(re.escape(self.value).replace(r"\*", ".*"), actual) is not None
        else:
            hit = actual == self.value
        return not hit if self.negated else hit


@dataclass(frozen=True)
class Method:
    name: str
    args: tuple


@dataclass(frozen=True)
class MetricQuery:
    space_agg: str
    metric: str
    filters: tuple[TagFilter, ...]
    group_by: tuple[str, ...]
    methods: tuple[Method, ...]
    text: str

    def has_method(self, name: str) -> bool:
        return any(m.name == name for m in self.methods)

    def method(self, name: str) -> Method | None:
        return next((m for m in self.methods if m.name == name), None)

    @property
    def exact_filters(self) -> dict[str, str]:
        """The plain key:value filters, which a metric store can apply itself."""
        return {f.key: f.value for f in self.filters
                if f.key and f.value and not f.negated and "*" not in f.value and f.template_var is None}


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Name:
    """A bare identifier argument such as `sum` in `.rollup(sum, 60)` or a formula's `query1`."""

    name: str


@dataclass(frozen=True)
class String:
    value: str


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Neg:
    operand: Node


@dataclass(frozen=True)
class Func:
    name: str
    args: tuple
    kwargs: dict = field(default_factory=dict, hash=False, compare=False)


Node = MetricQuery | Number | Name | String | BinOp | Neg | Func


@dataclass(frozen=True)
class MonitorQuery:
    time_agg: str
    window: Window
    expr: Node
    comparator: str
    threshold: float
    text: str

    @property
    def metric_queries(self) -> list[MetricQuery]:
        return list(iter_metric_queries(self.expr))

    @property
    def group_by(self) -> tuple[str, ...]:
        """The multi-alert grouping: the tags every metric query groups by (in order of the first)."""
        queries = self.metric_queries
        if not queries:
            return ()
        common = [t for t in queries[0].group_by if all(t in q.group_by for q in queries[1:])]
        return tuple(common)

    def find_func(self, name: str) -> Func | None:
        return next((f for f in iter_funcs(self.expr) if f.name == name), None)


def parse_window(text: str) -> Window:
    m = _WINDOW.match(text)
    if not m:
        raise ValueError(f"invalid window {text!r}: use last_<n><m|h|d|w> such as last_5m or last_1h")
    seconds = int(m.group(2)) * WINDOW_UNITS[m.group(3)]
    if seconds <= 0:
        raise ValueError(f"invalid window {text!r}: must be longer than zero")
    if seconds > MAX_WINDOW_S:
        raise ValueError(f"invalid window {text!r}: longer than one month")
    return Window(text=text, direction=m.group(1), seconds=seconds)


def iter_metric_queries(node: object) -> Iterator[MetricQuery]:
    if isinstance(node, MetricQuery):
        yield node
    elif isinstance(node, BinOp):
        yield from iter_metric_queries(node.left)
        yield from iter_metric_queries(node.right)
    elif isinstance(node, Neg):
        yield from iter_metric_queries(node.operand)
    elif isinstance(node, Func):
        for arg in node.args:
            yield from iter_metric_queries(arg)


def iter_funcs(node: object) -> Iterator[Func]:
    if isinstance(node, Func):
        yield node
        for arg in node.args:
            yield from iter_funcs(arg)
    elif isinstance(node, BinOp):
        yield from iter_funcs(node.left)
        yield from iter_funcs(node.right)
    elif isinstance(node, Neg):
        yield from iter_funcs(node.operand)


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    # -- low level -----------------------------------------------------------------------------
    def error(self, message: str, pos: int | None = None) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.text, self.pos if pos is None else pos)

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self, s: str) -> bool:
        self.skip_ws()
        return self.text.startswith(s, self.pos)

    def expect(self, s: str) -> None:
        self.skip_ws()
        if not self.text.startswith(s, self.pos):
            found = self.text[self.pos:self.pos + 12] or "end of query"
            raise self.error(f"expected {s!r}, found {found!r}")
        self.pos += len(s)

    def match_re(self, pattern: re.Pattern[str]) -> str | None:
        self.skip_ws()
        m = pattern.match(self.text, self.pos)
        if not m:
            return None
        self.pos = m.end()
        return m.group(0)

    def at_end(self) -> bool:
        self.skip_ws()
        return self.pos >= len(self.text)

    def read_until(self, closing: str) -> str:
        end = self.text.find(closing, self.pos)
        if end < 0:
            raise self.error(f"unclosed {{ (missing {closing!r})")
        chunk = self.text[self.pos:end]
        self.pos = end + 1
        return chunk

    # -- grammar -------------------------------------------------------------------------------
    def monitor(self) -> MonitorQuery:
        start = self.pos
        agg = self.match_re(_IDENT)
        if agg is None or agg not in TIME_AGGREGATORS:
            raise self.error(f"monitor query must start with a time aggregator ({', '.join(sorted(TIME_AGGREGATORS))})"
                             + (f", not {agg!r}" if agg else ""), start)
        self.expect("(")
        wpos = self.pos
        wtext = self.match_re(re.compile(r"[A-Za-z0-9_]+"))
        try:
            window = parse_window(wtext or "")
        except ValueError as exc:
            raise self.error(str(exc), wpos) from None
        self.expect(")")
        self.expect(":")
        expr = self.expr()
        self.skip_ws()
        comparator = next((c for c in COMPARATORS if self.text.startswith(c, self.pos)), None)
        if comparator is None:
            raise self.error("expected a comparator (>, >=, <, <=) and a threshold after the expression")
        self.pos += len(comparator)
        num = self.match_re(_NUMBER)
        if num is None:
            raise self.error("expected a numeric threshold")
        if not self.at_end():
            raise self.error(f"unexpected text {self.text[self.pos:self.pos + 12]!r}")
        return MonitorQuery(agg, window, expr, comparator, float(num), self.text)

    def expr(self) -> Node:
        node = self.term()
        while True:
            if self.peek("+") or self.peek("-"):
                op = self.text[self.pos]
                self.pos += 1
                node = BinOp(op, node, self.term())
            else:
                return node

    def term(self) -> Node:
        node = self.factor()
        while self.peek("*") or self.peek("/"):
            op = self.text[self.pos]
            self.pos += 1
            node = BinOp(op, node, self.factor())
        return node

    def factor(self) -> Node:
        self.skip_ws()
        if self.peek("("):
            self.pos += 1
            node = self.expr()
            self.expect(")")
            return node
        if self.peek("-"):
            self.pos += 1
            return Neg(self.factor())
        if self.peek("'") or self.peek('"'):
            return self.string()
        num = self.match_re(re.compile(r"(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?"))
        if num is not None:
            return Number(float(num))
        start = self.pos
        ident = self.match_re(_IDENT)
        if ident is None:
            found = self.text[self.pos:self.pos + 12] or "end of query"
            raise self.error(f"expected a metric query, a function or a number, found {found!r}")
        if self.peek(":"):
            self.pos = start
            return self.metric_query()
        if self.peek("("):
            return self.function(ident, start)
        return Name(ident)

    def string(self) -> String:
        quote = self.text[self.pos]
        end = self.text.find(quote, self.pos + 1)
        if end < 0:
            raise self.error("unclosed string")
        value = self.text[self.pos + 1:end]
        self.pos = end + 1
        return String(value)

    def function(self, name: str, start: int) -> Func:
        if name not in FUNCTIONS:
            raise self.error(f"unknown function {name!r}", start)
        self.expect("(")
        args: list = []
        kwargs: dict = {}
        if not self.peek(")"):
            while True:
                save = self.pos
                key = self.match_re(_IDENT)
                if key is not None and self.peek("=") and not self.peek("=="):
                    self.pos += 1
                    self.skip_ws()
                    kwargs[key] = self._literal()
                else:
                    self.pos = save
                    args.append(self.expr())
                if self.peek(","):
                    self.pos += 1
                    continue
                break
        self.expect(")")
        return Func(name, tuple(args), kwargs)

    def _literal(self) -> object:
        if self.peek("'") or self.peek('"'):
            return self.string().value
        num = self.match_re(_NUMBER)
        if num is not None:
            return float(num)
        ident = self.match_re(_IDENT)
        if ident is not None:
            return ident
        raise self.error("expected a value")

    def metric_query(self) -> MetricQuery:
        start = self.pos
        agg = self.match_re(_IDENT)
        assert agg is not None
        if agg not in SPACE_AGGREGATORS and not PERCENTILE_AGG.match(agg):
            raise self.error(f"unknown space aggregator {agg!r} (use avg, sum, min, max, count or pNN)", start)
        self.expect(":")
        mpos = self.pos
        metric = self.match_re(_METRIC_NAME)
        if metric is None:
            raise self.error("expected a metric name", mpos)
        metric = metric.rstrip(".")
        self.expect("{")
        filters = self.filters(self.read_until("}"))
        group_by: tuple[str, ...] = ()
        methods: list[Method] = []
        while True:
            self.skip_ws()
            if self.text.startswith("by", self.pos) and re.match(r"by\s*\{", self.text[self.pos:]):
                if group_by:
                    raise self.error("two 'by' clauses")
                self.pos += 2
                self.expect("{")
                group_by = self.group_tags(self.read_until("}"))
                continue
            if self.text.startswith(".", self.pos):
                mstart = self.pos
                self.pos += 1
                name = self.match_re(_IDENT)
                if name is None or name not in METHODS:
                    raise self.error(f"unknown method {name!r} (use {', '.join(sorted(METHODS))})", mstart)
                self.expect("(")
                args = self.method_args(self.read_until(")"))
                methods.append(Method(name, args))
                continue
            break
        return MetricQuery(agg, metric, filters, group_by, tuple(methods), self.text[start:self.pos].strip())

    def filters(self, raw: str) -> tuple[TagFilter, ...]:
        raw = raw.strip()
        if raw in {"*", ""}:
            return ()
        if re.search(r"\b(AND|OR|NOT|IN)\b", raw):
            raise self.error("boolean tag filters (AND/OR/NOT/IN) are not supported here; use comma-separated filters")
        out = []
        for part in raw.split(","):
            token = part.strip()
            if not token:
                raise self.error("empty tag filter")
            if token == "*":
                continue
            negated = token.startswith("!") or token.startswith("-")
            body = token[1:] if negated else token
            if body.startswith("$"):
                out.append(TagFilter(token, None, None, negated, template_var=body[1:].split(".")[0]))
                continue
            key, sep, value = body.partition(":")
            if not _TAG_KEY.match(key):
                raise self.error(f"invalid tag filter {token!r}")
            if sep and value.startswith("$"):
                out.append(TagFilter(token, key, None, negated, template_var=value[1:].split(".")[0]))
                continue
            out.append(TagFilter(token, key, value if sep else None, negated))
        return tuple(out)

    def group_tags(self, raw: str) -> tuple[str, ...]:
        tags = tuple(t.strip() for t in raw.split(","))
        for tag in tags:
            if not _TAG_KEY.match(tag):
                raise self.error(f"invalid group-by tag {tag!r}")
        return tags

    def method_args(self, raw: str) -> tuple:
        args: list[object] = []
        for part in (p.strip() for p in raw.split(",")):
            if not part:
                continue
            if _NUMBER.fullmatch(part):
                args.append(float(part))
            else:
                args.append(part.strip("'\""))
        return tuple(args)


def parse_monitor_query(text: str) -> MonitorQuery:
    """Parse a metric/query alert monitor query; raises QuerySyntaxError."""
    return _Parser(text).monitor()


def parse_expression(text: str) -> Node:
    """Parse one metric expression (a widget `q` or a formula query's `query`)."""
    p = _Parser(text)
    node = p.expr()
    if not p.at_end():
        raise p.error(f"unexpected text {text[p.pos:p.pos + 12]!r}")
    return node


def parse_expression_list(text: str) -> list[Node]:
    """A widget `q` may hold several comma-separated queries."""
    p = _Parser(text)
    nodes = [p.expr()]
    while p.peek(","):
        p.pos += 1
        nodes.append(p.expr())
    if not p.at_end():
        raise p.error(f"unexpected text {text[p.pos:p.pos + 12]!r}")
    return nodes


def formula_names(formula: str) -> set[str]:
    """Query names a dashboard formula refers to (`query1 / query2 * 100` -> {query1, query2})."""
    node = parse_expression(formula)
    names: set[str] = set()

    def walk(n: object) -> None:
        if isinstance(n, Name):
            names.add(n.name)
        elif isinstance(n, BinOp):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, Neg):
            walk(n.operand)
        elif isinstance(n, Func):
            for a in n.args:
                walk(a)

    walk(node)
    return names
