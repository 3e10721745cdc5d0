"""End to end: real DogStatsD clients (the `datadog` library and our telemetry.metrics) sending
over loopback UDP / a Unix socket land exactly the expected points, tags, events and service checks
in the store; garbage is counted; a restart keeps the data."""

from __future__ import annotations

import socket
import time

import pytest
from datadog.dogstatsd.base import DogStatsd

from godseye.config import get_settings
from local_datadog.dogstatsd import DogStatsdReceiver
from local_datadog.store import MetricStore
from telemetry.metrics import Metrics


@pytest.fixture(autouse=True)
def no_process_service_tags(monkeypatch):
    """The datadog client adds DD_ENV/DD_SERVICE/DD_VERSION itself; each test sets what it expects."""
    for var in ("DD_ENV", "DD_SERVICE", "DD_VERSION", "DD_ENTITY_ID", "DD_TAGS", "DATADOG_TAGS"):
        monkeypatch.setenv(var, "x")  # records the original so teardown also undoes setdefault()s
        monkeypatch.delenv(var)


@pytest.fixture
def store(tmp_path):
    with MetricStore(tmp_path / "standin.sqlite") as s:
        yield s


@pytest.fixture
def receiver(store):
    r = DogStatsdReceiver(store, host="127.0.0.1", port=0, batch_interval=0.01).start()
    yield r
    r.stop()


def everything(store, metric, filters=None):
    return store.points(metric, 0, time.time() + 60, filters)


def test_datadog_library_client_lands_exact_points(receiver, store):
    before = time.time()
    client = DogStatsd(host="127.0.0.1", port=receiver.port, disable_telemetry=True,
                       constant_tags=["env:test", "service:godseye", "version:1.2.3"])
    client.gauge("llm.security.injection_score", 0.93, tags=["session_id:s1", "user_id:u1", "agent:shopper"])
    client.increment("llm.security.blocked", 2, tags=["reason:injection", "session_id:s1"])
    client.distribution("llm.latency", 1250, tags=["agent:shopper", "model:godseye-local"])
    client.histogram("tryon.image.bytes", 2048, tags=["format:png"])
    client.timing("mcp.tool.latency", 12, tags=["server:catalog", "tool:search"])
    client.set("shop.visitors", "u1")
    client.gauge_with_timestamp("llm.prediction.failure_probability", 0.4, 1_700_000_000, tags=["horizon:15m"])
    client.event("Injection blocked", "session s1\nrepeated attack", alert_type="error",
                 aggregation_key="s1", tags=["session_id:s1"])
    client.service_check("catalog.up", DogStatsd.CRITICAL, tags=["server:catalog"], message="no answer")
    client.flush()
    assert receiver.wait_idle(5)
    after = time.time()

    unified = {"env": "test", "service": "godseye", "version": "1.2.3"}
    (score,) = everything(store, "llm.security.injection_score")
    assert (score.value, score.type) == (0.93, "gauge")
    assert score.tags == {**unified, "session_id": "s1", "user_id": "u1", "agent": "shopper"}
    assert before - 1 <= score.ts <= after + 1
    (blocked,) = everything(store, "llm.security.blocked", {"reason": "injection"})
    assert (blocked.value, blocked.type) == (2, "count")
    (latency,) = everything(store, "llm.latency", {"model": "godseye-local"})
    assert (latency.value, latency.type) == (1250, "distribution")
    assert everything(store, "tryon.image.bytes")[0].type == "histogram"
    assert everything(store, "mcp.tool.latency", {"tool": "search"})[0].type == "timing"
    (visitor,) = everything(store, "shop.visitors")
    assert (visitor.type, visitor.member) == ("set", "u1")
    (forecast,) = everything(store, "llm.prediction.failure_probability")
    assert forecast.ts == 1_700_000_000  # the client timestamp wins
    (event,) = store.events(0, after + 60)
    assert (event.title, event.text, event.alert_type, event.aggregation_key) == (
        "Injection blocked", "session s1\nrepeated attack", "error", "s1")
    assert event.tags == {**unified, "session_id": "s1"}
    (check,) = store.service_checks(0, after + 60)
    assert (check.name, check.status, check.message) == ("catalog.up", 2, "no answer")
    stats = store.stats()
    assert stats["parse_errors"] == 0 and stats["points"] == 7 and stats["events"] == 1


def test_sampled_counts_are_scaled(receiver, store):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.sendto(b"commerce.checkout:1|c|@0.25|#session_id:s9", ("127.0.0.1", receiver.port))
    sock.close()
    assert receiver.wait_idle(5)
    (p,) = everything(store, "commerce.checkout")
    assert (p.value, p.rate) == (4.0, 0.25)


def test_our_metrics_client_lands_aggregated_points(receiver, store, monkeypatch):
    monkeypatch.setenv("DD_AGENT_HOST", "127.0.0.1")
    monkeypatch.setenv("DD_DOGSTATSD_PORT", str(receiver.port))
    monkeypatch.delenv("DD_DOGSTATSD_URL", raising=False)
    monkeypatch.setenv("DD_ENV", "ci")
    monkeypatch.setenv("DD_SERVICE", "godseye-test")
    monkeypatch.setenv("DD_VERSION", "9.9.9")
    m = Metrics(flush_interval=30)  # flushed explicitly below
    try:
        tags = {"model": "gemini", "agent": "shopper", "direction": "input", "user_id": "u1"}
        m.count("llm.token_usage", 100, tags=tags)
        tags["direction"] = "output"  # a caller reusing its dict must not rewrite what was recorded
        m.count("llm.token_usage", 40, tags=tags)
        m.count("llm.token_usage", 60, tags=tags)
        m.gauge("llm.response.quality", 0.2, tags={"agent": "shopper", "model": "gemini", "session_id": "s1"})
        m.gauge("llm.response.quality", 0.8, tags={"agent": "shopper", "model": "gemini", "session_id": "s1"})
        for v in (100, 200, 300):
            m.distribution("llm.latency", v, tags={"agent": "shopper", "model": "gemini"})
        m.increment("mcp.tool.calls", tags=["server:catalog", "tool:search"])
        m.event("Budget", "spend over limit", alert_type="warning", tags={"user_id": "u1"})
        m.flush()
        assert receiver.wait_idle(5)
    finally:
        m.close()

    unified = {"env": "ci", "service": "godseye-test", "version": "9.9.9"}
    usage = {p.tags["direction"]: p.value for p in everything(store, "llm.token_usage")}
    assert usage == {"input": 100, "output": 100}
    (inp,) = everything(store, "llm.token_usage", {"direction": "input"})
    assert inp.tags == {**unified, "model": "gemini", "agent": "shopper", "direction": "input", "user_id": "u1"}
    (quality,) = everything(store, "llm.response.quality")
    assert quality.value == 0.8 and quality.tags["session_id"] == "s1"
    assert sorted(p.value for p in everything(store, "llm.latency")) == [100, 200, 300]
    assert everything(store, "mcp.tool.calls")[0].tags["tool"] == "search"
    (event,) = store.events(0, time.time() + 60)
    assert (event.title, event.alert_type, event.tags["user_id"]) == ("Budget", "warning", "u1")


def test_cardinality_settings_drop_session_and_user_tags(receiver, store, monkeypatch):
    monkeypatch.setenv("DD_AGENT_HOST", "127.0.0.1")
    monkeypatch.setenv("DD_DOGSTATSD_PORT", str(receiver.port))
    monkeypatch.delenv("DD_DOGSTATSD_URL", raising=False)
    settings = get_settings()
    monkeypatch.setattr(settings, "metric_session_tags", False)
    monkeypatch.setattr(settings, "metric_user_tags", False)
    m = Metrics(flush_interval=30)
    try:
        for session in ("s1", "s2", "s3"):
            m.increment("commerce.cart.add", tags={"session_id": session, "user_id": "u" + session})
        m.flush()
        assert receiver.wait_idle(5)
    finally:
        m.close()
    (merged,) = everything(store, "commerce.cart.add")  # three sessions collapse into one context
    assert merged.value == 3
    assert "session_id" not in merged.tags and "user_id" not in merged.tags


def test_garbage_is_counted_and_does_not_stop_the_receiver(receiver, store):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for payload in (b"\xff\xfe\x00garbage", b"no pipe", b"a:1|zz\nok.metric:5|g", b"", b"_e{9,9}:short|x"):
        sock.sendto(payload, ("127.0.0.1", receiver.port))
    sock.close()
    assert receiver.wait_idle(5)
    assert [p.value for p in everything(store, "ok.metric")] == [5]
    stats = store.stats()
    assert stats["parse_errors"] == 4
    assert stats["datagrams"] == 5
    assert receiver.snapshot()["last_errors"]


def test_burst_of_datagrams_is_received_without_loss(receiver, store):
    n = 20_000
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", receiver.port))
    for i in range(n):
        sock.send(b"bench.points:%d|c|#shard:%d" % (i, i % 10))
        if i % 2000 == 1999:
            time.sleep(0.005)  # the sender shares our GIL; let the receive thread run between bursts
    sock.close()
    assert receiver.wait_idle(20)
    assert receiver.stats.datagrams == n
    assert store.stats()["points"] == n
    assert sum(p.value for p in everything(store, "bench.points")) == n * (n - 1) / 2
    assert len(everything(store, "bench.points", {"shard": "3"})) == n // 10


def test_unix_datagram_socket(store, tmp_path):
    path = tmp_path / "dsd.socket"
    r = DogStatsdReceiver(store, socket_path=path, udp=False, batch_interval=0.01).start()
    try:
        client = DogStatsd(socket_path=str(path), disable_telemetry=True)
        client.gauge("uds.gauge", 7, tags=["via:uds"])
        client.flush()
        assert r.wait_idle(5)
    finally:
        r.stop()
    assert not path.exists()
    assert everything(store, "uds.gauge")[0].tags == {"via": "uds"}


def test_stop_drains_and_restart_keeps_data(tmp_path):
    path = tmp_path / "standin.sqlite"
    with MetricStore(path) as store:
        r = DogStatsdReceiver(store, port=0).start()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for _ in range(500):
            sock.sendto(b"restart.me:1|c", ("127.0.0.1", r.port))
        r.stop()  # drains what the kernel already holds
    with MetricStore(path) as again:
        r2 = DogStatsdReceiver(again, port=0).start()
        try:
            sock.sendto(b"restart.me:1|c", ("127.0.0.1", r2.port))
            assert r2.wait_idle(5)
        finally:
            r2.stop()
            sock.close()
        assert len(everything(again, "restart.me")) == 501
        assert again.stats()["datagrams"] == 501


def test_port_in_use_gives_a_clear_error(store, receiver):
    with pytest.raises(OSError, match="cannot listen for DogStatsD"):
        DogStatsdReceiver(store, host="127.0.0.1", port=receiver.port).start()
