"""Semantic checks beyond the API schema: queries, thresholds, messages and cross-references.

The schema says a monitor *may* be sent to Datadog; these checks say it will *work*: the metric is
in the README's catalog, every tag it filters or groups by exists on that metric, the window and the
aggregators are valid, warning and critical thresholds are ordered for the comparator, the message
only uses variables the monitor has and mentions handles (webhooks, incidents, routes) that exist.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from godseye.datadog_assets import message as msg
from godseye.datadog_assets.catalog import MetricCatalog
from godseye.datadog_assets.kinds import ID_TAG_KEY, MANAGED_TAG
from godseye.datadog_assets.loader import PLACEHOLDER, Asset, AssetSet, stable_id_tag
from godseye.datadog_assets.problems import Problem, join_path
from godseye.datadog_assets.query import (
    FILL_MODES,
    PERCENTILE_AGG,
    ROLLUP_METHODS,
    Func,
    MetricQuery,
    MonitorQuery,
    Node,
    Number,
    QuerySyntaxError,
    String,
    formula_names,
    iter_funcs,
    iter_metric_queries,
    parse_expression,
    parse_expression_list,
    parse_monitor_query,
    parse_window,
)
from godseye.datadog_assets.webhook_vars import unknown_variables

METRIC_MONITOR_TYPES = {"query alert", "metric alert"}
ANOMALY_ALGORITHMS = {"basic", "agile", "robust"}
FORECAST_ALGORITHMS = {"linear", "seasonal"}
_DURATION = re.compile(r"^\d+[mhdw]$")
_HANDLE = re.compile(r"^@[A-Za-z0-9][A-Za-z0-9_.+\-]*(@[A-Za-z0-9.\-]+\.[A-Za-z]{2,})?$")


@dataclass
class LintContext:
    assets: AssetSet
    catalog: MetricCatalog | None
    webhook_names: set[str] = field(default_factory=set)
    custom_variables: set[str] = field(default_factory=set)
    incident_handles: dict[str, Asset] = field(default_factory=dict)
    monitors: dict[str, Asset] = field(default_factory=dict)
    parsed_monitors: dict[str, MonitorQuery] = field(default_factory=dict)

    @classmethod
    def build(cls, assets: AssetSet, catalog: MetricCatalog | None) -> LintContext:
        ctx = cls(assets, catalog)
        for a in assets.of("webhook"):
            if isinstance(a.data, dict) and isinstance(a.data.get("name"), str):
                ctx.webhook_names.add(a.data["name"])
        for a in assets.of("webhook_variable"):
            if isinstance(a.data, dict) and isinstance(a.data.get("name"), str):
                ctx.custom_variables.add(a.data["name"])
        for a in assets.of("incident_setting"):
            handle = a.data.get("handle") if isinstance(a.data, dict) else None
            if isinstance(handle, dict) and isinstance(handle.get("name"), str):
                ctx.incident_handles[handle["name"]] = a
        for a in assets.of("monitor"):
            ctx.monitors[a.stem] = a
            query = a.data.get("query") if isinstance(a.data, dict) else None
            if isinstance(query, str):
                try:
                    ctx.parsed_monitors[a.stem] = parse_monitor_query(query)
                except QuerySyntaxError:
                    pass
        return ctx


class _Out:
    def __init__(self, asset: Asset):
        self.asset = asset
        self.items: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(Problem(self.asset.rel, path, message))


# -- metric queries ----------------------------------------------------------------------------

def lint_metric_query(q: MetricQuery, ctx: LintContext, out: _Out, path: str, *,
                      template_vars: dict[str, str | None] | None = None, in_monitor: bool = False) -> None:
    """Metric, tags, aggregator and methods of one `agg:metric{filters} by {tags}.method()` query."""
    catalog = ctx.catalog
    spec = catalog.get(q.metric) if catalog else None
    if catalog is not None and spec is None:
        out.add(path, f"unknown metric {q.metric!r}: not in the README metric table ({catalog.source or 'catalog'})")
    if PERCENTILE_AGG.match(q.space_agg) and spec is not None and spec.type != "distribution":
        out.add(path, f"percentile aggregator {q.space_agg!r} needs a distribution; {q.metric} is a {spec.type}")
    for f in q.filters:
        if f.template_var is not None:
            if in_monitor:
                out.add(path, f"template variable {f.text!r} cannot be used in a monitor query")
            elif template_vars is not None and f.template_var not in template_vars:
                out.add(path, f"template variable ${f.template_var} is not defined in template_variables")
            else:
                prefix = (template_vars or {}).get(f.template_var)
                if spec is not None and prefix and not spec.has_tag(prefix):
                    out.add(path, f"template variable ${f.template_var} filters tag {prefix!r}, "
                                  f"which {q.metric} does not have (tags: {_tags(spec)})")
            continue
        if spec is not None and f.key and not spec.has_tag(f.key):
            out.add(path, f"unknown tag {f.key!r} in filter {f.text!r}: {q.metric} has tags {_tags(spec)}")
    for tag in q.group_by:
        if spec is not None and not spec.has_tag(tag):
            out.add(path, f"unknown tag {tag!r} in 'by {{{tag}}}': {q.metric} has tags {_tags(spec)}")
    for m in q.methods:
        if m.name in {"as_count", "as_rate"} and spec is not None and spec.type not in {"count", "rate"}:
            out.add(path, f".{m.name}() only applies to count and rate metrics; {q.metric} is a {spec.type}")
        if m.name == "rollup":
            if not m.args or str(m.args[0]) not in ROLLUP_METHODS:
                out.add(path, f".rollup() method must be one of {sorted(ROLLUP_METHODS)}")
            if len(m.args) > 1 and (not isinstance(m.args[1], float) or m.args[1] <= 0 or m.args[1] != int(m.args[1])):
                out.add(path, ".rollup() interval must be a positive whole number of seconds")
        if m.name == "fill" and (not m.args or str(m.args[0]) not in FILL_MODES):
            out.add(path, f".fill() mode must be one of {sorted(FILL_MODES)}")


def _tags(spec: Any) -> str:
    return ", ".join(sorted(spec.tags)) or "(none)"


def _lint_functions(expr: Node, out: _Out, path: str, window_dir: str | None,
                    threshold_windows: dict | None) -> None:
    for f in iter_funcs(expr):
        if f.name == "anomalies":
            _lint_anomalies(f, out, path, threshold_windows)
        elif f.name == "forecast":
            _lint_forecast(f, out, path, window_dir)
    if window_dir == "next" and not any(f.name == "forecast" for f in iter_funcs(expr)):
        out.add(path, "a next_ window is only valid around forecast()")


def _arg(f: Func, i: int) -> object:
    return f.args[i] if len(f.args) > i else None


def _lint_anomalies(f: Func, out: _Out, path: str, threshold_windows: dict | None) -> None:
    algo = _arg(f, 1)
    if not isinstance(algo, String) or algo.value not in ANOMALY_ALGORITHMS:
        out.add(path, f"anomalies() algorithm must be one of {sorted(ANOMALY_ALGORITHMS)}")
    bounds = _arg(f, 2)
    if not isinstance(bounds, Number) or not 0 < bounds.value <= 6:
        out.add(path, "anomalies() bounds must be a number in (0, 6]")
    direction = f.kwargs.get("direction", "both")
    if direction not in {"both", "above", "below"}:
        out.add(path, "anomalies() direction must be both, above or below")
    alert_window = f.kwargs.get("alert_window")
    if alert_window is not None:
        try:
            parse_window(str(alert_window))
        except ValueError as exc:
            out.add(path, f"anomalies() alert_window: {exc}")
        trigger = (threshold_windows or {}).get("trigger_window")
        if trigger and trigger != alert_window:
            out.add(path, f"anomalies() alert_window {alert_window!r} differs from "
                          f"options.threshold_windows.trigger_window {trigger!r}")


def _lint_forecast(f: Func, out: _Out, path: str, window_dir: str | None) -> None:
    algo = _arg(f, 1)
    if not isinstance(algo, String) or algo.value not in FORECAST_ALGORITHMS:
        out.add(path, f"forecast() algorithm must be one of {sorted(FORECAST_ALGORITHMS)}")
    dev = _arg(f, 2)
    if not isinstance(dev, Number) or dev.value < 0:
        out.add(path, "forecast() deviations must be a non-negative number")
    for key in ("interval", "history"):
        if key in f.kwargs and not _DURATION.match(str(f.kwargs[key])):
            out.add(path, f"forecast() {key} must look like 60m, 1h, 1d or 1w")
    if window_dir is not None and window_dir != "next":
        out.add(path, "forecast monitors evaluate the future: use a next_<n> window such as next_1d")


# -- monitors ----------------------------------------------------------------------------------

def lint_monitor(asset: Asset, ctx: LintContext) -> list[Problem]:
    out = _Out(asset)
    data = asset.data
    if not isinstance(data, dict):
        return []
    _lint_identity_tags(data.get("tags"), asset, out, "$.tags")
    mtype = data.get("type")
    if isinstance(mtype, str) and mtype not in METRIC_MONITOR_TYPES:
        out.add("$.type", f"only metric monitors ({' or '.join(sorted(METRIC_MONITOR_TYPES))}) are linted and "
                          "evaluated by the stand-in")
        return out.items
    query_text = data.get("query")
    if not isinstance(query_text, str):
        return out.items
    try:
        mq = parse_monitor_query(query_text)
    except QuerySyntaxError as exc:
        out.add("$.query", f"query does not parse: {exc.reason} (position {exc.pos})")
        return out.items
    options = data.get("options") if isinstance(data.get("options"), dict) else {}
    for q in mq.metric_queries:
        lint_metric_query(q, ctx, out, "$.query", in_monitor=True)
    groups = {q.group_by for q in mq.metric_queries if q.group_by}
    if len(groups) > 1:
        out.add("$.query", f"metric queries group by different tags {sorted(groups)}; multi-alert needs the same groups")
    percentile_leaves = [q for q in mq.metric_queries if PERCENTILE_AGG.match(q.space_agg)]
    if mq.time_agg == "percentile" and len(percentile_leaves) != len(mq.metric_queries):
        out.add("$.query", "percentile() time aggregation needs pNN: space aggregation on distribution metrics")
    if percentile_leaves and mq.time_agg != "percentile":
        out.add("$.query", f"pNN queries on distributions need the percentile time aggregation, not {mq.time_agg}")
    tw = options.get("threshold_windows") if isinstance(options.get("threshold_windows"), dict) else None
    if mq.find_func("anomalies") is not None and not (tw and tw.get("trigger_window") and tw.get("recovery_window")):
        out.add("$.options.threshold_windows", "anomaly monitors need threshold_windows.trigger_window and "
                                               "recovery_window")
    _lint_functions(mq.expr, out, "$.query", mq.window.direction, tw)
    _lint_thresholds(mq, options, out)
    _lint_options(options, out)
    _lint_message(data.get("message"), mq, asset, ctx, out, data.get("tags") or [])
    if isinstance(data.get("name"), str):
        _lint_variables(data["name"], set(mq.group_by), out, "$.name")
    return out.items


def _lint_variables(text: str, groups: set[str], out: _Out, path: str) -> set[str]:
    """Template variables must be plain monitor variables or `{{<group tag>.name}}`."""
    try:
        used = msg.variables_used(text)
    except msg.TemplateError as exc:
        out.add(path, f"template error: {exc}")
        return set()
    for var in sorted(used):
        if var in msg.PLAIN_VARIABLES:
            continue
        tag, dot, attr = var.rpartition(".")
        if dot and attr == "name" and tag in groups:
            continue
        if dot and attr == "name":
            out.add(path, f"{{{{{var}}}}}: {tag!r} is not a group of this monitor "
                          f"(groups: {', '.join(sorted(groups)) or 'none'})")
        else:
            out.add(path, f"unknown template variable {{{{{var}}}}}")
    return used


def _lint_identity_tags(tags: Any, asset: Asset, out: _Out, path: str) -> None:
    if not isinstance(tags, list):
        out.add(path, f"tags must include {MANAGED_TAG!r} and {stable_id_tag(asset.stem)!r} for idempotent apply")
        return
    if MANAGED_TAG not in tags:
        out.add(path, f"missing tag {MANAGED_TAG!r} (how apply recognises assets it owns)")
    ids = [t for t in tags if isinstance(t, str) and t.startswith(ID_TAG_KEY + ":")]
    if not ids:
        out.add(path, f"missing tag {stable_id_tag(asset.stem)!r} (the stable id apply matches on)")
    elif ids != [stable_id_tag(asset.stem)]:
        out.add(path, f"tag {ids[0]!r} must be {stable_id_tag(asset.stem)!r} (one id, equal to the file name)")
    for i, tag in enumerate(tags):
        if isinstance(tag, str) and (tag != tag.strip() or not tag or " " in tag):
            out.add(join_path(path, i), f"malformed tag {tag!r}")


def _cmp(comparator: str, a: float, b: float) -> bool:
    return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[comparator]


def _lint_thresholds(mq: MonitorQuery, options: dict, out: _Out) -> None:
    th = options.get("thresholds")
    if not isinstance(th, dict):
        out.add("$.options.thresholds", "thresholds are required (critical must equal the query's threshold)")
        return
    nums = {k: v for k, v in th.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    critical = nums.get("critical")
    if critical is None:
        out.add("$.options.thresholds", "missing critical threshold")
        return
    if critical != mq.threshold:
        out.add("$.options.thresholds.critical", f"critical {critical} differs from the query threshold {mq.threshold}")
    above = mq.comparator in {">", ">="}
    word = "below" if above else "above"
    warning = nums.get("warning")
    if warning is not None and not _cmp("<" if above else ">", warning, critical):
        out.add("$.options.thresholds.warning",
                f"warning {warning} must be {word} critical {critical} for comparator {mq.comparator!r}")
    for key, ref_key in (("critical_recovery", "critical"), ("warning_recovery", "warning")):
        value, ref = nums.get(key), nums.get(ref_key)
        if value is not None and ref is not None and not _cmp("<" if above else ">", value, ref):
            out.add(f"$.options.thresholds.{key}",
                    f"{key} {value} must be {word} {ref_key} {ref} for comparator {mq.comparator!r}")
    if mq.find_func("anomalies") is not None and (not 0 < critical <= 1 or mq.comparator != ">="):
        out.add("$.query", "anomaly monitors compare the fraction of anomalous points: use '>= x' with 0 < x <= 1")


def _lint_options(options: dict, out: _Out) -> None:
    if options.get("renotify_statuses") and not options.get("renotify_interval"):
        out.add("$.options.renotify_statuses", "renotify_statuses has no effect without renotify_interval")
    if options.get("no_data_timeframe") and not options.get("notify_no_data"):
        out.add("$.options.no_data_timeframe", "no_data_timeframe has no effect unless notify_no_data is true")
    for key in ("evaluation_delay", "new_group_delay", "renotify_interval", "no_data_timeframe", "timeout_h"):
        value = options.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            out.add(f"$.options.{key}", f"{key} must not be negative")


def _lint_message(text: Any, mq: MonitorQuery, asset: Asset, ctx: LintContext, out: _Out, tags: list) -> None:
    if not isinstance(text, str) or not text.strip():
        out.add("$.message", "message is empty: say what happened, why it matters and the runbook")
        return
    try:
        msg.parse(text)
    except msg.TemplateError as exc:
        out.add("$.message", f"template error: {exc}")
        return
    _lint_variables(text, set(mq.group_by), out, "$.message")
    options = asset.data.get("options") if isinstance(asset.data.get("options"), dict) else {}
    if isinstance(options.get("escalation_message"), str):
        _lint_variables(options["escalation_message"], set(mq.group_by), out, "$.options.escalation_message")
    handles = msg.all_mentions(text)
    for handle in handles:
        if handle.startswith("webhook-") and handle[len("webhook-"):] not in ctx.webhook_names:
            out.add("$.message", f"@{handle}: no webhook named {handle[len('webhook-'):]!r} in webhooks/")
        if handle.startswith("incident-"):
            name = handle[len("incident-"):]
            setting = ctx.incident_handles.get(name)
            if setting is None:
                out.add("$.message", f"@{handle}: no incident setting with handle {name!r} in incidents/")
            elif asset.stem not in (setting.data.get("monitors") or []):
                out.add("$.message", f"@{handle}: {setting.rel} does not list monitor {asset.stem!r}")
    for route_asset in ctx.assets.of("notification_routes"):
        routes = route_asset.data.get("routes") if isinstance(route_asset.data, dict) else None
        for route in routes if isinstance(routes, list) else []:
            if not isinstance(route, dict):
                continue
            match = route.get("match_tags") or []
            if match and all(t in tags for t in match):
                for handle in route.get("handles") or []:
                    if isinstance(handle, str) and handle.lstrip("@") not in handles:
                        out.add("$.message", f"route {route.get('name')!r} ({route_asset.rel}) requires "
                                             f"{handle} for monitors tagged {', '.join(match)}")


# -- dashboards ----------------------------------------------------------------------------------

def _widgets(widgets: Any, path: str) -> Iterable[tuple[str, dict]]:
    for i, w in enumerate(widgets if isinstance(widgets, list) else []):
        if not isinstance(w, dict) or not isinstance(w.get("definition"), dict):
            continue
        wpath = join_path(join_path(path, i), "definition")
        yield wpath, w["definition"]
        yield from _widgets(w["definition"].get("widgets"), join_path(wpath, "widgets"))


def lint_dashboard(asset: Asset, ctx: LintContext) -> list[Problem]:
    out = _Out(asset)
    data = asset.data
    if not isinstance(data, dict):
        return []
    description = data.get("description") or ""
    if stable_id_tag(asset.stem) not in description:
        out.add("$.description", f"description must contain {stable_id_tag(asset.stem)!r} "
                                 "(dashboards have no free-form tags; apply matches on this marker)")
    tvars: dict[str, str | None] = {}
    for i, tv in enumerate(data.get("template_variables") or []):
        if isinstance(tv, dict) and isinstance(tv.get("name"), str):
            tvars[tv["name"]] = tv.get("prefix")
            prefix = tv.get("prefix")
            if ctx.catalog is not None and prefix and prefix not in _all_tags(ctx.catalog):
                out.add(f"$.template_variables[{i}].prefix", f"tag {prefix!r} is on no metric in the catalog")
    for wpath, definition in _widgets(data.get("widgets"), "$.widgets"):
        for j, request in enumerate(definition.get("requests") or [] if isinstance(definition.get("requests"), list) else []):
            if not isinstance(request, dict):
                continue
            rpath = join_path(join_path(wpath, "requests"), j)
            _lint_request(request, rpath, ctx, out, tvars)
    return out.items


def _all_tags(catalog: MetricCatalog) -> set[str]:
    from godseye.datadog_assets.catalog import UNIVERSAL_TAGS

    tags = set(UNIVERSAL_TAGS)
    for spec in catalog.metrics.values():
        tags |= spec.tags
    return tags


def _lint_request(request: dict, rpath: str, ctx: LintContext, out: _Out, tvars: dict[str, str | None]) -> None:
    if isinstance(request.get("q"), str):
        try:
            nodes = parse_expression_list(request["q"])
        except QuerySyntaxError as exc:
            out.add(join_path(rpath, "q"), f"query does not parse: {exc.reason} (position {exc.pos})")
        else:
            for node in nodes:
                for q in iter_metric_queries(node):
                    lint_metric_query(q, ctx, out, join_path(rpath, "q"), template_vars=tvars)
    names = _lint_formula_queries(request.get("queries"), join_path(rpath, "queries"), ctx, out, tvars)
    for k, formula in enumerate(request.get("formulas") or []):
        if isinstance(formula, dict) and isinstance(formula.get("formula"), str):
            _lint_formula(formula["formula"], names, join_path(join_path(join_path(rpath, "formulas"), k), "formula"), out)


def _lint_formula_queries(queries: Any, qpath: str, ctx: LintContext, out: _Out,
                          tvars: dict[str, str | None] | None) -> set[str]:
    names: set[str] = set()
    for k, query in enumerate(queries if isinstance(queries, list) else []):
        if not isinstance(query, dict):
            continue
        if isinstance(query.get("name"), str):
            names.add(query["name"])
        if query.get("data_source") == "metrics" and isinstance(query.get("query"), str):
            path = join_path(join_path(qpath, k), "query")
            try:
                node = parse_expression(query["query"])
            except QuerySyntaxError as exc:
                out.add(path, f"query does not parse: {exc.reason} (position {exc.pos})")
                continue
            for q in iter_metric_queries(node):
                lint_metric_query(q, ctx, out, path, template_vars=tvars)
    return names


def _lint_formula(formula: str, names: set[str], path: str, out: _Out) -> None:
    try:
        refs = formula_names(formula)
    except QuerySyntaxError as exc:
        out.add(path, f"formula does not parse: {exc.reason}")
        return
    for ref in sorted(refs - names):
        out.add(path, f"formula refers to {ref!r}, which is not a query name ({', '.join(sorted(names)) or 'none'})")


# -- SLOs -----------------------------------------------------------------------------------------

def lint_slo(asset: Asset, ctx: LintContext) -> list[Problem]:
    out = _Out(asset)
    data = asset.data
    if not isinstance(data, dict):
        return []
    _lint_identity_tags(data.get("tags"), asset, out, "$.tags")
    slo_type = data.get("type")
    if slo_type == "metric":
        query = data.get("query")
        if not isinstance(query, dict):
            out.add("$", "a metric SLO needs query.numerator and query.denominator")
        else:
            for part in ("numerator", "denominator"):
                if isinstance(query.get(part), str):
                    _lint_slo_count_query(query[part], f"$.query.{part}", ctx, out)
    elif slo_type == "time_slice":
        spec = (data.get("sli_specification") or {}).get("time_slice") if isinstance(data.get("sli_specification"), dict) else None
        if not isinstance(spec, dict):
            out.add("$", "a time_slice SLO needs sli_specification.time_slice")
        else:
            qpath = "$.sli_specification.time_slice.query"
            query = spec.get("query") if isinstance(spec.get("query"), dict) else {}
            names = _lint_formula_queries(query.get("queries"), qpath + ".queries", ctx, out, None)
            for k, formula in enumerate(query.get("formulas") or []):
                if isinstance(formula, dict) and isinstance(formula.get("formula"), str):
                    _lint_formula(formula["formula"], names, f"{qpath}.formulas[{k}].formula", out)
    elif slo_type == "monitor" and not data.get("monitor_ids"):
        out.add("$.monitor_ids", "a monitor SLO needs monitor_ids")
    for i, th in enumerate(data.get("thresholds") or []):
        if not isinstance(th, dict):
            continue
        target, warning = th.get("target"), th.get("warning")
        if isinstance(target, int | float) and not 0 < target < 100:
            out.add(f"$.thresholds[{i}].target", "target must be a percentage strictly between 0 and 100")
        if isinstance(target, int | float) and isinstance(warning, int | float) and warning <= target:
            out.add(f"$.thresholds[{i}].warning", f"warning {warning} must be above target {target}")
    return out.items


def _lint_slo_count_query(text: str, path: str, ctx: LintContext, out: _Out) -> None:
    try:
        node = parse_expression(text)
    except QuerySyntaxError as exc:
        out.add(path, f"query does not parse: {exc.reason} (position {exc.pos})")
        return
    for q in iter_metric_queries(node):
        lint_metric_query(q, ctx, out, path)
        if q.space_agg != "sum":
            out.add(path, f"metric SLOs only allow the sum aggregator, not {q.space_agg!r}")
        spec = ctx.catalog.get(q.metric) if ctx.catalog else None
        if spec is not None and spec.type == "count" and not q.has_method("as_count"):
            out.add(path, f"count metric {q.metric} needs .as_count() in an SLO")


# -- webhooks -------------------------------------------------------------------------------------

def lint_webhook(asset: Asset, ctx: LintContext) -> list[Problem]:
    out = _Out(asset)
    data = asset.data
    if not isinstance(data, dict):
        return []
    if isinstance(data.get("name"), str) and data["name"] != asset.stem:
        out.add("$.name", f"name {data['name']!r} must equal the file name {asset.stem!r} (it is the @webhook- handle)")
    url = data.get("url")
    if isinstance(url, str):
        shown = PLACEHOLDER.sub(lambda m: m.group(2) if m.group(2) is not None else "placeholder.invalid", url)
        parsed = urlparse(shown)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            out.add("$.url", f"not an http(s) URL: {url!r}")
        for name in unknown_variables(url, ctx.custom_variables):
            out.add("$.url", f"unknown webhook variable {name}")
    for key, want in (("payload", (dict, list)), ("custom_headers", (dict,))):
        text = data.get(key)
        if not isinstance(text, str):
            continue
        try:
            parsed_json = json.loads(text)
        except json.JSONDecodeError as exc:
            out.add(f"$.{key}", f"must be JSON text: {exc.msg} at line {exc.lineno} column {exc.colno}")
            continue
        if not isinstance(parsed_json, want):
            out.add(f"$.{key}", f"must be a JSON {'object' if want == (dict,) else 'object or list'}")
        for name in unknown_variables(text, ctx.custom_variables):
            out.add(f"$.{key}", f"unknown webhook variable {name} (neither built-in nor in webhooks/variables/)")
    return out.items


def lint_webhook_variable(asset: Asset, ctx: LintContext) -> list[Problem]:
    out = _Out(asset)
    data = asset.data
    if not isinstance(data, dict):
        return []
    name = data.get("name")
    if isinstance(name, str):
        if name != asset.stem:
            out.add("$.name", f"name {name!r} must equal the file name {asset.stem!r}")
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
            out.add("$.name", "custom variable names are upper-case letters, digits and underscores")
        if re.search(r"SECRET|TOKEN|KEY|PASSWORD", name) and data.get("is_secret") is not True:
            out.add("$.is_secret", f"{name} looks like a credential: set is_secret to true")
    value = data.get("value")
    if isinstance(value, str) and data.get("is_secret") and not PLACEHOLDER.search(value):
        out.add("$.value", "a secret value must come from the environment (${env:NAME}), never from git")
    return out.items


# -- incident settings and routes -----------------------------------------------------------------

def lint_incident_setting(asset: Asset, ctx: LintContext) -> list[Problem]:
    out = _Out(asset)
    data = asset.data
    if not isinstance(data, dict):
        return []
    handle = data.get("handle") if isinstance(data.get("handle"), dict) else {}
    name = handle.get("name")
    if isinstance(name, str) and name != asset.stem:
        out.add("$.handle.name", f"handle name {name!r} must equal the file name {asset.stem!r}")
    severities = (handle.get("fields") or {}).get("severity") if isinstance(handle.get("fields"), dict) else None
    if isinstance(severities, list) and data.get("severity") not in severities:
        out.add("$.severity", f"severity {data.get('severity')!r} is not in handle.fields.severity {severities}")
    monitors = data.get("monitors") if isinstance(data.get("monitors"), list) else []
    title = data.get("title")
    title_vars: set[str] = set()
    if isinstance(title, str):
        try:
            title_vars = msg.variables_used(title)
        except msg.TemplateError as exc:
            out.add("$.title", f"template error: {exc}")
    for i, stem in enumerate(monitors):
        path = f"$.monitors[{i}]"
        monitor = ctx.monitors.get(stem) if isinstance(stem, str) else None
        if monitor is None:
            out.add(path, f"no monitor {stem!r} in monitors/")
            continue
        text = monitor.data.get("message") if isinstance(monitor.data, dict) else ""
        if isinstance(name, str) and f"incident-{name}" not in msg.all_mentions(text or ""):
            out.add(path, f"monitor {stem!r} never mentions @incident-{name}, so no incident would be declared")
        mq = ctx.parsed_monitors.get(stem)
        groups = set(mq.group_by) if mq else set()
        for var in sorted(title_vars):
            tag, dot, attr = var.rpartition(".")
            if var not in msg.PLAIN_VARIABLES and not (dot and attr == "name" and tag in groups):
                out.add("$.title", f"{{{{{var}}}}} is not available for monitor {stem!r} "
                                   f"(groups: {', '.join(sorted(groups)) or 'none'})")
        monitor_tag_keys = {t.partition(":")[0] for t in monitor.data.get("tags") or [] if isinstance(t, str)}
        for field_name, tag_key in (data.get("fields_from_tags") or {}).items():
            if tag_key not in monitor_tag_keys and tag_key not in groups:
                out.add(f"$.fields_from_tags.{field_name}",
                        f"tag {tag_key!r} is neither a tag nor a group of monitor {stem!r}")
    return out.items


def lint_notification_routes(asset: Asset, ctx: LintContext) -> list[Problem]:
    out = _Out(asset)
    data = asset.data
    routes = data.get("routes") if isinstance(data, dict) else None
    for i, route in enumerate(routes if isinstance(routes, list) else []):
        if not isinstance(route, dict):
            continue
        for j, handle in enumerate(route.get("handles") or []):
            if isinstance(handle, str) and not _HANDLE.match(handle):
                out.add(f"$.routes[{i}].handles[{j}]", f"{handle!r} is not a notification handle "
                                                       "(@slack-<channel>, @team@example.com, @pagerduty-<service>)")
        for j, tag in enumerate(route.get("match_tags") or []):
            if isinstance(tag, str) and ":" not in tag:
                out.add(f"$.routes[{i}].match_tags[{j}]", f"{tag!r} must be key:value")
    return out.items


LINTERS = {
    "monitor": lint_monitor,
    "dashboard": lint_dashboard,
    "slo": lint_slo,
    "webhook": lint_webhook,
    "webhook_variable": lint_webhook_variable,
    "incident_setting": lint_incident_setting,
    "notification_routes": lint_notification_routes,
}


def duplicate_ids(assets: AssetSet) -> list[Problem]:
    """Two files claiming the same stable id would make apply flip-flop between them."""
    problems = []
    for kind in ("monitor", "slo"):
        seen: dict[str, str] = {}
        for a in assets.of(kind):
            tags = a.data.get("tags") if isinstance(a.data, dict) else None
            for t in tags if isinstance(tags, list) else []:
                if isinstance(t, str) and t.startswith(ID_TAG_KEY + ":"):
                    if t in seen:
                        problems.append(Problem(a.rel, "$.tags", f"{t!r} is already used by {seen[t]}"))
                    seen.setdefault(t, a.rel)
    return problems

