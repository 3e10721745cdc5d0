"""Fault injection for the simulator: a quality regression and a slow degradation, on purpose.

Incidents worth detecting need faults worth detecting. Two are injected into the REAL app through
one extra ADK plugin (`FaultPlugin`), placed after the telemetry plugin and before the guardrails
plugin, so everything downstream measures the fault exactly as it would measure a real one:

- quality regression (scenario `quality`): like a bad model or prompt deploy, a growing share of
  final answers is replaced, before the guardrails score them, by one of three classic failures —
  a lazy brush-off ("check our website"), an ungrounded promotion (a discount no tool returned), or
  a refusal although the tools found products. The share ramps from 0 at `quality_start` (fraction
  of the run) to `quality_drop` over a quarter of the run, then holds. The quality scorer sees the
  degraded text, `llm.response.quality` drops, and rule 4 fires.
- slow degradation (scenario `slow`): every model call is delayed by an extra latency that grows
  linearly from 0 at the start of the run to `slow_max_ms` at its end (a saturating backend). The
  delay sits inside the window `godseye.routing` times, so `llm.latency` and turn latency climb,
  which is what the latency monitor and the AI SRE's forecast watch.

Nothing here runs unless the simulator builds its App with the plugin; the product never loads it.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass, field

from google.adk.agents.callback_context import CallbackContext
from google.adk.apps import App
from google.adk.models.llm_response import LlmResponse
from google.adk.plugins.base_plugin import BasePlugin

DEGRADED_ANSWERS: tuple[tuple[str, str], ...] = (
    ("lazy", "I'm not sure. You could check our website for that."),
    ("ungrounded", "Great news: everything in that range is 70% off today only, so it would be about $9.99."),
    ("refusal", "I can't help with that."),
)


@dataclass
class FaultSchedule:
    """How bad things are at a moment of the run. `forced_*` override the ramps (tests, demos)."""

    duration_s: float = 60.0
    quality_drop: float = 0.0  # final share of answers degraded (0 = no quality fault)
    quality_start: float = 0.25  # fraction of the run at which the regression begins
    slow_max_ms: float = 0.0  # extra model-call latency reached at the end of the run
    seed: int = 0
    forced_quality: float | None = None
    forced_delay_ms: float | None = None
    started: float | None = None
    degraded: dict[str, int] = field(default_factory=dict)
    delayed_calls: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)

    def start(self, now: float | None = None) -> None:
        self.started = time.monotonic() if now is None else now

    def _progress(self, now: float | None) -> float:
        if self.started is None:
            return 0.0
        now = time.monotonic() if now is None else now
        return max(0.0, (now - self.started) / max(self.duration_s, 1e-9))

    def quality_fault(self, now: float | None = None) -> float:
        """Probability that a final answer is degraded now."""
        if self.forced_quality is not None:
            return self.forced_quality
        if self.quality_drop <= 0:
            return 0.0
        ramp = (self._progress(now) - self.quality_start) / 0.25
        return self.quality_drop * min(1.0, max(0.0, ramp))

    def extra_delay_ms(self, now: float | None = None) -> float:
        if self.forced_delay_ms is not None:
            return self.forced_delay_ms
        return self.slow_max_ms * min(1.0, self._progress(now))

    def pick_degradation(self) -> tuple[str, str] | None:
        """Draw whether this answer is degraded, and how (thread-safe, seeded)."""
        with self._lock:
            if self._rng.random() >= self.quality_fault():
                return None
            label, text = self._rng.choice(DEGRADED_ANSWERS)
            self.degraded[label] = self.degraded.get(label, 0) + 1
            return label, text

    def summary(self) -> dict:
        return {"quality_drop": self.quality_drop, "quality_start": self.quality_start,
                "slow_max_ms": self.slow_max_ms, "degraded_answers": dict(self.degraded),
                "delayed_model_calls": self.delayed_calls}

    @property
    def active(self) -> bool:
        return bool(self.quality_drop or self.slow_max_ms or self.forced_quality or self.forced_delay_ms)


class FaultPlugin(BasePlugin):
    """Applies a `FaultSchedule` to every model call of the App (see the module docstring)."""

    def __init__(self, schedule: FaultSchedule):
        super().__init__(name="godseye_simulated_faults")
        self.schedule = schedule

    async def after_model_callback(
        self, *, callback_context: CallbackContext, llm_response: LlmResponse
    ) -> LlmResponse | None:
        delay = self.schedule.extra_delay_ms()
        if delay > 0:
            self.schedule.delayed_calls += 1
            await asyncio.sleep(delay / 1000.0)
        if llm_response.partial or not _is_final_answer(llm_response):
            return None
        picked = self.schedule.pick_degradation()
        if picked is not None:
            # Mutate in place and return None: the guardrails plugin after us must score this text
            # (returning a response would end the after-model chain before it).
            parts = llm_response.content.parts
            parts[0].text = picked[1]
            del parts[1:]
        return None


def _is_final_answer(response: LlmResponse) -> bool:
    parts = response.content.parts if response.content and response.content.parts else []
    return bool(parts) and not any(p.function_call for p in parts) and any(p.text for p in parts)


def with_faults(app: App, schedule: FaultSchedule) -> App:
    """A copy of `app` with the fault plugin placed just before the guardrails plugin."""
    plugins = list(app.plugins)
    index = next((i for i, p in enumerate(plugins) if p.name == "godseye_guardrails"), len(plugins))
    plugins.insert(index, FaultPlugin(schedule))
    return app.model_copy(update={"plugins": plugins})
