"""Traffic simulator: realistic shoppers, attackers, image bombers and injected faults, driven
through the real product (`godseye simulate`, the end-to-end detection tests, the load benchmark).

    from godseye.simulation import SimConfig, Simulation
    report = asyncio.run(Simulation(SimConfig(duration_s=30, rate=2, seed=7)).run())

Modules: `journeys` (what simulated people do, seeded), `faults` (quality regression and slow
degradation injected through an ADK plugin), `engine` (pacing, concurrency, recording), `report`
(the JSON report and its numbers).
"""

from godseye.simulation.engine import DEFAULT_SCENARIOS, SCENARIOS, SimConfig, Simulation, StepRecord
from godseye.simulation.faults import FaultSchedule
from godseye.simulation.journeys import Journey, Step, TrafficPlan
from godseye.simulation.report import write_report

__all__ = ["DEFAULT_SCENARIOS", "SCENARIOS", "FaultSchedule", "Journey", "SimConfig", "Simulation", "Step",
           "StepRecord", "TrafficPlan", "write_report"]
