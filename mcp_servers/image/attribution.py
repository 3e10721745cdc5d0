"""Who sent what: metrics for every upload, a violation log, and the per-user block.

Rejections are attributed to the uploader (`tryon.security.violation{user_id,kind}`) because the
monitor that catches an attacker groups by user; accepted uploads report their shape
(`tryon.image.bytes|pixels|entropy{format}`) so a shift in what shoppers send is visible.

Repeated hostile uploads block the user through the same `guardrails.blocklist.BlockList` the chat
guardrails use, so a blocked user is refused everywhere (chat and uploads) while other users are
untouched. The count lives in SQLite next to the block list, not in process memory, because the UI,
the MCP server and the CLI are different processes and an attacker may hit all of them.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

from godseye.config import get_settings
from guardrails.blocklist import BlockEntry, BlockList
from mcp_servers.image.limits import Verdict
from mcp_servers.image.settings import get_image_settings
from telemetry.metrics import metrics

VIOLATION_METRIC = "tryon.security.violation"
ANONYMOUS = "anonymous"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS image_violations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS image_violations_user ON image_violations(user_id, created_at);
"""


class ViolationLog:
    """Append-only record of rejected uploads (evidence for operators, input to the block rule)."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else get_settings().home / "image_violations.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def record(self, user_id: str, kind: str, data: bytes, detail: str) -> None:
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO image_violations(user_id, kind, bytes, sha256, detail, created_at) VALUES (?,?,?,?,?,?)",
                (user_id, kind, len(data), hashlib.sha256(data).hexdigest(), detail[:500], time.time()),
            )

    def count_recent(self, user_id: str, window_s: float, kinds: frozenset[str]) -> int:
        marks = ",".join("?" * len(kinds)) or "''"
        with self._connect() as conn:
            (n,) = conn.execute(
                f"SELECT COUNT(*) FROM image_violations WHERE user_id=? AND created_at>=? AND kind IN ({marks})",
                (user_id, time.time() - window_s, *sorted(kinds)),
            ).fetchone()
        return int(n)


class Attribution:
    def __init__(self, blocklist: BlockList | None = None, log: ViolationLog | None = None):
        self.blocklist = blocklist or BlockList()
        self.log = log or ViolationLog()

    def blocked(self, user_id: str | None) -> BlockEntry | None:
        return self.blocklist.check(user_id=user_id) if user_id else None

    def refuse_blocked(self, entry: BlockEntry, nbytes: int) -> Verdict:
        metrics.count("llm.security.blocked", 1, tags={"reason": "tryon_upload_user_blocked"})
        return Verdict(
            ok=False,
            kind="blocked",
            message="Photo uploads from your account are paused after repeated unsafe files "
            f"({entry.reason}). Please contact support if this is a mistake.",
            bytes=nbytes,
            detail=f"user blocked by {entry.source}",
        )

    def report(self, verdict: Verdict, user_id: str | None, data: bytes) -> Verdict:
        """Emit metrics for one verdict; log and maybe block the user on a rejection."""
        if verdict.ok:
            tags = {"format": (verdict.format or "unknown").lower()}
            metrics.distribution("tryon.image.bytes", verdict.bytes, tags=tags)
            metrics.distribution("tryon.image.pixels", verdict.pixels or 0, tags=tags)
            if verdict.entropy is not None:
                metrics.distribution("tryon.image.entropy", verdict.entropy, tags=tags)
            return verdict
        kind = verdict.kind or "corrupt"
        metrics.count(VIOLATION_METRIC, 1, tags={"user_id": user_id or ANONYMOUS, "kind": kind})
        if not user_id:
            return verdict
        settings = get_image_settings()
        self.log.record(user_id, kind, data, verdict.detail)
        if kind not in settings.block_kind_set:
            return verdict
        recent = self.log.count_recent(user_id, settings.block_window_s, settings.block_kind_set)
        if recent >= settings.block_threshold:
            minutes = settings.block_window_s / 60
            self.blocklist.block(
                "user",
                user_id,
                f"{recent} unsafe image uploads within {minutes:g} minutes, last one: {kind}",
                source="image-validator",
                ttl_s=settings.block_ttl_s,
            )
            verdict.user_blocked = True
            verdict.message += " Because several unsafe files came from your account, uploads are now paused."
        return verdict


_default: dict[Path, Attribution] = {}


def default_attribution() -> Attribution:
    """One Attribution per data directory (tests switch GODSEYE_HOME between runs)."""
    home = get_settings().home
    if home not in _default:
        _default[home] = Attribution()
    return _default[home]
