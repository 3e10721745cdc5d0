"""The stand-in's metric store: the query API other components code against, persistence,
concurrent readers, and speed on a large table."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from local_datadog.store import Event, MetricStore, Point, ServiceCheck

T0 = 1_700_000_000.0


@pytest.fixture
def store(tmp_path):
    with MetricStore(tmp_path / "standin.sqlite") as s:
        yield s


def test_points_roundtrip_with_filters_and_time_bounds(store):
    store.add_points(
        [
            Point(T0 + 0, 0.2, "gauge", {"env": "dev", "session_id": "s1", "agent": "shopper"}),
            Point(T0 + 10, 0.9, "gauge", {"env": "dev", "session_id": "s2", "agent": "shopper"}),
            Point(T0 + 20, 0.4, "g", {"env": "dev", "session_id": "s1", "agent": "stylist"}),
            Point(T0 + 30, 0.7, "gauge", {"env": "prod", "session_id": "s1", "agent": "shopper"}),
        ],
        metric="llm.security.injection_score",
    )
    pts = store.points("llm.security.injection_score", T0, T0 + 30)  # end is exclusive
    assert [(p.ts, p.value) for p in pts] == [(T0, 0.2), (T0 + 10, 0.9), (T0 + 20, 0.4)]
    assert all(p.type == "gauge" and p.metric == "llm.security.injection_score" for p in pts)
    s1 = store.points("llm.security.injection_score", T0, T0 + 100, {"session_id": "s1", "env": "dev"})
    assert [p.value for p in s1] == [0.2, 0.4]
    assert s1[0].tags == {"env": "dev", "session_id": "s1", "agent": "shopper"}
    assert store.points("llm.security.injection_score", T0, T0 + 100, {"session_id": "nope"}) == []
    assert store.points("no.such.metric", 0, 2e10) == []
    # Returned tags are private copies.
    s1[0].tags["env"] = "changed"
    assert store.points("llm.security.injection_score", T0, T0 + 1)[0].tags["env"] == "dev"


def test_metric_names_tag_values_and_contexts(store):
    store.add_points([
        Point(T0, 1, "count", {"reason": "injection"}, metric="llm.security.blocked"),
        Point(T0 + 50, 1, "count", {"reason": "profanity"}, metric="llm.security.blocked"),
        Point(T0 + 100, 1, "count", {"reason": "pii"}, metric="llm.security.blocked"),
        Point(T0, 5, "distribution", {"agent": "a"}, metric="llm.latency"),
    ])
    assert store.metric_names() == ["llm.latency", "llm.security.blocked"]
    assert store.tag_values("llm.security.blocked", "reason", T0, T0 + 60) == ["injection", "profanity"]
    assert store.tag_values("llm.security.blocked", "missing", T0, T0 + 200) == []
    assert len(store.contexts("llm.security.blocked")) == 3


def test_sets_rates_and_types(store):
    store.add_points([
        Point(T0, 1, "s", {}, metric="shop.visitors", member="u1"),
        Point(T0 + 1, 1, "set", {}, metric="shop.visitors", member="123"),
        Point(T0 + 2, 12.5, "d", {"agent": "a"}, metric="llm.latency", rate=0.25),
        Point(T0 + 3, 7, "ms", {}, metric="mcp.tool.latency"),
    ])
    members = store.points("shop.visitors", T0, T0 + 10)
    assert [(p.value, p.member, p.type) for p in members] == [(1.0, "u1", "set"), (1.0, "123", "set")]
    (dist,) = store.points("llm.latency", T0, T0 + 10)
    assert (dist.type, dist.value, dist.rate) == ("distribution", 12.5, 0.25)
    assert store.points("mcp.tool.latency", T0, T0 + 10)[0].type == "timing"


@pytest.mark.parametrize(
    ("point", "message"),
    [
        (Point(T0, 1, "gauge", {}), "metric name"),
        (Point(T0, 1, "nonsense", {}, metric="m"), "unknown metric type"),
        (Point(T0, 1, "set", {}, metric="m"), "needs a member"),
        (Point(T0, 1, "distribution", {}, metric="m", rate=0), "sample rate"),
    ],
)
def test_bad_points_are_refused_clearly(store, point, message):
    with pytest.raises(ValueError, match=message):
        store.add_points([point])
    assert store.stats()["points"] == 0


def test_events_and_service_checks(store):
    store.add_events([
        Event(T0, "Attack", "blocked s1", {"env": "dev", "session_id": "s1"}, alert_type="error"),
        Event(T0 + 5, "Deploy", "v2", {"env": "prod"}),
    ])
    store.add_service_checks([ServiceCheck(T0 + 1, "catalog.up", 2, {"server": "catalog"}, message="down")])
    assert [e.title for e in store.events(T0, T0 + 10)] == ["Attack", "Deploy"]
    (attack,) = store.events(T0, T0 + 10, {"session_id": "s1"})
    assert (attack.text, attack.alert_type, attack.tags["env"]) == ("blocked s1", "error", "dev")
    (check,) = store.service_checks(T0, T0 + 10)
    assert (check.name, check.status, check.message, check.tags) == ("catalog.up", 2, "down", {"server": "catalog"})
    stats = store.stats()
    assert (stats["events"], stats["service_checks"]) == (2, 1)


def test_persists_across_restart_and_prunes(tmp_path):
    path = tmp_path / "standin.sqlite"
    with MetricStore(path) as first:
        first.add_points([Point(T0 + i, i, "count", {"k": "v"}, metric="c") for i in range(5)])
        first.bump(datagrams=7, parse_errors=2)
    with MetricStore(path) as second:
        assert [p.value for p in second.points("c", 0, 2e10)] == [0, 1, 2, 3, 4]
        stats = second.stats()
        assert (stats["points"], stats["datagrams"], stats["parse_errors"]) == (5, 7, 2)
        assert second.prune(T0 + 3) == 3
        assert [p.value for p in second.points("c", 0, 2e10)] == [3, 4]


def test_another_process_sees_new_metrics_and_contexts(tmp_path):
    """The receiver writes while the CLI / monitor evaluator read from their own processes."""
    path = tmp_path / "standin.sqlite"
    with MetricStore(path) as reader:
        reader.add_points([Point(T0, 1, "gauge", {"a": "1"}, metric="m")])
        assert len(reader.points("m", 0, 2e10)) == 1
        code = (
            "from local_datadog.store import MetricStore, Point\n"
            f"s = MetricStore({str(path)!r})\n"
            f"s.add_points([Point({T0 + 1}, 2, 'gauge', {{'a': '2'}}, metric='m'),"
            f" Point({T0 + 2}, 3, 'count', {{}}, metric='new.metric')])\n"
        )
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
        assert [(p.value, p.tags) for p in reader.points("m", 0, 2e10)] == [(1, {"a": "1"}), (2, {"a": "2"})]
        assert reader.metric_names() == ["m", "new.metric"]
        assert reader.points("new.metric", 0, 2e10, {})[0].value == 3


def test_window_queries_stay_fast_on_a_large_table(tmp_path):
    """~300k points over 20 metrics and 500 contexts: a 5-minute window is answered in milliseconds."""
    with MetricStore(tmp_path / "big.sqlite") as store:
        ids = [store.resolve(f"metric.{m}", {"session_id": f"s{c}", "env": "dev"}, "gauge")
               for m in range(20) for c in range(25)]
        n = 300_000
        rows = [(*ids[i % len(ids)][:1], T0 + i * 0.1, ids[i % len(ids)][1], float(i)) for i in range(n)]
        store.write_rows(rows)
        start = time.perf_counter()
        window = store.points("metric.3", T0 + 20_000, T0 + 20_300)
        filtered = store.points("metric.3", T0, T0 + n * 0.1, {"session_id": "s7"})
        elapsed = time.perf_counter() - start
        assert len(window) == 150  # 3000 points in 300 s, one metric in 20
        assert len(filtered) == n // 500
        assert elapsed < 1.0, elapsed
