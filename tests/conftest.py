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


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An empty GODSEYE_HOME for one test, with the cached settings re-read on both sides of it.
    (Test modules that also cache other settings define their own `home`.)"""
    from godseye.config import get_settings

    monkeypatch.setenv("GODSEYE_HOME", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


# --- a seeded shop shared by every test that runs conversations -------------------------------------

SHOP_SEED_SIZE = 1200


@pytest.fixture(scope="session")
def shop_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A GODSEYE_HOME with the default seeded catalog, built once per test run (shared by xdist workers).

    Seeding goes through the real `godseye catalog seed` command. Carts, sessions and block lists of
    different workers stay apart because each test uses its own session and user ids.
    """
    import subprocess
    import sys

    from filelock import FileLock

    root = tmp_path_factory.getbasetemp().parent
    home = root / "shop-home"
    done = home / ".seeded"
    with FileLock(str(root / "shop-home.lock")):
        if not done.exists():
            env = dict(os.environ, GODSEYE_HOME=str(home))
            subprocess.run(
                [sys.executable, "-m", "godseye.cli.main", "catalog", "seed", "--size", str(SHOP_SEED_SIZE)],
                check=True, env=env, capture_output=True, timeout=600,
            )
            done.touch()
    return home
