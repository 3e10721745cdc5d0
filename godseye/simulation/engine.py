"""Runs a traffic plan through the real product: paced, concurrent, recorded.

Every chat message goes through `ShopRuntime.turn()` (the same code path as the UI and `godseye
chat`: the ADK app, its guardrails plugin, the MCP servers over stdio, the local or Gemini model);
every upload through `mcp_servers.image.store_upload()` (the validator that emits
`tryon.security.violation` and blocks hostile users). Nothing is mocked, so the metrics, traces,
blocks and incidents a run produces are the ones production would produce.

Pacing and concurrency: `rate` is a global budget of steps per second shared by every session
(each step waits for the next free slot; None = as fast as the product answers) and `concurrency`
bounds the shopper sessions in flight. Scheduled journeys (attackers, bombers) start at their
offset on top of that. A session's own steps are always sequential, like a person's.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from godseye.simulation.faults import FaultSchedule, with_faults
from godseye.simulation.journeys import PHOTO_PLACEHOLDER, Journey, PlanSpec, Step, TrafficPlan, followup

log = logging.getLogger(__name__)

SCENARIOS = ("shoppers", "attack", "bombs", "quality", "slow", "friction")
DEFAULT_SCENARIOS = ("shoppers", "attack", "bombs")


@dataclass
class SimConfig:
    duration_s: float | None = 60.0  # None: run until `max_journeys` shopper journeys are done
    rate: float | None = 2.0  # steps per second over all sessions; None = unpaced
    concurrency: int = 8
    scenarios: tuple[str, ...] = DEFAULT_SCENARIOS
    seed: int = 0
    run_id: str | None = None
    attackers: int = 1
    bombers: int = 1
    attack_turns: int = 6
    bomb_uploads: int = 6
    quality_drop: float = 0.8
    quality_start: float = 0.25
    slow_max_ms: float = 4000.0
    turn_timeout_s: float = 120.0
    warmup: bool = True  # one uncounted turn first: MCP servers start, models load (cold turns take seconds)
    max_journeys: int | None = None
    shopper_kinds: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        unknown = set(self.scenarios) - set(SCENARIOS)
        if unknown:
            raise ValueError(f"unknown scenario(s) {sorted(unknown)}; choose from {', '.join(SCENARIOS)}")
        if self.rate is not None and self.rate <= 0:
            raise ValueError("rate must be positive (or None for unpaced)")
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if self.duration_s is None and self.max_journeys is None:
            raise ValueError("give a duration or a number of journeys")
        if self.duration_s is not None and self.duration_s <= 0:
            raise ValueError("duration must be positive")
        if self.run_id is None:
            self.run_id = f"sim{self.seed}-{int(time.time()) % 1_000_000:06d}"

    def plan_spec(self) -> PlanSpec:
        extra = {"shopper_kinds": self.shopper_kinds} if self.shopper_kinds else {}
        return PlanSpec(seed=self.seed, run_id=str(self.run_id), scenarios=frozenset(self.scenarios),
                        duration_s=self.duration_s, attackers=self.attackers, bombers=self.bombers,
                        attack_turns=self.attack_turns, bomb_uploads=self.bomb_uploads, **extra)

    def fault_schedule(self) -> FaultSchedule:
        return FaultSchedule(duration_s=self.duration_s or 60.0,
                             quality_drop=self.quality_drop if "quality" in self.scenarios else 0.0,
                             quality_start=self.quality_start,
                             slow_max_ms=self.slow_max_ms if "slow" in self.scenarios else 0.0,
                             seed=self.seed)


@dataclass
class StepRecord:
    """One step as it happened (what the report and the progress display are built from)."""

    journey: int
    kind: str
    role: str
    session_id: str
    user_id: str
    step: int
    action: str
    ts: float  # wall clock at the start of the step
    t_s: float  # seconds since the run started
    latency_ms: float = 0.0
    text: str = ""
    attack: str | None = None
    agent: str | None = None
    tools: list[str] = field(default_factory=list)
    products: int = 0
    blocked: bool = False
    error: str | None = None
    injection: float | None = None
    quality: float | None = None
    upload_kind: str | None = None
    upload_ok: bool | None = None
    reply: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Pacer:
    """Hands out start times `1/rate` apart to whoever asks, in order (None rate: no waiting)."""

    def __init__(self, rate: float | None):
        self.interval = 1.0 / rate if rate else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


@functools.cache
def fixture_bytes(name: str) -> bytes:
    """The bytes of an upload generator from `mcp_servers.image.fixtures` (built once, some take 1 s)."""
    from PIL import Image

    from mcp_servers.image import fixtures

    made = getattr(fixtures, name)()
    if isinstance(made, tuple):  # person_photo() returns (picture, ground-truth boxes)
        made = made[0]
    if isinstance(made, Image.Image):  # a picture as a phone would send it
        made = fixtures.encode(made, "JPEG")
    return bytes(made)


class Simulation:
    """One run. `runtime` may be shared (tests, benchmark); otherwise one is built and closed here."""

    def __init__(self, config: SimConfig, runtime: Any = None, faults: FaultSchedule | None = None,
                 on_record: Callable[[StepRecord], None] | None = None):
        self.config = config
        self.plan = TrafficPlan(config.plan_spec())
        self.faults = faults if faults is not None else config.fault_schedule()
        self.runtime = runtime
        self._owns_runtime = runtime is None
        self.on_record = on_record
        self.records: list[StepRecord] = []
        self.journeys: list[Journey] = []
        self.cut: set[int] = set()  # journeys stopped by the end of the run
        self.started_mono: float | None = None
        self.started_wall = 0.0
        self.finished_wall = 0.0
        self.phase = "starting"  # starting -> warming up -> running -> done
        self._pacer = Pacer(config.rate)

    @staticmethod
    def build_runtime(faults: FaultSchedule) -> Any:
        """A ShopRuntime on the real app with the fault plugin in place (inactive unless scheduled)."""
        from godseye.runtime import ShopRuntime, load_app

        return ShopRuntime(app=with_faults(load_app(), faults))

    # -- the run -------------------------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        from godseye.simulation.report import build_report

        if self.runtime is None:
            self.runtime = self.build_runtime(self.faults)
        tasks: list[asyncio.Task] = []
        try:
            if self.config.warmup:
                self.phase = "warming up"
                await self._warm_up()
            self.phase = "running"
            self.started_mono, self.started_wall = time.monotonic(), time.time()
            self.faults.start(self.started_mono)
            stream: Iterator[Journey] = self.plan.shoppers()
            if self.config.max_journeys is not None:
                stream = itertools.islice(stream, self.config.max_journeys)
            tasks = [asyncio.create_task(self._worker(stream)) for _ in range(self.config.concurrency)]
            tasks += [asyncio.create_task(self._scheduled(j)) for j in self.plan.scheduled()]
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            self.finished_wall = time.time()
            self.phase = "done"
            if self._owns_runtime:
                await self.runtime.close()
        return build_report(self)

    async def _warm_up(self) -> None:
        """Start the MCP servers and load the models with one uncounted turn, and build the upload
        files the bombers will send, so the first measured turns are not cold starts."""
        run = self.config.run_id
        uploads = {s.fixture for j in self.plan.scheduled() for s in j.steps if s.action == "upload"}
        if "tryon" in self.plan.kinds:
            uploads.add("person_photo")
        files = asyncio.gather(*(asyncio.to_thread(fixture_bytes, name) for name in sorted(uploads)))
        if hasattr(self.runtime, "warm_up"):
            await self.runtime.warm_up()  # MCP servers, embedder, catalog
        # One whole turn loads what only a turn touches (guardrail models, quality scorer, planner).
        await self.runtime.turn(session_id=f"{run}-warmup", user_id=f"{run}-warmup", text="show me boots")
        await files

    def elapsed(self) -> float:
        return 0.0 if self.started_mono is None else time.monotonic() - self.started_mono

    def _over(self) -> bool:
        return self.config.duration_s is not None and self.elapsed() >= self.config.duration_s

    async def _worker(self, stream: Iterator[Journey]) -> None:
        while not self._over():
            journey = next(stream, None)
            if journey is None:
                return
            await self._run_journey(journey)

    async def _scheduled(self, journey: Journey) -> None:
        if journey.start_s:
            await asyncio.sleep(max(0.0, journey.start_s - self.elapsed()))
        if not self._over():
            await self._run_journey(journey)

    async def _run_journey(self, journey: Journey) -> None:
        self.journeys.append(journey)
        photo_id: str | None = None
        blocked = False
        steps = list(journey.steps)
        i = 0
        while i < len(steps):
            if self._over():
                self.cut.add(journey.index)
                return
            await self._pacer.wait()
            record, photo, reply = await self._step(journey, i, steps[i], photo_id)
            photo_id = photo or photo_id
            self.records.append(record)
            if self.on_record is not None:
                self.on_record(record)
            if record.blocked and not blocked:
                blocked = True
                if journey.role == "shopper":
                    return  # an innocent shopper got blocked: the report counts it; they leave
                if journey.until_blocked and i < len(steps) - 1:
                    i = len(steps) - 1  # one harmless probe after the block shows the refusal
                    continue
            answer = followup(steps[i], reply) if journey.role == "shopper" and not record.error else None
            if answer is not None and answer not in steps:
                steps.insert(i + 1, answer)  # the assistant asked which size/colour: the shopper says
            i += 1

    async def _step(self, journey: Journey, index: int, step: Step,
                    photo_id: str | None) -> tuple[StepRecord, str | None, str]:
        """Run one step; returns its record, the id of a photo it uploaded, and the full reply."""
        ts, t_s = time.time(), round(self.elapsed(), 3)
        record = StepRecord(journey.index, journey.kind, journey.role, journey.session_id, journey.user_id, index,
                            step.action, ts, t_s, attack=step.attack)
        if step.action == "upload":
            record, upload_id = await self._upload(record, step)
            return record, upload_id, ""
        text = step.text
        if PHOTO_PLACEHOLDER in text:
            text = text.replace(PHOTO_PLACEHOLDER, photo_id or "none")
        record.text = text[:200]
        started = time.perf_counter()
        try:
            result = await asyncio.wait_for(
                self.runtime.turn(session_id=journey.session_id, user_id=journey.user_id, text=text),
                timeout=self.config.turn_timeout_s)
        except TimeoutError:
            record.error = f"timeout after {self.config.turn_timeout_s:g} s"
            record.latency_ms = round((time.perf_counter() - started) * 1000, 1)
            return record, None, ""
        record.latency_ms = result.latency_ms
        record.agent = result.agent
        record.tools = [c["name"] for c in result.tool_calls]
        record.products = len(result.products)
        record.blocked = bool(result.blocked)
        record.error = result.error
        record.reply = (result.reply or "")[:160]
        scores = result.scores or {}
        record.injection = _score(scores.get("injection"))
        record.quality = _score(scores.get("quality"))
        return record, None, result.reply or ""

    async def _upload(self, record: StepRecord, step: Step) -> tuple[StepRecord, str | None]:
        from mcp_servers.image import store_upload

        record.text = f"<upload {step.fixture}>"
        started = time.perf_counter()
        try:
            data = await asyncio.to_thread(fixture_bytes, step.fixture)
            result = await asyncio.to_thread(store_upload, data, record.user_id)
        except Exception as exc:  # a validator crash is a finding, not the end of the run
            log.exception("upload failed")
            record.error = f"{type(exc).__name__}: {exc}"
            record.latency_ms = round((time.perf_counter() - started) * 1000, 1)
            return record, None
        record.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        verdict = result.verdict
        record.upload_ok = result.ok
        record.upload_kind = "ok" if result.ok else (verdict.kind or "rejected")
        record.blocked = verdict.kind == "blocked" or bool(getattr(verdict, "user_blocked", False))
        record.reply = (result.upload_id or verdict.message or "")[:160]
        return record, result.upload_id


def _score(value: Any) -> float | None:
    if isinstance(value, dict):
        value = value.get("score")
    try:
        return None if value is None else round(float(value), 4)
    except (TypeError, ValueError):
        return None
