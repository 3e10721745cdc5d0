"""The stand-in's small HTTP query API (Starlette), for people, the CLI and dashboards.

Why HTTP on top of a store anyone can open: `godseye standin status` and browsers need to know
what the *running* receiver sees (live counters, last parse errors, test-agent URL) without
touching its process, and non-Python tools can read points without SQLite.

    GET /health
    GET /api/metrics
    GET /api/query?metric=NAME&from=-15m&to=now&tag=k:v[&tag=k2:v2][&by=TAG][&limit=N]
    GET /api/tag_values?metric=NAME&key=TAG&from=&to=
    GET /api/events?from=&to=&tag=k:v
    GET /api/service_checks?from=&to=
    GET /api/stats
Times: now, -15m, 15m (ago), unix seconds or ISO 8601. Bad parameters get a 400 with a message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from local_datadog.query import (
    QueryError,
    event_json,
    parse_tag_filters,
    parse_time,
    point_json,
    service_check_json,
    summarize,
)
from local_datadog.store import MetricStore

DEFAULT_WINDOW_S = 15 * 60
MAX_POINTS = 100_000


def _range(request: Request) -> tuple[float, float]:
    now = time.time()
    end = parse_time(request.query_params.get("to"), now, default=now)
    start = parse_time(request.query_params.get("from"), now, default=end - DEFAULT_WINDOW_S)
    if start > end:
        raise QueryError("'from' is after 'to'")
    return start, end


def create_app(store: MetricStore, status: Callable[[], dict[str, Any]] | None = None) -> Starlette:
    """`status()` returns the live view of the running stand-in (receiver counters, URLs)."""

    def handle(fn: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> JSONResponse:
            try:
                return JSONResponse(await run_in_threadpool(fn, request))
            except QueryError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)

        return endpoint

    def health(request: Request) -> dict[str, Any]:
        return {"status": "ok", **(status() if status else {})}

    def metrics(request: Request) -> dict[str, Any]:
        return {"metrics": store.metric_names()}

    def query(request: Request) -> dict[str, Any]:
        metric = request.query_params.get("metric")
        if not metric:
            raise QueryError("metric is required")
        start, end = _range(request)
        filters = parse_tag_filters(request.query_params.getlist("tag"))
        try:
            limit = int(request.query_params.get("limit", MAX_POINTS))
        except ValueError:
            raise QueryError("limit must be an integer") from None
        points = store.points(metric, start, end, filters or None)
        body: dict[str, Any] = {"metric": metric, "from": start, "to": end, "filters": filters,
                                "count": len(points), "truncated": len(points) > limit}
        by = request.query_params.get("by")
        if by is not None:
            body["groups"] = summarize(points, by or None)
        body["points"] = [point_json(p) for p in points[-limit:]] if limit > 0 else []
        return body

    def tag_values(request: Request) -> dict[str, Any]:
        metric, key = request.query_params.get("metric"), request.query_params.get("key")
        if not metric or not key:
            raise QueryError("metric and key are required")
        start, end = _range(request)
        return {"metric": metric, "key": key, "values": store.tag_values(metric, key, start, end)}

    def events(request: Request) -> dict[str, Any]:
        start, end = _range(request)
        filters = parse_tag_filters(request.query_params.getlist("tag"))
        return {"events": [event_json(e) for e in store.events(start, end, filters or None)]}

    def service_checks(request: Request) -> dict[str, Any]:
        start, end = _range(request)
        return {"service_checks": [service_check_json(c) for c in store.service_checks(start, end)]}

    def stats(request: Request) -> dict[str, Any]:
        return {"store": store.stats(), **(status() if status else {})}

    routes = [
        Route("/health", handle(health)),
        Route("/api/metrics", handle(metrics)),
        Route("/api/query", handle(query)),
        Route("/api/tag_values", handle(tag_values)),
        Route("/api/events", handle(events)),
        Route("/api/service_checks", handle(service_checks)),
        Route("/api/stats", handle(stats)),
    ]
    return Starlette(routes=routes)
