"""Settings for every Godseye process, read from the environment (and `.env`).

One object, so the UI, the CLI, the agents and the MCP servers agree on where data lives and which
model each agent uses. Datadog settings are the standard `DD_*` variables and are read by the
`datadog` and `ddtrace` libraries themselves; only the ones we need to decide behaviour appear here.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCAL_MODEL = "godseye-local"
DEFAULT_GEMINI_MODEL = "gemini-2.5-flash"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GODSEYE_", env_file=".env", extra="ignore")

    home: Path = Field(default=PROJECT_ROOT / "var", description="Where databases, catalogs and uploads live.")
    model: str = Field(
        default="auto",
        description="Default model for every agent: 'auto' (Gemini when a key is set, else the local "
        "model), 'godseye-local', a Gemini model name, or a LiteLLM model string such as "
        "'ollama_chat/llama3' or 'openai/gpt-4o-mini'.",
    )
    gemini_model: str = DEFAULT_GEMINI_MODEL
    # Per-agent overrides, e.g. GODSEYE_MODEL_STYLIST=gemini-2.5-pro. Read through model_for().
    catalog_seed_size: int = 1200
    catalog_seed: int = 7
    # Cardinality: per-session and per-user metric tags cost money in Datadog (custom metrics).
    metric_session_tags: bool = True
    metric_user_tags: bool = True
    mcp_timeout_s: float = 20.0

    @property
    def catalog_uri(self) -> Path:
        return self.home / "catalog.lance"

    @property
    def cart_db(self) -> Path:
        return self.home / "cart.sqlite"

    @property
    def sessions_db(self) -> Path:
        return self.home / "sessions.sqlite"

    @property
    def guard_db(self) -> Path:
        return self.home / "guard.sqlite"

    @property
    def uploads_dir(self) -> Path:
        return self.home / "uploads"

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home

    def model_for(self, agent: str) -> str:
        """The model string for one agent: GODSEYE_MODEL_<AGENT>, else GODSEYE_MODEL, resolved."""
        chosen = os.environ.get(f"GODSEYE_MODEL_{agent.upper()}") or self.model
        if chosen == "auto":
            return self.gemini_model if gemini_configured() else LOCAL_MODEL
        return chosen


def gemini_configured() -> bool:
    """True when google-genai has credentials: an API key or Vertex AI settings."""
    if os.environ.get("GOOGLE_API_KEY") or os.environ.get("GEMINI_API_KEY"):
        return True
    vertex = os.environ.get("GOOGLE_GENAI_USE_VERTEXAI", "").lower() in {"1", "true", "yes"}
    return vertex and bool(os.environ.get("GOOGLE_CLOUD_PROJECT"))


def apply_offline_defaults() -> None:
    """Environment that keeps google-auth, MCP toolsets and LiteLLM from probing the network."""
    os.environ.setdefault("GOOGLE_API_USE_CLIENT_CERTIFICATE", "false")
    os.environ.setdefault("NO_GCE_CHECK", "true")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ADK_DISABLE_TELEMETRY", "true")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
