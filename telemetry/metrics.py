"""The one DogStatsD client every Godseye process uses.

Why a wrapper at all: unified service tags (env/service/version) on every point, the documented
cardinality switch for session_id/user_id tags, and client-side buffering + aggregation so the hot
path only appends to an in-memory buffer (about a microsecond). The `datadog` library reads
DD_AGENT_HOST, DD_DOGSTATSD_PORT, DD_DOGSTATSD_URL, DD_ENV, DD_SERVICE and DD_VERSION itself; a
missing agent costs nothing because UDP sends never block or raise (the library logs at most once).

Metric names are a public contract: see the metric table in README.md.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Iterable, Mapping

from datadog.dogstatsd.base import DogStatsd

from godseye.config import get_settings

log = logging.getLogger(__name__)

# Tags whose values are unbounded; kept or dropped as a group by the cardinality settings.
SESSION_TAG = "session_id"
USER_TAG = "user_id"

TagInput = Mapping[str, object] | Iterable[str] | None


def _service_tags() -> list[str]:
    tags = []
    for var, key in (("DD_ENV", "env"), ("DD_SERVICE", "service"), ("DD_VERSION", "version")):
        value = os.environ.get(var)
        if value:
            tags.append(f"{key}:{value}")
    return tags


class Metrics:
    """Thin, typed facade over DogStatsd with Godseye's tag policy."""

    def __init__(self, client: DogStatsd | None = None):
        self._client = client
        self._lock = threading.Lock()

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
        client = DogStatsd(
            disable_buffering=False,
            disable_aggregation=False,
            flush_interval=float(os.environ.get("GODSEYE_METRICS_FLUSH_S", "1.0")),
            constant_tags=_service_tags(),
            disable_telemetry=True,
            # Service tags come from constant_tags; the library would add them a second time.
            origin_detection_enabled=False,
        )
        atexit.register(client.flush)
        return client

    def tags(self, tags: TagInput) -> list[str]:
        """Normalise tags and drop session/user tags when the cardinality settings say so."""
        if not tags:
            return []
        settings = get_settings()
        items = tags.items() if isinstance(tags, Mapping) else (t.split(":", 1) for t in tags)
        out = []
        for item in items:
            key, value = (item[0], item[1]) if len(item) == 2 else (item[0], None)
            if key == SESSION_TAG and not settings.metric_session_tags:
                continue
            if key == USER_TAG and not settings.metric_user_tags:
                continue
            out.append(key if value is None else f"{key}:{value}")
        return out

    def gauge(self, name: str, value: float, tags: TagInput = None) -> None:
        self.client.gauge(name, value, tags=self.tags(tags))

    def increment(self, name: str, value: float = 1, tags: TagInput = None) -> None:
        self.client.increment(name, value, tags=self.tags(tags))

    def count(self, name: str, value: float, tags: TagInput = None) -> None:
        self.client.increment(name, value, tags=self.tags(tags))

    def distribution(self, name: str, value: float, tags: TagInput = None) -> None:
        self.client.distribution(name, value, tags=self.tags(tags))

    def histogram(self, name: str, value: float, tags: TagInput = None) -> None:
        self.client.histogram(name, value, tags=self.tags(tags))

    def event(self, title: str, text: str, alert_type: str = "info", tags: TagInput = None) -> None:
        self.client.event(title, text, alert_type=alert_type, tags=self.tags(tags))

    def flush(self) -> None:
        if self._client is not None:
            self._client.flush()

    def reset(self) -> None:
        """Forget the client so the next call re-reads DD_* variables (tests, stand-in start)."""
        with self._lock:
            if self._client is not None:
                self._client.flush()
                self._client.close_socket()
            self._client = None


metrics = Metrics()
