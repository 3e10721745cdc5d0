"""Suite-wide fixtures: no network, no keys, an isolated GODSEYE_HOME per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Before anything imports google-genai, ddtrace or litellm: no keys, no real Datadog, no network.
for _var in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI", "DD_API_KEY", "DD_SITE",
             "DD_APP_KEY", "OPENAI_API_KEY"):
    os.environ.pop(_var, None)
os.environ["GODSEYE_NETWORK_GUARD"] = "1"
os.environ.setdefault("DD_TRACE_ENABLED", "false")
os.environ.setdefault("DD_INSTRUMENTATION_TELEMETRY_ENABLED", "false")
os.environ.setdefault("DD_REMOTE_CONFIGURATION_ENABLED", "false")

from godseye.config import apply_offline_defaults  # noqa: E402
from godseye.netguard import install  # noqa: E402

apply_offline_defaults()
install()

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or a clean skip when a fresh clone has none."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not present at {SHARED_DATA}")
    return SHARED_DATA
