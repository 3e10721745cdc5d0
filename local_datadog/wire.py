"""The DogStatsD wire format, parsed the way the Datadog Agent reads it.

Why our own parser: the stand-in must accept exactly what a real Agent accepts from the `datadog`
library and from any Datadog-instrumented service (protocol v1.0-v1.4: multi-value packing, sample
rates, tags, container ids, external data, cardinality, client timestamps), so what developers see
locally is what Datadog would store. One datagram holds several newline-separated messages; a bad
line is counted and skipped and never costs the rest of the datagram.

Formats (fields after the type may come in any order; unknown fields are ignored, as the Agent does):

    metric:        name:value[:value...]|type[|@rate][|#k:v,k2:v2][|c:container][|e:external][|card:c][|T<ts>]
                   type is c (count), g (gauge), h (histogram), d (distribution), s (set), ms (timing)
    event:         _e{title_len,text_len}:title|text[|d:ts][|h:host][|k:key][|p:priority][|s:source]
                   [|t:alert_type][|#tags]           (lengths are UTF-8 byte counts; "\\n" means newline)
    service check: _sc|name|status[|d:ts][|h:host][|#tags][|m:message]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# Wire type code -> the name stored and returned by the store.
METRIC_TYPES: dict[str, str] = {
    "c": "count",
    "g": "gauge",
    "h": "histogram",
    "d": "distribution",
    "s": "set",
    "ms": "timing",
}
TYPE_NAMES = frozenset(METRIC_TYPES.values())
EVENT_PRIORITIES = frozenset({"normal", "low"})
EVENT_ALERT_TYPES = frozenset({"info", "warning", "error", "success"})
SERVICE_CHECK_STATUSES = {0: "ok", 1: "warning", 2: "critical", 3: "unknown"}

_FIELD_CACHE_LIMIT = 50_000


class WireError(ValueError):
    """One malformed DogStatsD line (the message says what is wrong with it)."""


def parse_tags(raw: str) -> dict[str, str]:
    """`"a:1,b,c:x:y"` -> `{"a": "1", "b": "", "c": "x:y"}`.

    A tag without a colon gets an empty value. When a key repeats, the first value wins: the
    metrics client puts call-site tags before its constant tags, so a caller's explicit `service`
    tag overrides the process default.
    """
    tags: dict[str, str] = {}
    if not raw:
        return tags
    for item in raw.split(","):
        if not item:
            continue
        key, _, value = item.partition(":")
        if key and key not in tags:
            tags[key] = value
    return tags


def format_tags(tags: dict[str, str]) -> str:
    """The inverse of parse_tags, in sorted key order (a stable, canonical form)."""
    return ",".join(f"{k}:{v}" if v != "" else k for k, v in sorted(tags.items()))


@dataclass(slots=True)
class MetricMessage:
    """One metric line. `values` are already scaled by 1/rate for counts (what Datadog stores)."""

    name: str
    type: str
    values: list[float]
    tags: dict[str, str]
    tags_raw: str = ""
    rate: float = 1.0
    timestamp: float | None = None
    members: list[str] | None = None  # the elements of a set metric
    container_id: str | None = None
    external_data: str | None = None
    cardinality: str | None = None


@dataclass(slots=True)
class EventMessage:
    title: str
    text: str
    tags: dict[str, str] = field(default_factory=dict)
    timestamp: float | None = None
    host: str | None = None
    aggregation_key: str | None = None
    priority: str = "normal"
    source_type: str | None = None
    alert_type: str = "info"


@dataclass(slots=True)
class ServiceCheckMessage:
    name: str
    status: int
    tags: dict[str, str] = field(default_factory=dict)
    timestamp: float | None = None
    host: str | None = None
    message: str = ""


@dataclass(slots=True)
class ParseResult:
    metrics: list[MetricMessage] = field(default_factory=list)
    events: list[EventMessage] = field(default_factory=list)
    service_checks: list[ServiceCheckMessage] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)  # first few bad lines, for diagnostics

    @property
    def messages(self) -> int:
        return len(self.metrics) + len(self.events) + len(self.service_checks)


@dataclass(slots=True, frozen=True)
class _Fields:
    """The part of a metric line after the values, parsed once and cached (it repeats a lot)."""

    type: str
    rate: float
    tags_raw: str
    tags: dict[str, str]
    timestamp: float | None
    container_id: str | None
    external_data: str | None
    cardinality: str | None


def _finite(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise WireError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise WireError(f"{what} {text!r} is not finite")
    return value


def _timestamp(text: str) -> float:
    value = _finite(text, "timestamp")
    if value <= 0:
        raise WireError(f"timestamp {text!r} must be positive")
    return value


class Parser:
    """Parses datagrams; keeps a small cache of the repeated `|type|@rate|#tags` suffixes.

    Safe to share between threads (the cache only ever gains equivalent entries).
    """

    def __init__(self, max_error_samples: int = 5):
        self._fields: dict[str, _Fields] = {}
        self.max_error_samples = max_error_samples

    # -- datagrams -------------------------------------------------------------------------------

    def parse(self, data: bytes | str) -> ParseResult:
        """Every message in one datagram. Never raises: bad lines are counted in `.errors`."""
        result = ParseResult()
        if isinstance(data, bytes):
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                # Decode line by line so one bad line does not cost the others.
                for raw in data.split(b"\n"):
                    try:
                        self._line(raw.decode("utf-8"), result)
                    except UnicodeDecodeError:
                        self._error(result, repr(raw[:80]), "not UTF-8")
                return result
        else:
            text = data
        if "\n" not in text:
            self._line(text, result)
        else:
            for line in text.split("\n"):
                self._line(line, result)
        return result

    def _line(self, line: str, result: ParseResult) -> None:
        if line.endswith("\r"):
            line = line[:-1]
        if not line:
            return
        try:
            if line.startswith("_e{"):
                result.events.append(self.parse_event(line))
            elif line.startswith("_sc|"):
                result.service_checks.append(self.parse_service_check(line))
            else:
                result.metrics.append(self.parse_metric(line))
        except WireError as exc:
            self._error(result, line, str(exc))
        except Exception as exc:  # defensive: a parser bug must never stop the receiver
            self._error(result, line, f"unexpected {type(exc).__name__}: {exc}")

    def _error(self, result: ParseResult, line: str, why: str) -> None:
        result.errors += 1
        if len(result.error_samples) < self.max_error_samples:
            result.error_samples.append(f"{why}: {line[:200]}")

    # -- metrics ---------------------------------------------------------------------------------

    def parse_metric(self, line: str) -> MetricMessage:
        head, sep, rest = line.partition("|")
        if not sep:
            raise WireError("metric line has no '|type'")
        name, colon, raw_values = head.partition(":")
        if not colon or not name:
            raise WireError("metric line needs 'name:value'")
        if not raw_values:
            raise WireError("metric has no value")
        fields = self._fields.get(rest)
        if fields is None:
            fields = self._parse_fields(rest)
            if len(self._fields) >= _FIELD_CACHE_LIMIT:
                self._fields.clear()
            self._fields[rest] = fields
        kind = fields.type
        members = None
        if kind == "set":
            members = raw_values.split(":")
            values = [1.0] * len(members)
        elif ":" in raw_values:
            values = [_finite(v, "value") for v in raw_values.split(":")]
        else:
            values = [_finite(raw_values, "value")]
        if kind == "count" and fields.rate != 1.0:
            scale = 1.0 / fields.rate
            values = [v * scale for v in values]
        return MetricMessage(
            name=name,
            type=kind,
            values=values,
            tags=fields.tags,
            tags_raw=fields.tags_raw,
            rate=fields.rate,
            timestamp=fields.timestamp,
            members=members,
            container_id=fields.container_id,
            external_data=fields.external_data,
            cardinality=fields.cardinality,
        )

    @staticmethod
    def _parse_fields(rest: str) -> _Fields:
        parts = rest.split("|")
        kind = METRIC_TYPES.get(parts[0])
        if kind is None:
            raise WireError(f"unknown metric type {parts[0]!r}")
        rate = 1.0
        tags_raw = ""
        timestamp = container = external = cardinality = None
        for part in parts[1:]:
            if not part:
                continue
            first = part[0]
            if first == "@":
                rate = _finite(part[1:], "sample rate")
                if not 0.0 < rate <= 1.0:
                    raise WireError(f"sample rate {part[1:]!r} must be in (0, 1]")
            elif first == "#":
                tags_raw = part[1:]
            elif first == "T":
                timestamp = _timestamp(part[1:])
            elif part.startswith("c:"):
                container = part[2:]
            elif part.startswith("e:"):
                external = part[2:]
            elif part.startswith("card:"):
                cardinality = part[5:]
            # Anything else is a field from a newer protocol version: ignored, like the Agent does.
        return _Fields(kind, rate, tags_raw, parse_tags(tags_raw), timestamp, container, external, cardinality)

    # -- events ----------------------------------------------------------------------------------

    @staticmethod
    def parse_event(line: str) -> EventMessage:
        close = line.find("}:")
        if close < 0:
            raise WireError("event header must be _e{title_len,text_len}:")
        lengths = line[3:close].split(",")
        if len(lengths) != 2 or not all(n.strip().isdigit() for n in lengths):
            raise WireError("event header lengths must be two integers")
        title_len, text_len = int(lengths[0]), int(lengths[1])
        if title_len == 0:
            raise WireError("event title is empty")
        # Lengths count UTF-8 bytes, so slice the encoded body.
        body = line[close + 2 :].encode("utf-8")
        if len(body) < title_len + 1 + text_len or body[title_len : title_len + 1] != b"|":
            raise WireError("event title/text lengths do not match the content")
        try:
            title = body[:title_len].decode("utf-8")
            text = body[title_len + 1 : title_len + 1 + text_len].decode("utf-8")
            rest = body[title_len + 1 + text_len :].decode("utf-8")
        except UnicodeDecodeError:
            raise WireError("event lengths split a UTF-8 character") from None
        if rest and not rest.startswith("|"):
            raise WireError("event text is longer than its declared length")
        event = EventMessage(title=title.replace("\\n", "\n"), text=text.replace("\\n", "\n"))
        for part in rest.split("|")[1:]:
            if not part:
                continue
            if part.startswith("d:"):
                event.timestamp = _timestamp(part[2:])
            elif part.startswith("h:"):
                event.host = part[2:]
            elif part.startswith("k:"):
                event.aggregation_key = part[2:]
            elif part.startswith("p:"):
                event.priority = part[2:] if part[2:] in EVENT_PRIORITIES else "normal"
            elif part.startswith("s:"):
                event.source_type = part[2:]
            elif part.startswith("t:"):
                event.alert_type = part[2:] if part[2:] in EVENT_ALERT_TYPES else "info"
            elif part[0] == "#":
                event.tags = parse_tags(part[1:])
        return event

    # -- service checks --------------------------------------------------------------------------

    @staticmethod
    def parse_service_check(line: str) -> ServiceCheckMessage:
        parts = line.split("|")
        if len(parts) < 3 or not parts[1]:
            raise WireError("service check must be _sc|name|status")
        try:
            status = int(parts[2])
        except ValueError:
            raise WireError(f"service check status {parts[2]!r} is not 0, 1, 2 or 3") from None
        if status not in SERVICE_CHECK_STATUSES:
            raise WireError(f"service check status {status} is not 0, 1, 2 or 3")
        check = ServiceCheckMessage(name=parts[1], status=status)
        for part in parts[3:]:
            if not part:
                continue
            if part.startswith("d:"):
                check.timestamp = _timestamp(part[2:])
            elif part.startswith("h:"):
                check.host = part[2:]
            elif part[0] == "#":
                check.tags = parse_tags(part[1:])
            elif part.startswith("m:"):
                check.message = part[2:].replace("\\n", "\n").replace("m\\:", "m:")
        return check


_default_parser = Parser()


def parse_datagram(data: bytes | str) -> ParseResult:
    """Parse one datagram with a shared parser (see Parser.parse)."""
    return _default_parser.parse(data)
