"""Upload validation against decompression bombs, next to what plain Pillow pays for the same file.

For every bomb in `mcp_servers.image.fixtures` (plus the 8-bit 100 MP PNG from the issue) this
measures, in the same run:
  * the validator: median rejection time over N runs and the peak extra memory of one run, both as
    resident-set growth (VmHWM after resetting it through /proc/self/clear_refs) and as the Python
    heap peak (tracemalloc); all in one child process that only validates;
  * the baseline: `Image.open(path).load()` at Pillow's default limits, each file in its own child
    process with a 4 GB address-space limit and a timeout, so a bomb cannot take the benchmark down.
Then a 12-megapixel phone photo (EXIF-rotated JPEG) goes through validation and the offline
try-on compositor, cold (first call in the process) and warm.

Targets (issue 5): every bomb rejected in < 5 ms with < 20 MB extra memory; the phone photo accepted
and previewed in < 2 s offline.

Run: `.venv/bin/python -m benchmarks.bench_image [--quick]` (prints a markdown table).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

BOMB_MS_TARGET = 5.0
BOMB_MB_TARGET = 20.0
PHOTO_S_TARGET = 2.0
BASELINE_TIMEOUT_S = 60
BASELINE_ADDRESS_SPACE = 4 * 1024**3
ROOT = Path(__file__).resolve().parents[1]


# --- memory probes (Linux) ------------------------------------------------------------------------


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0), so the next peak is this operation's."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _measure_peak(fn) -> tuple[object, float, float]:  # type: ignore[no-untyped-def]
    """(result, peak RSS growth MB, tracemalloc peak MB) of one call of fn()."""
    _reset_peak()
    rss_before = _status_kb("VmRSS")
    tracemalloc.start()
    try:
        result = fn()
        _, py_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    hwm = _status_kb("VmHWM")
    return result, max(0, hwm - rss_before) / 1024, py_peak / 1024 / 1024


# --- child processes --------------------------------------------------------------------------------


def child_validate(paths: list[str], repeats: int, photo: str | None, garment: str | None) -> None:
    from mcp_servers.image import fixtures as fx
    from mcp_servers.image.limits import Limits
    from mcp_servers.image.validator import inspect

    limits = Limits()
    inspect(fx.valid_png(), limits)  # warm up: Pillow plugins, regexes, zlib
    inspect(fx.valid_jpeg(), limits)
    out = []
    for path in paths:
        data = Path(path).read_bytes()
        verdict, rss_mb, py_mb = _measure_peak(lambda data=data: inspect(data, limits))
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            inspect(data, limits)
            times.append((time.perf_counter() - start) * 1000)
        out.append({"path": path, "kind": verdict.kind, "ms": statistics.median(times), "ms_max": max(times),
                    "rss_mb": rss_mb, "py_mb": py_mb})
    result: dict[str, object] = {"bombs": out}
    if photo and garment:
        result["photo"] = _photo_run(Path(photo).read_bytes(), Path(garment).read_bytes(), limits)
    print(json.dumps(result))


def _photo_run(photo: bytes, garment_file: bytes, limits) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from mcp_servers.image.service import load_garment
    from mcp_servers.image.tryon import try_on
    from mcp_servers.image.validator import inspect

    runs = []
    for attempt in range(4):
        t0 = time.perf_counter()
        verdict = inspect(photo, limits)
        t1 = time.perf_counter()
        garment = load_garment(garment_file)
        result = try_on(verdict.image, garment, backend="compositor")
        t2 = time.perf_counter()
        assert verdict.ok and result.backend == "compositor"
        runs.append({"validate_ms": (t1 - t0) * 1000, "tryon_ms": (t2 - t1) * 1000, "total_s": t2 - t0,
                     "decoded_mp": (verdict.decoded_pixels or 0) / 1e6, "attempt": attempt})
    cold, warm = runs[0], runs[1:]
    _, rss_mb, _ = _measure_peak(lambda: try_on(inspect(photo, limits).image, load_garment(garment_file),
                                                backend="compositor"))
    return {
        "cold_validate_ms": cold["validate_ms"], "cold_tryon_ms": cold["tryon_ms"], "cold_total_s": cold["total_s"],
        "validate_ms": statistics.median(r["validate_ms"] for r in warm),
        "tryon_ms": statistics.median(r["tryon_ms"] for r in warm),
        "total_s": statistics.median(r["total_s"] for r in warm),
        "decoded_mp": cold["decoded_mp"], "rss_mb": rss_mb,
    }


def child_baseline(path: str) -> None:
    import resource
    import warnings

    resource.setrlimit(resource.RLIMIT_AS, (BASELINE_ADDRESS_SPACE, BASELINE_ADDRESS_SPACE))
    from PIL import Image

    Image.init()  # load every plugin first, so the timing is the decode, not the imports
    _reset_peak()
    rss_before = _status_kb("VmRSS")
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with Image.open(path) as im:
                im.load()
                outcome = f"decoded {im.size[0]}x{im.size[1]} {im.mode}"
        except MemoryError:
            outcome = "MemoryError"
        except Exception as exc:
            outcome = f"{type(exc).__name__}"
    ms = (time.perf_counter() - start) * 1000
    warned = any("DecompressionBomb" in type(w.message).__name__ for w in caught)
    rss_mb = max(0, _status_kb("VmHWM") - rss_before) / 1024
    print(json.dumps({"ms": ms, "rss_mb": rss_mb, "outcome": outcome + (" (warned)" if warned else "")}))


# --- parent -------------------------------------------------------------------------------------------


def _run_child(args: list[str], timeout: float) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    try:
        proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_image", *args], capture_output=True,
                              text=True, timeout=timeout, cwd=ROOT, env=env)
    except subprocess.TimeoutExpired:
        return {"outcome": f"timeout > {timeout:.0f} s", "ms": timeout * 1000, "rss_mb": float("nan")}
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"outcome": f"crashed (exit {proc.returncode}): {tail[:60]}", "ms": float("nan"), "rss_mb": float("nan")}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def build_files(folder: Path) -> dict[str, Path]:
    from mcp_servers.image import fixtures as fx

    files: dict[str, Path] = {}
    for name in fx.BOMBS:
        make, _ = fx.HOSTILE[name]
        path = folder / f"{name}.bin"
        path.write_bytes(make())
        files[name] = path
    return files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (about 30 s instead of a minute)")
    parser.add_argument("--child-validate", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--child-baseline", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--photo", help=argparse.SUPPRESS)
    parser.add_argument("--garment", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_baseline:
        child_baseline(args.child_baseline)
        return
    if args.child_validate is not None:
        child_validate(args.child_validate, args.repeats, args.photo, args.garment)
        return

    from mcp_servers.image import fixtures as fx

    repeats = 5 if args.quick else 25
    with tempfile.TemporaryDirectory(prefix="bench_image_") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        files = build_files(folder)
        sizes = {name: path.stat().st_size for name, path in files.items()}
        photo = folder / "phone_12mp.jpg"
        photo.write_bytes(fx.phone_photo())
        garment = folder / "garment.png"
        fx.garment_cutout().save(garment)
        gen_s = time.perf_counter() - t0
        validated = _run_child(["--child-validate", *map(str, files.values()), "--repeats", str(repeats),
                                "--photo", str(photo), "--garment", str(garment)], timeout=300)
        if "bombs" not in validated:
            raise SystemExit(f"validator child failed: {validated}")
        baselines = {name: _run_child(["--child-baseline", str(path)], BASELINE_TIMEOUT_S) for name, path in files.items()}

    rows = []
    ok_all = True
    for name, result in zip(files, validated["bombs"], strict=True):
        base = baselines[name]
        met = result["ms"] < BOMB_MS_TARGET and result["rss_mb"] < BOMB_MB_TARGET and result["kind"] is not None
        ok_all &= met
        rows.append(
            f"| {name} | {sizes[name]:,} | {result['kind']} | {result['ms']:.3f} "
            f"| {result['rss_mb']:.2f} | {result['py_mb']:.2f} | {base['ms']:.1f} | {base['rss_mb']:.1f} "
            f"| {base['outcome']} | {'yes' if met else 'NO'} |"
        )
    print(f"## Upload validation vs plain Pillow ({'quick' if args.quick else 'full'} run, "
          f"median of {repeats}; fixtures built in {gen_s:.1f} s)\n")
    print("| file | bytes | verdict | validator ms | validator peak RSS +MB | validator py heap MB "
          "| Pillow open+load ms | Pillow peak RSS +MB | Pillow outcome | < 5 ms & < 20 MB |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---|---|")
    print("\n".join(rows))
    photo_r = validated["photo"]
    photo_met = photo_r["total_s"] < PHOTO_S_TARGET and photo_r["cold_total_s"] < PHOTO_S_TARGET
    print("\n## 12-megapixel phone photo (4000x3000 JPEG, EXIF orientation 6) to try-on preview\n")
    print("| run | validate ms | compositor ms | total s | decoded MP | peak RSS +MB | < 2 s |")
    print("|---|---:|---:|---:|---:|---:|---|")
    print(f"| cold (first call in the process) | {photo_r['cold_validate_ms']:.0f} | {photo_r['cold_tryon_ms']:.0f} "
          f"| {photo_r['cold_total_s']:.2f} | {photo_r['decoded_mp']:.1f} | | "
          f"{'yes' if photo_r['cold_total_s'] < PHOTO_S_TARGET else 'NO'} |")
    print(f"| warm (median of 3) | {photo_r['validate_ms']:.0f} | {photo_r['tryon_ms']:.0f} | {photo_r['total_s']:.2f} "
          f"| {photo_r['decoded_mp']:.1f} | {photo_r['rss_mb']:.0f} | {'yes' if photo_met else 'NO'} |")
    print(f"\nAll bombs within target: {'yes' if ok_all else 'NO'}; phone photo within target: "
          f"{'yes' if photo_met else 'NO'}.")


if __name__ == "__main__":
    main()
