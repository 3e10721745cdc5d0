"""Chat turn latency on the embedded local model, through the real app and MCP servers.

Runs `godseye chat --json` in a fresh process on a seeded catalog and reports the first turn (cold:
server start-up, model load) and warm turns. The process is driven one line at a time, so the CPU
time of the product processes (the chat process and its MCP server children, utime+stime from
/proc) is read right after the cold turn's answer and again after the last answer: CPU ms per warm
turn.

With `--telemetry` it is an A/B of the instrumentation in one benchmark run, in `--pairs` pairs of
fresh processes: one with instrumentation off, one with it on (against the local stand-in:
DogStatsD receiver and ddapm-test-agent). Both processes of a pair are started (cold turns one
after the other), then take their warm turns alternately, one turn each, the order flipping every
turn (and which process starts first flipping every pair). Only one of them works at a time, so
they do not slow each other down, yet both see the same machine: on a shared VM the speed of
identical runs drifts by well over 10% within minutes (other tenants, other jobs), and runs taken
one after the other would carry that drift into the comparison. Warm turns are pooled per mode;
the per-pair overheads are listed to show what noise remains. CPU per warm turn is the steadier
measure of what the instrumentation costs. The stand-in's own CPU is the receiving side, not
instrumentation: it is kept out of the product numbers and printed as a note. Each pair also
reports the "other load" (CPU used by anything but the product, the stand-in and this harness,
from /proc/stat); a warning flags pairs where it was high.

    python -m benchmarks.bench_chat [--quick] [--telemetry] [--pairs N] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = [
    "red dresses under $80 in size M",
    "something cheaper",
    "in blue",
    "what is the second one made of?",
    "add the second one to my cart in size M",
    "what's in my cart?",
    "show me black leather boots",
    "show me similar items to the first one",
    "an outfit for a job interview under $300",
    "what's the weather tomorrow?",
]
OFF_ENV = {"DD_TRACE_ENABLED": "false", "DD_DOGSTATSD_PORT": "9", "DD_AGENT_HOST": "127.0.0.1"}
PROCESS_TIMEOUT_S = 900
BUSY_LOAD = 0.25  # CPUs of other work during a pair above which its numbers are flagged as disturbed


# --- CPU time from /proc -------------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_HAVE_PROC = Path("/proc/self/stat").exists()


def _stat_fields(pid: int | str) -> list[str] | None:
    """/proc/<pid>/stat fields from field 3 (state) on; the command name may contain spaces."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2:].split()


def _descendants(root: int) -> list[int]:
    """`root` and every live process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(entry.name)
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _cpu_ms(pid: int, *, reaped: bool = True) -> float:
    """utime+stime of `pid` in ms, plus (reaped=True) the CPU of children it already waited for, so
    a child that ends between two readings is still counted once."""
    fields = _stat_fields(pid)
    if not fields:
        return 0.0
    used = fields[11:15] if reaped else fields[11:13]  # utime, stime, cutime, cstime
    return sum(int(v) for v in used) * 1000 / _TICKS


def _cpu_by_pid(root: int) -> dict[int, float] | None:
    """CPU ms of `root` and of each live process below it (None without /proc)."""
    return {pid: _cpu_ms(pid) for pid in _descendants(root)} if _HAVE_PROC else None


def _machine_busy_ms() -> float | None:
    """CPU ms all processes of the machine used so far (/proc/stat: user, nice, system, irq,
    softirq, steal), to tell how busy the machine was besides the benchmark."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) * 1000 / _TICKS


@dataclass
class Harness:
    """CPU of this benchmark process (where the stand-in's receiver threads run) and of the
    stand-in's test agent: not product CPU, and not the machine's "other" load either."""

    test_agent_pid: int | None = None

    def read(self) -> float | None:
        if not _HAVE_PROC:
            return None
        own = _cpu_ms(os.getpid(), reaped=False)  # not cutime: that holds the chat processes we reaped
        if self.test_agent_pid is None:
            return own
        return own + sum(_cpu_ms(pid) for pid in _descendants(self.test_agent_pid))


# --- chat processes ---------------------------------------------------------------------------------


@dataclass
class Run:
    mode: str
    results: list[dict]
    processes: int = 0  # chat process + MCP servers seen at the end
    chat_cpu_ms: float | None = None  # CPU from the cold turn's answer to the last answer: chat process
    servers_cpu_ms: float | None = None  # ... and the processes below it (the MCP servers)
    standin_cpu_ms: float | None = None  # the stand-in's CPU over the same window (instrumented runs)
    other_load: float | None = None  # CPUs' worth of work by anything else on the machine meanwhile

    @property
    def warm(self) -> list[float]:
        return [r["latency_ms"] for r in self.results[1:]]

    @property
    def cpu_ms(self) -> float | None:
        if self.chat_cpu_ms is None or self.servers_cpu_ms is None:
            return None
        return self.chat_cpu_ms + self.servers_cpu_ms

    @property
    def cpu_per_turn(self) -> float | None:
        return None if self.cpu_ms is None else self.cpu_ms / max(1, len(self.warm))


class ChatProcess:
    """A fresh `godseye chat --json`, one JSON line in, one out. Sessions and carts persist in
    GODSEYE_HOME, so each process gets fresh session and user ids: a later process would otherwise
    continue earlier conversations (longer histories, fuller carts) and be slower for it."""

    def __init__(self, home: Path, extra_env: dict[str, str], mode: str, rounds: int):
        self.mode = mode
        tag = uuid.uuid4().hex[:8]
        self.lines = [json.dumps({"session": f"bench-{tag}-{r}", "user": f"bench-user-{tag}-{r}", "text": t})
                      for r in range(rounds) for t in SCRIPT]
        self.results: list[dict] = []
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by kill()
        env = dict(os.environ, GODSEYE_HOME=str(home), **extra_env)
        self.proc = subprocess.Popen([sys.executable, "-m", "godseye.cli.main", "chat", "--json"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, text=True,
                                     bufsize=1, env=env, cwd=ROOT)
        self._watchdog = threading.Timer(PROCESS_TIMEOUT_S, self.proc.kill)
        self._watchdog.start()

    def turn(self, i: int) -> None:
        self.proc.stdin.write(self.lines[i] + "\n")
        self.proc.stdin.flush()
        out = self.proc.stdout.readline()
        if not out:
            self._fail(f"exited with {self.proc.wait()}")
        self.results.append(json.loads(out))

    def cpu(self) -> dict[int, float] | None:
        return _cpu_by_pid(self.proc.pid)

    def close(self) -> None:
        self.proc.stdin.close()
        code = self.proc.wait(timeout=120)
        if code != 0:
            self._fail(f"exited with {code}")

    def kill(self) -> None:
        self._watchdog.cancel()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()

    def _fail(self, what: str) -> None:
        self._stderr.seek(0)
        raise SystemExit(f"{self.mode}: chat {what} after {len(self.results)}/{len(self.lines)} turns\n"
                         + self._stderr.read()[-2000:])


def _measure(home: Path, modes: list[tuple[str, dict[str, str]]], rounds: int, harness: Harness,
             standin_mode: str | None = None) -> list[Run]:
    """Start one process per mode (cold turns one after the other), then run the warm turns
    interleaved: turn i of each process, the order flipping every turn. Returns one Run per mode,
    in the order given (which is also who goes first)."""
    procs: list[ChatProcess] = []
    try:
        for mode, env in modes:
            procs.append(ChatProcess(home, env, mode, rounds))
            procs[-1].turn(0)
        cpu0 = [p.cpu() for p in procs]
        busy0, harness0, window0 = _machine_busy_ms(), harness.read(), time.perf_counter()
        for i in range(1, len(procs[0].lines)):
            for p in procs if i % 2 else reversed(procs):
                p.turn(i)
        cpu1 = [p.cpu() for p in procs]
        busy1, harness1, window1 = _machine_busy_ms(), harness.read(), time.perf_counter()
        for p in procs:
            p.close()
    finally:
        for p in procs:
            p.kill()
    runs = [Run(p.mode, p.results) for p in procs]
    harness_ms = harness1 - harness0 if harness0 is not None and harness1 is not None else 0.0
    for p, run, before, after in zip(procs, runs, cpu0, cpu1, strict=True):
        if before is None or after is None:
            continue
        run.processes = len(after)
        delta = {pid: ms - before.get(pid, 0.0) for pid, ms in after.items()}
        run.chat_cpu_ms = delta.pop(p.proc.pid)
        run.servers_cpu_ms = sum(delta.values())
        if run.mode == standin_mode:
            run.standin_cpu_ms = harness_ms
    if busy0 is not None and busy1 is not None and all(run.cpu_ms is not None for run in runs):
        other = busy1 - busy0 - sum(run.cpu_ms for run in runs) - harness_ms
        load = max(0.0, other) / ((window1 - window0) * 1000)
        for run in runs:
            run.other_load = load
    for run in runs:
        cpu = f", {run.cpu_per_turn:.0f} CPU ms/warm turn" if run.cpu_ms is not None else ""
        load = f", other load {run.other_load:.2f} CPUs" if run.other_load is not None else ""
        print(f"  {run.mode}: {len(run.results)} turns, warm p50 {statistics.median(run.warm):.0f} ms{cpu}{load}",
              file=sys.stderr)
    return runs


# --- report ---------------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _summary(runs: list[Run]) -> dict[str, float | None]:
    warm = [v for run in runs for v in run.warm]
    cpu = chat = None
    if runs and all(run.cpu_ms is not None for run in runs):
        cpu = sum(run.cpu_ms for run in runs) / max(1, len(warm))
        chat = sum(run.chat_cpu_ms for run in runs) / max(1, len(warm))
    return {"first": statistics.median(run.results[0]["latency_ms"] for run in runs), "p50": statistics.median(warm),
            "p95": _pct(warm, 0.95), "max": max(warm), "n": len(warm), "cpu": cpu, "chat_cpu": chat,
            "servers_cpu": None if cpu is None else cpu - chat, "processes": max(run.processes for run in runs),
            "errors": sum(1 for run in runs for r in run.results if r.get("error"))}


def _overhead(off: float | None, on: float | None) -> str:
    if off is None or on is None or off <= 0:
        return "n/a"
    return f"{(on - off) / off * 100:+.1f}%"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def report(rows: list[tuple[str, list[Run]]], pairs: list[tuple[Run, Run]]) -> None:
    print("\n| run | processes | first turn ms | warm p50 ms | warm p95 ms | warm max ms | CPU ms / warm turn "
          "| of which chat | of which MCP servers | warm turns | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    summaries = []
    for name, runs in rows:
        s = _summary(runs)
        summaries.append(s)
        print(f"| {name} | {len(runs)} × {s['processes']} | {s['first']:.0f} | {s['p50']:.0f} | {s['p95']:.0f} "
              f"| {s['max']:.0f} | {_ms(s['cpu'])} | {_ms(s['chat_cpu'])} | {_ms(s['servers_cpu'])} | {s['n']} "
              f"| {s['errors']} |")
    if not pairs:
        return
    print("\n| pair | first | off warm p50 ms | on warm p50 ms | p50 overhead | off CPU ms/turn | on CPU ms/turn "
          "| CPU overhead | other load (CPUs) |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for i, (off, on) in enumerate(pairs, 1):
        p50_off, p50_on = statistics.median(off.warm), statistics.median(on.warm)
        load = "n/a" if off.other_load is None else f"{off.other_load:.2f}"
        print(f"| {i} | {'off' if i % 2 else 'on'} | {p50_off:.0f} | {p50_on:.0f} | {_overhead(p50_off, p50_on)} "
              f"| {_ms(off.cpu_per_turn)} | {_ms(on.cpu_per_turn)} | {_overhead(off.cpu_per_turn, on.cpu_per_turn)} "
              f"| {load} |")
    off_s, on_s = summaries
    per_pair = ", ".join(_overhead(statistics.median(a.warm), statistics.median(b.warm)) for a, b in pairs)
    print(f"\ninstrumentation overhead on pooled warm p50: {_overhead(off_s['p50'], on_s['p50'])} "
          f"(per pair: {per_pair})")
    if off_s["cpu"] is not None and on_s["cpu"] is not None:
        per_pair = ", ".join(_overhead(a.cpu_per_turn, b.cpu_per_turn) for a, b in pairs)
        print(f"instrumentation overhead on CPU per warm turn (chat process + MCP servers): "
              f"{off_s['cpu']:.1f} -> {on_s['cpu']:.1f} ms, {_overhead(off_s['cpu'], on_s['cpu'])} "
              f"(chat {_overhead(off_s['chat_cpu'], on_s['chat_cpu'])}, "
              f"MCP servers {_overhead(off_s['servers_cpu'], on_s['servers_cpu'])}; per pair: {per_pair})")
    busy = [i for i, (off, _) in enumerate(pairs, 1) if off.other_load is not None and off.other_load > BUSY_LOAD]
    if busy:
        print(f"warning: something else kept the machine busy during pair(s) {', '.join(map(str, busy))} "
              f"('other load' above {BUSY_LOAD} CPUs); their numbers are disturbed, rerun on a quiet machine")
    standin = [run.standin_cpu_ms for _, run in pairs if run.standin_cpu_ms is not None]
    if standin:
        turns = sum(len(run.warm) for _, run in pairs)
        print(f"note: the stand-in itself (DogStatsD receiver + ddapm-test-agent, not counted above) used "
              f"{sum(standin) / turns:.0f} CPU ms per warm turn of the instrumented runs")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round, and one off/on pair with --telemetry")
    parser.add_argument("--telemetry", action="store_true", help="A/B of the instrumentation, off vs on")
    parser.add_argument("--pairs", type=int, default=None, help="off/on process pairs with --telemetry (default 3)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="rounds of the script per process (default 3, or 4 with --telemetry)")
    parser.add_argument("--catalog-size", type=int, default=1200)
    args = parser.parse_args(argv)
    # With --telemetry, more rounds per process: a full garbage collection (~0.1 s on this heap)
    # lands in a process's window every ten-odd turns, and a short window makes that lumpy.
    rounds = args.rounds or (1 if args.quick else 4 if args.telemetry else 3)
    n_pairs = max(1, args.pairs or (1 if args.quick else 3))
    with tempfile.TemporaryDirectory(prefix="godseye-bench-") as tmp:
        home = Path(tmp)
        print(f"seeding {args.catalog_size} products…", file=sys.stderr)
        _seed(home, args.catalog_size)
        if not args.telemetry:
            report([("telemetry off", _measure(home, [("telemetry off", OFF_ENV)], rounds, Harness()))], [])
            return
        from local_datadog import run_in_background

        standin = run_in_background(home / "standin", random_ports=True, write_state_file=False)
        try:
            modes = {"off": ("telemetry off", OFF_ENV),
                     "on": ("telemetry on", dict(standin.client_env(), DD_TRACE_ENABLED="true"))}
            harness = Harness(standin.test_agent.pid if standin.test_agent else None)
            pairs: list[tuple[Run, Run]] = []
            for i in range(n_pairs):
                order = ["off", "on"] if i % 2 == 0 else ["on", "off"]
                print(f"pair {i + 1}/{n_pairs} ({order[0]} first)", file=sys.stderr)
                runs = dict(zip(order, _measure(home, [modes[m] for m in order], rounds, harness,
                                                standin_mode="telemetry on"), strict=True))
                pairs.append((runs["off"], runs["on"]))
                standin.wait_idle()
        finally:
            standin.stop()
    report([("telemetry off", [off for off, _ in pairs]), ("telemetry on (stand-in)", [on for _, on in pairs])],
           pairs)


def _seed(home: Path, size: int) -> None:
    env = dict(os.environ, GODSEYE_HOME=str(home))
    subprocess.run([sys.executable, "-m", "godseye.cli.main", "catalog", "seed", "--size", str(size)],
                   check=True, env=env, capture_output=True)


if __name__ == "__main__":
    main()
