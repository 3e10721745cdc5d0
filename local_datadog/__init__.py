"""The local Datadog stand-in: what a Datadog Agent would receive, kept on this machine.

DogStatsD metrics, events and service checks land in an embedded store (`MetricStore`); traces and
LLM Observability go to Datadog's own ddapm-test-agent; a small HTTP API answers queries. See
DESIGN.md, "The local Datadog stand-in". Imports are lazy so `from local_datadog import
MetricStore` stays cheap for readers that never run the receiver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local_datadog.server import Standin, run_in_background
    from local_datadog.store import Event, MetricStore, Point, ServiceCheck

__all__ = ["Event", "MetricStore", "Point", "ServiceCheck", "Standin", "run_in_background"]

_EXPORTS = {
    "Event": "local_datadog.store",
    "MetricStore": "local_datadog.store",
    "Point": "local_datadog.store",
    "ServiceCheck": "local_datadog.store",
    "Standin": "local_datadog.server",
    "run_in_background": "local_datadog.server",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'local_datadog' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
