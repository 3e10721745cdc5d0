"""The DogStatsD wire format parser: every metric type, rates, tags, timestamps, events, service
checks, packing and garbage (which is counted and skipped, never raised)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local_datadog.wire import Parser, format_tags, parse_datagram, parse_tags


def one_metric(line: str):
    result = parse_datagram(line.encode())
    assert result.errors == 0, result.error_samples
    assert len(result.metrics) == 1
    return result.metrics[0]


@pytest.mark.parametrize(
    ("code", "name"),
    [("c", "count"), ("g", "gauge"), ("h", "histogram"), ("d", "distribution"), ("ms", "timing")],
)
def test_every_numeric_type(code, name):
    m = one_metric(f"llm.latency:12.5|{code}")
    assert (m.name, m.type, m.values, m.rate, m.tags, m.timestamp) == ("llm.latency", name, [12.5], 1.0, {}, None)


def test_set_keeps_members_as_strings():
    m = one_metric("shop.users:u-42|s|#env:dev")
    assert m.type == "set"
    assert m.members == ["u-42"]
    assert m.values == [1.0]


def test_count_is_scaled_by_sample_rate_but_gauge_and_distribution_are_not():
    assert one_metric("a:3|c|@0.5").values == [6.0]
    assert one_metric("a:3|c|@0.1").values == pytest.approx([30.0])
    gauge = one_metric("a:3|g|@0.5")
    assert gauge.values == [3.0] and gauge.rate == 0.5
    dist = one_metric("a:3|d|@0.25")
    assert dist.values == [3.0] and dist.rate == 0.25  # each sample stands for 4; the store keeps the rate


def test_tags_with_values_without_values_and_colons_in_values():
    m = one_metric("a:1|g|#env:prod,service:godseye,flag,url:http://x:8080/p,,env:second")
    assert m.tags == {"env": "prod", "service": "godseye", "flag": "", "url": "http://x:8080/p"}


def test_all_optional_fields_in_any_order():
    m = one_metric("a:1|c|T1700000000|#k:v|c:abc123|@0.5|e:it-false,cn-x|card:high")
    assert m.timestamp == 1700000000.0
    assert m.tags == {"k": "v"}
    assert m.container_id == "abc123"
    assert m.external_data == "it-false,cn-x"
    assert m.cardinality == "high"
    assert m.values == [2.0]


def test_unknown_future_fields_are_ignored_like_the_agent():
    assert one_metric("a:1|g|#k:v|x:whatever").tags == {"k": "v"}


def test_multi_value_packing_protocol_1_1():
    m = one_metric("llm.latency:1:2.5:3e2|d|#agent:shopper")
    assert m.values == [1.0, 2.5, 300.0]
    assert one_metric("hits:1:2|c|@0.5").values == [2.0, 4.0]


def test_many_messages_per_datagram_with_blank_and_crlf_lines():
    data = b"a:1|c\nb:2|g\r\n\n_e{1,1}:t|x\n_sc|db|0\n"
    result = parse_datagram(data)
    assert result.errors == 0
    assert [m.name for m in result.metrics] == ["a", "b"]
    assert len(result.events) == 1 and len(result.service_checks) == 1
    assert result.messages == 4


def test_event_full_form():
    title, text = "Injection blocked: s1", "user tried |ignore previous| again\\nend"  # escaped newline
    e = parse_datagram(
        f"_e{{{len(title)},{len(text)}}}:{title}|{text}"
        "|d:1700000000|h:web-1|k:attack-s1|p:low|s:godseye|t:error|#env:dev,session_id:s1".encode()
    ).events[0]
    assert e.title == "Injection blocked: s1"
    assert e.text == "user tried |ignore previous| again\nend"
    assert (e.timestamp, e.host, e.aggregation_key, e.priority, e.source_type, e.alert_type) == (
        1700000000.0, "web-1", "attack-s1", "low", "godseye", "error")
    assert e.tags == {"env": "dev", "session_id": "s1"}


def test_event_lengths_count_utf8_bytes():
    title, text = "Café ☕", "naïve text"
    line = f"_e{{{len(title.encode())},{len(text.encode())}}}:{title}|{text}|t:warning"
    e = parse_datagram(line.encode()).events[0]
    assert (e.title, e.text, e.alert_type) == (title, text, "warning")


def test_event_defaults_and_unknown_alert_type():
    e = parse_datagram(b"_e{2,0}:hi||t:nonsense").events[0]
    assert (e.title, e.text, e.priority, e.alert_type, e.timestamp) == ("hi", "", "normal", "info", None)


def test_service_check_full_form():
    c = parse_datagram(b"_sc|catalog.up|2|d:1700000001|h:web-2|#env:dev,server:catalog|m:down since m\\: 10s\\nretry").service_checks[0]
    assert (c.name, c.status, c.timestamp, c.host) == ("catalog.up", 2, 1700000001.0, "web-2")
    assert c.tags == {"env": "dev", "server": "catalog"}
    assert c.message == "down since m: 10s\nretry"


@pytest.mark.parametrize(
    "line",
    [
        "no-pipe-here",
        "name|c",  # no value
        ":1|c",  # no name
        "a:|g",  # empty value
        "a:1|zz",  # unknown type
        "a:1|",  # empty type
        "a:abc|g",
        "a:nan|g",
        "a:inf|c",
        "a:1|c|@0",
        "a:1|c|@1.5",
        "a:1|c|@x",
        "a:1|g|Tsoon",
        "a:1|g|T-5",
        "a:1::2|d",  # empty packed value
        "_e{5,3}:abc|def",  # lengths do not match
        "_e{x,1}:a|b",
        "_e{0,1}:|b",
        "_e{1,1}:a|bc",  # text longer than declared
        "_sc|name",
        "_sc||0",
        "_sc|name|7",
        "_sc|name|ok",
    ],
)
def test_garbage_is_counted_and_skipped(line):
    result = Parser().parse(f"good:1|c\n{line}\nalso.good:2|g".encode())
    assert result.errors == 1, line
    assert [m.name for m in result.metrics] == ["good", "also.good"]
    assert result.error_samples and line[:10] in result.error_samples[0]


def test_invalid_utf8_only_costs_its_own_line():
    result = parse_datagram(b"a:1|c\n\xff\xfe:1|g\nb:2|c")
    assert result.errors == 1
    assert [m.name for m in result.metrics] == ["a", "b"]


def test_parse_never_raises_on_random_bytes():
    import random

    rng = random.Random(7)
    for _ in range(300):
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 80)))
        parse_datagram(blob)  # must not raise
        parse_datagram(b"_e{" + blob)
        parse_datagram(b"_sc|" + blob)


def test_tag_helpers_roundtrip():
    tags = {"b": "2", "a": "1", "flag": ""}
    assert format_tags(tags) == "a:1,b:2,flag"
    assert parse_tags(format_tags(tags)) == tags


names = st.from_regex(r"[a-z][a-z0-9_.]{0,30}", fullmatch=True)
tag_keys = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
tag_values = st.from_regex(r"[a-zA-Z0-9_./-]{1,16}", fullmatch=True)
finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)


@settings(max_examples=150, deadline=None)
@given(
    name=names,
    code=st.sampled_from(["c", "g", "h", "d", "ms"]),
    values=st.lists(finite, min_size=1, max_size=5),
    tags=st.dictionaries(tag_keys, tag_values, max_size=5),
    rate=st.sampled_from([1.0, 0.5, 0.25, 0.1]),
    ts=st.one_of(st.none(), st.integers(min_value=1, max_value=4_000_000_000)),
)
def test_roundtrip_property(name, code, values, tags, rate, ts):
    line = f"{name}:{':'.join(repr(v) for v in values)}|{code}"
    if rate != 1.0:
        line += f"|@{rate}"
    if tags:
        line += "|#" + ",".join(f"{k}:{v}" for k, v in tags.items())
    if ts is not None:
        line += f"|T{ts}"
    m = one_metric(line)
    assert m.name == name
    assert m.tags == tags
    assert m.rate == rate
    assert m.timestamp == (None if ts is None else float(ts))
    expected = [v / rate for v in values] if code == "c" else values
    assert all(math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12) for a, b in zip(m.values, expected, strict=True))
