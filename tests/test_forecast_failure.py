"""Per-service failure probability, the gauge it emits, the scheduler loop, the CLI, the scenarios."""

from __future__ import annotations

import json
import socket
import threading

import numpy as np
import pytest
from datadog.dogstatsd.base import DogStatsd
from typer.testing import CliRunner

from forecasting.failure import (
    METRIC_NAME,
    Rule,
    assess_service,
    combine,
    emit_failure_probabilities,
    run_loop,
    start_loop_thread,
)
from forecasting.scenarios import GENERATORS
from godseye.cli.main import app as godseye_app
from telemetry.metrics import Metrics

NOW = 1_700_100_000.0


class FakeMetrics:
    def __init__(self):
        self.gauges: list[tuple[str, float, dict]] = []

    def gauge(self, name, value, tags=None):
        self.gauges.append((name, value, dict(tags or {})))


def ramp(start: float, end: float, v0: float, per_hour: float, noise: float = 0.5, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.arange(start, end + 1, 60.0)
    return [(float(ts), float(v0 + per_hour * (ts - start) / 3600 + rng.normal(0, noise))) for ts in t]


class FakeBackend:
    """Series per (metric, service); records every call like a metrics API would see it."""

    def __init__(self):
        self.calls: list[tuple[str, float, float, dict]] = []

    def __call__(self, metric, start, end, filters):
        self.calls.append((metric, start, end, dict(filters)))
        if metric == "broken":
            raise ConnectionError("backend down")
        if metric == "empty":
            return []
        if metric == "latency" and filters["service"] == "shop":  # climbing 100 ms/h toward 1000
            return ramp(start, end, 200, 100)
        return ramp(start, end, 200, 0, seed=1)  # flat


RULES = (Rule("latency", 1000.0, name="latency p95"), Rule("errors", 1000.0), Rule("mem", 50.0, "below"))


def test_combine_is_one_minus_product():
    assert combine([]) == 0.0
    assert combine([0.5, 0.5]) == pytest.approx(0.75)
    assert combine([0.2]) == pytest.approx(0.2)
    assert combine([1.0, 0.3]) == 1.0
    assert combine([-1, 2]) == 1.0  # clipped into [0, 1]


def test_rule_validation():
    with pytest.raises(ValueError, match="direction"):
        Rule("m", 1.0, "sideways")
    with pytest.raises(ValueError, match="finite"):
        Rule("m", float("nan"))


def test_assessment_combines_rule_probabilities_and_passes_filters():
    backend = FakeBackend()
    slow = assess_service(backend, RULES, "shop", now=NOW)
    calm = assess_service(backend, RULES, "catalog", now=NOW)
    probs = {o.rule.label: o.probability for o in slow.outcomes}
    assert probs["latency p95"] > 0.5  # 200 + 100/h over 3 days of history: far above 1000 already
    assert probs["errors"] < 0.01 and probs["mem"] < 0.01
    assert slow.probability == pytest.approx(combine(probs.values()))
    assert calm.probability < 0.01
    metric, start, end, filters = backend.calls[0]
    assert (metric, end, end - start) == ("latency", NOW, 3 * 86400)
    assert filters == {"service": "shop"}


def test_climbing_latency_is_predicted_two_hours_out():
    def fetch(metric, start, end, filters):
        # Flat at 300 ms for two days, then climbing 150 ms/h since 4 h ago: 900 now, 1000 in 40 min.
        rng = np.random.default_rng(3)
        t = np.arange(start, end + 1, 60.0)
        y = 300 + 150 * np.maximum(t - (end - 4 * 3600), 0) / 3600 + rng.normal(0, 10, len(t))
        return np.column_stack([t, y]).tolist()

    out = assess_service(fetch, (Rule("latency", 1000.0),), "shop", now=NOW)
    (o,) = out.outcomes
    assert o.probability > 0.9 and o.method == "linear_trend"
    assert o.crossing_time == pytest.approx(NOW + 40 * 60, abs=10 * 60)


def test_emitter_sends_the_gauge_with_service_and_horizon_tags():
    fake = FakeMetrics()
    results = emit_failure_probabilities(FakeBackend(), RULES, ["shop", "catalog"], now=NOW, metrics_client=fake)
    assert [g[0] for g in fake.gauges] == [METRIC_NAME, METRIC_NAME]
    assert [g[2] for g in fake.gauges] == [{"service": "shop", "horizon": "2h"},
                                          {"service": "catalog", "horizon": "2h"}]
    assert [g[1] for g in fake.gauges] == [r.probability for r in results]
    assert all(r.emitted for r in results)
    json.dumps([r.to_dict() for r in results])


def test_missing_or_failing_rules_are_reported_and_skipped():
    fake = FakeMetrics()
    rules = (Rule("broken", 1.0), Rule("empty", 1.0), Rule("errors", 1000.0))
    (res,) = emit_failure_probabilities(FakeBackend(), rules, "shop", now=NOW, metrics_client=fake)
    errors = {o.rule.metric: o.error for o in res.outcomes}
    assert "backend down" in errors["broken"] and errors["empty"] == "no data" and errors["errors"] is None
    assert len(fake.gauges) == 1
    # No rule usable: nothing is emitted (a made-up 0 would hide an outage).
    (none,) = emit_failure_probabilities(FakeBackend(), rules[:2], "shop", now=NOW, metrics_client=fake)
    assert none.probability is None and not none.emitted and len(fake.gauges) == 1


def test_gauge_reaches_dogstatsd_on_a_loopback_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    client = DogStatsd(host="127.0.0.1", port=sock.getsockname()[1], disable_buffering=True,
                       disable_telemetry=True, origin_detection_enabled=False)
    try:
        emit_failure_probabilities(FakeBackend(), RULES[:1], "shop", now=NOW, metrics_client=Metrics(client))
        client.flush()
        packet = sock.recv(65535).decode()
    finally:
        client.close_socket()
        sock.close()
    name_value, kind, tags = packet.strip().split("|")[:3]
    name, value = name_value.split(":")
    assert (name, kind) == (METRIC_NAME, "g")
    assert 0.5 < float(value) <= 1.0
    assert {"service:shop", "horizon:2h"} <= set(tags.lstrip("#").split(","))


def test_loop_runs_on_its_interval_and_survives_errors():
    fake = FakeMetrics()
    calls = {"n": 0}

    def flaky(metric, start, end, filters):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("first call fails")
        return ramp(end - 6 * 3600, end, 10, 0)

    seen = []
    done = run_loop(flaky, (Rule("x", 100.0),), "shop", interval_s=0.01, iterations=3, metrics_client=fake,
                    on_result=seen.append)
    assert done == 3 and len(seen) == 3
    assert len(fake.gauges) == 2  # the first run had no usable rule, the next two emitted

    thread, stop = start_loop_thread(flaky, (Rule("x", 100.0),), "shop", interval_s=0.01, metrics_client=fake)
    threading.Event().wait(0.3)
    stop.set()
    thread.join(5)
    assert not thread.is_alive() and len(fake.gauges) > 2


# --- the CLI ---------------------------------------------------------------------------------------

runner = CliRunner()


def _ramp_json(n: int = 240, per_step: float = 0.5, spacing: float = 60.0) -> str:
    return json.dumps([[NOW + spacing * i, 10 + per_step * i] for i in range(n)])


def test_cli_forecast_round_trip():
    # 0.5 per minute; the last value is 129.5; 150 is reached 41 minutes after the last point.
    res = runner.invoke(godseye_app, ["sre", "forecast", "--threshold", "150", "--horizon", "90m"],
                        input=_ramp_json())
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["method"] == "linear_trend" and out["horizon_s"] == 5400
    assert len(out["forecast"]) == len(out["interval"]["lower"]) == len(out["interval"]["upper"])
    assert out["interval"]["level"] == 0.95 and [i["level"] for i in out["intervals"]] == [0.8, 0.95]
    assert out["crossing_in_s"] == pytest.approx(41 * 60, abs=3 * 60)
    assert out["crossing_time"] == pytest.approx(out["origin"] + out["crossing_in_s"])
    assert out["probability"] > 0.99
    ts = [p[0] for p in out["forecast"]]
    assert ts[0] > out["origin"] and ts[-1] >= out["origin"] + 5400 - 1


def test_cli_below_direction_step_and_level():
    res = runner.invoke(godseye_app, ["sre", "forecast", "-t", "0", "--horizon", "7200s", "--direction", "below",
                                      "--step", "10m", "--level", "0.8"], input=_ramp_json(per_step=-0.01))
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["step_s"] == 600 and len(out["forecast"]) == 12 and out["interval"]["level"] == 0.8
    assert out["crossing_time"] is None and out["probability"] < 0.01


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        ([], "", "no input"),
        ([], "[[1, 2], [2", "not valid JSON"),
        ([], '{"a": 1}', "JSON array"),
        ([], "[[1, 2], [2, 3]]", "at least 3 points"),
        ([], '[[1, "x"], [2, 3], [3, 4]]', "must be a number"),
        (["--horizon", "2 hours"], None, "not a duration"),
        (["--horizon", "-5m"], None, "not a duration"),
        (["--direction", "up"], None, "above or below"),
        (["--level", "95"], None, "between 0 and 1"),
    ],
)
def test_cli_bad_input_exits_2_with_a_clear_message(args, stdin, message):
    res = runner.invoke(godseye_app, ["sre", "forecast", "--threshold", "5", *args],
                        input=_ramp_json(30) if stdin is None else stdin)
    assert res.exit_code == 2
    assert message in res.stderr and res.stderr.startswith("error: ")
    assert "Traceback" not in res.output


# --- scenarios -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_scenarios_are_seeded_and_carry_their_truth(name):
    a, b, c = GENERATORS[name](3), GENERATORS[name](3), GENERATORS[name](4)
    assert np.array_equal(a.times, b.times) and np.array_equal(a.values, b.values, equal_nan=True)
    assert not np.array_equal(a.times, c.times)
    assert np.all(np.diff(a.times) > 0) and np.isnan(a.values).sum() < 0.01 * len(a.values)
    beyond = a.signal >= a.threshold if a.direction == "above" else a.signal <= a.threshold
    if a.kind == "stable":
        assert a.crossing_time is None and not beyond.any()
    else:
        assert a.onset_time < a.crossing_time < a.end
        assert a.crossing_time == a.times[np.argmax(beyond)]
        assert not beyond[a.times < a.onset_time].any()
