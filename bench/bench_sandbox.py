"""Sandbox benchmark: the seed homework graded with each backend, side by side, plus hostile scripts.

Each backend is measured in a child process of its own, so that the worker's peak memory is that
backend's alone. Figures, not assertions: the tests check behaviour.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "assignments" / "backprop-quadratic" / "assignment.yaml"
SOLUTION = ROOT / "assignments" / "backprop-quadratic" / "solution.py"
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
BATCH = 20

HOSTILE = {
    "infinite loop": "while True:\n    pass\n",
    "sleep forever": "import time\ntime.sleep(10**6)\n",
    "fork bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
    "memory bomb": "x = []\nwhile True:\n    x.append(bytearray(50 * 2**20))\n",
    "1 GiB print": "import sys\nline = 'x' * 1023 + '\\n'\nfor _ in range(2**20):\n    sys.stdout.write(line)\n",
}
HOSTILE_WALL = 2.0


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def warm_floors(source: str, runs: int) -> tuple[float, float]:
    """The script's own runtime in an interpreter that already imported torch: run again and again in
    that interpreter (the floor the targets name), and in a forked child of it (what any one-process-
    per-submission design pays at least: the fork and the child's first touch of its pages)."""
    import gc

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import torch

    torch.set_num_threads(1)
    code = compile(source, "hw.py", "exec")
    in_process = []
    for _ in range(runs):
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, {"__name__": "__main__"})
        in_process.append(time.perf_counter() - started)
    gc.collect()
    gc.freeze()
    forked = []
    for _ in range(runs):
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            exec(code, {"__name__": "__main__"})
            os._exit(0)
        os.waitpid(pid, 0)
        forked.append(time.perf_counter() - started)
    return statistics.median(in_process), statistics.median(forked)


def rss_peak_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def measure(backend: str) -> dict:
    """Run in a child process: latencies, batch throughput and peak memory of one backend."""
    sys.path.insert(0, str(ROOT))
    from grader.expected import expected_for
    from worker.grading import grade_source, limits_for
    from grader.plan import build_plan
    from grader.spec import load_spec
    from worker.sandbox import Job, get_sandbox

    spec = load_spec(SPEC)
    source = SOLUTION.read_text()
    expected_for(spec)  # computed once per spec in a worker; not part of a submission's cost
    job, limits = Job(source=source, plan=build_plan(spec)), limits_for(spec)
    box = get_sandbox(backend)
    out: dict = {"backend": backend}
    try:
        result, _ = grade_source(spec, source, box)  # warm-up (starts the fork server)
        assert result.score == result.max_score, f"{backend}: the seed homework scored {result.score}"
        sandbox_times, graded_times = [], []
        for _ in range(RUNS):
            started = time.perf_counter()
            box.run(job, limits)
            sandbox_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            grade_source(spec, source, box)
            graded_times.append(time.perf_counter() - started)
        out.update(sandbox_median=statistics.median(sandbox_times), sandbox_p95=percentile(sandbox_times, 0.95),
                   graded_median=statistics.median(graded_times), graded_p95=percentile(graded_times, 0.95))
        out["batch_per_s"] = batch_throughput(backend, spec, source, box)
        server_pid = getattr(box, "server_pid", None)
        out["server_peak_mb"] = (rss_peak_kb(server_pid) or 0) / 1024 if server_pid else None
        out["hostile"] = hostile_costs(box)
    finally:
        box.close()
    out["worker_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def batch_throughput(backend: str, spec, source: str, first_box) -> float:
    """20 submissions on 2 cores: two sandboxes, each fed by a thread."""
    from worker.grading import grade_source
    from worker.sandbox import get_sandbox

    second = get_sandbox(backend)
    grade_source(spec, source, second)
    queue = list(range(BATCH))
    lock = threading.Lock()

    def feed(box) -> None:
        while True:
            with lock:
                if not queue:
                    return
                queue.pop()
            grade_source(spec, source, box)

    started = time.perf_counter()
    threads = [threading.Thread(target=feed, args=(b,)) for b in (first_box, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    second.close()
    return BATCH / elapsed


def hostile_costs(box) -> dict[str, float]:
    """Seconds of worker time each hostile script costs, with a wall limit of HOSTILE_WALL."""
    from worker.sandbox import Job, Limits

    costs = {}
    for name, source in HOSTILE.items():
        started = time.perf_counter()
        box.run(Job(source=source, plan={}), Limits(wall_seconds=HOSTILE_WALL, cpu_seconds=10, memory_mb=1024))
        costs[name] = time.perf_counter() - started
    return costs


def docker_available() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def main() -> None:
    floor, fork_floor = json.loads(subprocess.run([sys.executable, __file__, "--floor"], capture_output=True,
                                                  text=True, check=True, cwd=ROOT).stdout)
    results = []
    for backend in ("forkserver", "bwrap"):
        proc = subprocess.run([sys.executable, __file__, "--backend", backend], capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            print(f"{backend}: failed\n{proc.stderr[-2000:]}")
            continue
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print_table(floor, fork_floor, results, docker_available())


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def print_table(floor: float, fork_floor: float, results: list[dict], docker: bool) -> None:
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), "unknown CPU")
    print(f"\nSandbox benchmark — seed homework (backprop-quadratic), {RUNS} runs per backend, "
          f"{os.cpu_count()} cores ({cpu})")
    print(f"Floor: the script itself in a warm interpreter: {ms(floor)} "
          f"(in a forked child of one, no sandbox: {ms(fork_floor)}); overhead = sandbox p50 - {ms(floor)}\n")
    header = ("backend", "sandbox p50", "sandbox p95", "overhead p50", "graded p50", "graded p95",
              "batch of 20", "worker peak", "server peak")
    rows = []
    for r in results:
        rows.append((r["backend"], ms(r["sandbox_median"]), ms(r["sandbox_p95"]), ms(r["sandbox_median"] - floor),
                     ms(r["graded_median"]), ms(r["graded_p95"]), f"{r['batch_per_s']:.1f}/s",
                     f"{r['worker_peak_mb']:.0f} MB",
                     "-" if r.get("server_peak_mb") is None else f"{r['server_peak_mb']:.0f} MB"))
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    if not docker:
        print("docker      n/a: no Docker engine on this host (its command line is tested instead)")
    by = {r["backend"]: r for r in results}
    if "forkserver" in by and "bwrap" in by:
        print(f"\nforkserver is {by['bwrap']['sandbox_median'] / by['forkserver']['sandbox_median']:.0f}x "
              f"faster than bwrap per submission (sandbox p50)")
    print(f"\nHostile scripts (wall limit {HOSTILE_WALL:g} s): seconds until the worker has the result")
    names = list(HOSTILE)
    print("  ".join(["backend".ljust(10)] + [n.ljust(14) for n in names]))
    for r in results:
        print("  ".join([r["backend"].ljust(10)] + [f"{r['hostile'][n]:.2f} s".ljust(14) for n in names]))


if __name__ == "__main__":
    if sys.argv[1:] == ["--floor"]:
        print(json.dumps(warm_floors(SOLUTION.read_text(), RUNS)))
    elif sys.argv[1:2] == ["--backend"]:
        print(json.dumps(measure(sys.argv[2])))
    else:
        main()
