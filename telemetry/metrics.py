"""The one DogStatsD client every Godseye process uses.

Why a wrapper at all: unified service tags (env/service/version) on every point, the documented
cardinality switch for session_id/user_id tags, and a hot path that costs well under two
microseconds. A call only appends (kind, name, value, tags) to a bounded deque (atomic, no lock);
a background thread aggregates once per GODSEYE_METRICS_FLUSH_S (default 1 s) -- counts summed,
gauges last-value, distribution/histogram samples kept -- and hands the result to the `datadog`
library's DogStatsd client, which packs it into datagrams (samples use the multi-value format
`name:v1:v2|d`). The library
reads DD_AGENT_HOST, DD_DOGSTATSD_PORT, DD_DOGSTATSD_URL, DD_ENV, DD_SERVICE and DD_VERSION itself.
A missing agent costs nothing visible: the work happens off the hot path, UDP sends never block,
and the library's "error submitting packet" warning is logged once per 10 minutes, not per flush.

Metric names are a public contract: see the metric table in README.md.
"""

from __future__ import annotations

import atexit
import collections
import logging
import math
import os
import threading
import time
import weakref
from collections.abc import Iterable, Mapping

from datadog.dogstatsd.base import DogStatsd

from godseye.config import get_settings

log = logging.getLogger(__name__)

# Tags whose values are unbounded; kept or dropped as a group by the cardinality settings.
SESSION_TAG = "session_id"
USER_TAG = "user_id"
SAMPLES_PER_MESSAGE = 64  # keeps a packed distribution message around 1 KB (one UDP datagram)

TagInput = Mapping[str, object] | Iterable[str] | None


def _service_tags() -> list[str]:
    tags = []
    for var, key in (("DD_ENV", "env"), ("DD_SERVICE", "service"), ("DD_VERSION", "version")):
        value = os.environ.get(var)
        if value:
            tags.append(f"{key}:{value}")
    return tags


class _QuietRepeats(logging.Filter):
    """Let a repeated library warning through once per `interval` seconds (no log floods)."""

    def __init__(self, interval: float = 600.0):
        super().__init__()
        self.interval = interval
        self._last: dict[str, float] = {}
        self.suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        key = str(record.msg)
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self.suppressed += 1
            return False
        self._last[key] = now
        return True


_quiet = _QuietRepeats()
logging.getLogger("datadog.dogstatsd").addFilter(_quiet)


def _freeze(tags: object) -> tuple:
    """A hashable form of the caller's tags (normalised at flush time)."""
    if tags is None:
        return ()
    if isinstance(tags, Mapping):
        return tuple(tags.items())
    if isinstance(tags, str):
        return (tags,)
    try:
        return tuple(tags)  # type: ignore[arg-type]
    except TypeError:
        return (str(tags),)


def _snapshot(tags: TagInput) -> object:
    """Copy mutable tag containers so a caller that reuses and mutates its dict cannot change
    what was recorded (dicts, the common case, take the cheap path)."""
    if tags is None or isinstance(tags, tuple | str):
        return tags
    if isinstance(tags, Mapping):
        return dict(tags)
    try:
        return tuple(tags)
    except TypeError:
        return str(tags)


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


_COUNT, _GAUGE, _DISTRIBUTION, _HISTOGRAM = 1, 2, 3, 4
_all_metrics: weakref.WeakSet[Metrics] = weakref.WeakSet()


class Metrics:
    """Thin, typed facade over DogStatsd with Godseye's tag policy and client-side aggregation."""

    def __init__(self, client: DogStatsd | None = None, flush_interval: float | None = None,
                 max_pending: int = 1_000_000):
        self._client = client
        self._lock = threading.Lock()
        # Bounded: if the flush thread were ever stuck, the oldest calls are dropped, memory is not.
        self._pending: collections.deque[tuple[int, str, object, object]] = collections.deque(maxlen=max_pending)
        self._flush_interval = flush_interval
        self._flusher: threading.Thread | None = None
        self._stop = threading.Event()
        self._flush_lock = threading.Lock()
        self._atexit = False
        _all_metrics.add(self)

    # -- the client ------------------------------------------------------------------------------

    @property
    def client(self) -> DogStatsd:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._build_client()
        return self._client

    @staticmethod
    def _build_client() -> DogStatsd:
        os.environ.setdefault("DD_ENV", "dev")
        os.environ.setdefault("DD_SERVICE", "godseye")
        os.environ.setdefault("DD_VERSION", "0.1.0")
        return DogStatsd(
            disable_buffering=False,
            # We aggregate ourselves (cheaper per call); the client only packs and sends.
            disable_aggregation=True,
            flush_interval=0,  # flushed by our own thread right after each hand-over
            constant_tags=_service_tags(),
            disable_telemetry=True,
            # Service tags come from constant_tags; the library would add them a second time.
            origin_detection_enabled=False,
        )

    def _interval(self) -> float:
        if self._flush_interval is None:
            try:
                self._flush_interval = max(0.05, float(os.environ.get("GODSEYE_METRICS_FLUSH_S", "1.0")))
            except ValueError:
                self._flush_interval = 1.0
        return self._flush_interval

    def _ensure_flusher(self) -> None:
        """Start the background flush thread (again in a forked child: threads do not survive fork)."""
        with self._flush_lock:
            if self._flusher is not None and self._flusher.is_alive():
                return
            self._stop = threading.Event()
            self._flusher = threading.Thread(target=self._flush_loop, name="godseye-metrics-flush", daemon=True)
            self._flusher.start()
            if not self._atexit:
                atexit.register(self.flush)
                self._atexit = True

    def _flush_loop(self) -> None:
        stop = self._stop
        while not stop.wait(self._interval()):
            try:
                self.flush()
            except Exception:  # metrics must never take the process down
                log.debug("metrics flush failed", exc_info=True)

    def _after_fork(self) -> None:
        self._flusher = None
        self._pending.clear()  # the parent sends these; sending them twice would double counts
        self._client = None
        self._flush_lock = threading.Lock()
        self._lock = threading.Lock()

    # -- hot path: append only -------------------------------------------------------------------

    def gauge(self, name: str, value: float, tags: TagInput = None) -> None:
        self._pending.append((_GAUGE, name, value, tags.copy() if tags.__class__ is dict else _snapshot(tags)))
        if self._flusher is None:
            self._ensure_flusher()

    def increment(self, name: str, value: float = 1, tags: TagInput = None) -> None:
        self._pending.append((_COUNT, name, value, tags.copy() if tags.__class__ is dict else _snapshot(tags)))
        if self._flusher is None:
            self._ensure_flusher()

    def count(self, name: str, value: float, tags: TagInput = None) -> None:
        self._pending.append((_COUNT, name, value, tags.copy() if tags.__class__ is dict else _snapshot(tags)))
        if self._flusher is None:
            self._ensure_flusher()

    def distribution(self, name: str, value: float, tags: TagInput = None) -> None:
        self._pending.append((_DISTRIBUTION, name, value,
                              tags.copy() if tags.__class__ is dict else _snapshot(tags)))
        if self._flusher is None:
            self._ensure_flusher()

    def histogram(self, name: str, value: float, tags: TagInput = None) -> None:
        self._pending.append((_HISTOGRAM, name, value, tags.copy() if tags.__class__ is dict else _snapshot(tags)))
        if self._flusher is None:
            self._ensure_flusher()

    def event(self, title: str, text: str, alert_type: str = "info", tags: TagInput = None) -> None:
        """Events are rare and must keep their order and text: sent at once, never aggregated."""
        try:
            self.client.event(title, text, alert_type=alert_type, tags=self.tags(tags))
            self.client.flush()
        except Exception:
            log.debug("metrics event failed", exc_info=True)

    # -- flush -----------------------------------------------------------------------------------

    def tags(self, tags: TagInput) -> list[str]:
        """Normalise tags and drop session/user tags when the cardinality settings say so."""
        if not tags:
            return []
        settings = get_settings()
        if isinstance(tags, Mapping):
            items: Iterable = tags.items()
        elif isinstance(tags, str):
            items = [tags.split(":", 1)]
        else:
            items = (t if isinstance(t, tuple) else str(t).split(":", 1) for t in tags)
        out = []
        for item in items:
            key, value = (item[0], item[1]) if len(item) == 2 else (item[0], None)
            if key == SESSION_TAG and not settings.metric_session_tags:
                continue
            if key == USER_TAG and not settings.metric_user_tags:
                continue
            out.append(str(key) if value is None else f"{key}:{value}")
        return out

    def flush(self) -> None:
        """Aggregate everything recorded so far, hand it to the DogStatsD client and send it."""
        with self._flush_lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        pending = self._pending
        popleft = pending.popleft
        batch = []
        try:
            for _ in range(len(pending)):
                batch.append(popleft())
        except IndexError:
            pass
        if not batch:
            if self._client is not None:
                self._client.flush()
            return
        # First aggregate by the caller's raw tags (cheap), then normalise each distinct tag set once;
        # tag filtering can merge contexts (e.g. two sessions when session tags are off).
        raw_counts: dict[tuple[str, tuple], float] = {}
        raw_gauges: dict[tuple[str, tuple], float] = {}
        raw_samples: dict[tuple[int, str, tuple], list[float]] = {}
        for kind, name, value, raw in batch:
            if value.__class__ is not float or value - value != 0.0:  # not a finite float: check it
                value = _number(value)
                if value is None:
                    continue
            frozen = tuple(raw.items()) if raw.__class__ is dict else _freeze(raw)
            if kind == _COUNT:
                key = (name, frozen)
                raw_counts[key] = raw_counts.get(key, 0.0) + value
            elif kind == _GAUGE:
                raw_gauges[(name, frozen)] = value
            else:
                samples = raw_samples.get((kind, name, frozen))
                if samples is None:
                    raw_samples[(kind, name, frozen)] = [value]
                else:
                    samples.append(value)
        normalised: dict[tuple, tuple[str, ...]] = {}

        def norm(frozen: tuple) -> tuple[str, ...]:
            tags = normalised.get(frozen)
            if tags is None:
                tags = normalised[frozen] = tuple(self.tags(frozen))
            return tags

        counts: dict[tuple[str, tuple[str, ...]], float] = {}
        for (name, frozen), number in raw_counts.items():
            key = (name, norm(frozen))
            counts[key] = counts.get(key, 0.0) + number
        gauges = {(name, norm(frozen)): number for (name, frozen), number in raw_gauges.items()}
        samples_by_key: dict[tuple[int, str, tuple[str, ...]], list[float]] = {}
        for (kind, name, frozen), values in raw_samples.items():
            samples_by_key.setdefault((kind, name, norm(frozen)), []).extend(values)
        client = self.client
        for (name, tags), number in counts.items():
            client.increment(name, _compact(number), tags=list(tags))
        for (name, tags), number in gauges.items():
            client.gauge(name, _compact(number), tags=list(tags))
        for (kind, name, tags), values in samples_by_key.items():
            send = client.distribution if kind == _DISTRIBUTION else client.histogram
            for i in range(0, len(values), SAMPLES_PER_MESSAGE):
                # The client formats the value with str(): "1.5:2:3" is the multi-value form.
                send(name, ":".join(map(_format, values[i : i + SAMPLES_PER_MESSAGE])), tags=list(tags))
        client.flush()

    def reset(self) -> None:
        """Flush, then forget the client so the next call re-reads DD_* variables (tests, stand-in)."""
        try:
            self.flush()
        except Exception:
            log.debug("metrics flush on reset failed", exc_info=True)
        with self._lock:
            client, self._client = self._client, None
            self._flush_interval = None
        if client is not None:
            client.flush()
            client.close_socket()

    def close(self) -> None:
        """Flush and stop the background thread (tests; the process exit flushes by itself)."""
        self._stop.set()
        self.reset()
        self._flusher = None


def _reinit_after_fork() -> None:
    for instance in list(_all_metrics):
        instance._after_fork()


os.register_at_fork(after_in_child=_reinit_after_fork)


def _format(number: float) -> str:
    """Shortest exact text for a sample: 3.0 -> '3', 0.1 -> '0.1'."""
    return repr(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def _compact(number: float) -> float | int:
    """3.0 -> 3 so the wire carries the shortest form."""
    return int(number) if number.is_integer() and abs(number) < 1e15 else number


metrics = Metrics()
