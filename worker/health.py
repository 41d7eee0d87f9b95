"""Whether this worker's sandbox can run a job, and what the worker does about it.

Rule: a worker process whose sandbox cannot run a trivial job takes no grading tasks. It stops its node
consuming the grading queue (Celery's own `cancel_consumer` control command, addressed to its own node), says
so in its heartbeat (the staff's queue-health panel shows it), and probes again every PROBE_SECONDS; once a
probe passes, the node consumes again. A task that meets a broken sandbox gives its submission back and
re-sends it, so another worker grades it.
"""
from __future__ import annotations

import logging
import threading

from worker.sandbox import Job, Limits

PROBE_SECONDS = 15
PROBE_SOURCE = "print('sandbox ok')\n"
PROBE_LIMITS = Limits(wall_seconds=60, cpu_seconds=30, memory_mb=1024, output_kb=4)
log = logging.getLogger(__name__)


def probe(sandbox) -> str | None:
    """None when `sandbox` ran a trivial job to its end; else why not, in the sandbox's own words."""
    try:
        if hasattr(sandbox, "start"):
            sandbox.start()
        result = sandbox.run(Job(source=PROBE_SOURCE, plan={}, filename="probe.py"), PROBE_LIMITS)
    except Exception as exc:  # noqa: BLE001 - any failure to run a job means the sandbox is broken
        return f"{type(exc).__name__}: {exc}"[:2000]
    if result.outcome_raw is None or "sandbox ok" not in result.stdout:
        return (f"a trivial job did not finish (exit {result.exit_code}, signal {result.signal}): "
                f"{result.stderr[-500:]}")
    return None


class Health:
    """This process's sandbox health; `on_change(healthy, problem)` runs on every change (consumer control)."""

    def __init__(self, on_change):
        self.healthy = True
        self.problem: str | None = None
        self._on_change = on_change
        self._lock = threading.Lock()

    def report(self, problem: str | None) -> bool:
        """Record a probe's or a task's finding; True when the state changed."""
        with self._lock:
            healthy = problem is None
            changed = healthy != self.healthy
            self.healthy, self.problem = healthy, problem
        if changed:
            log.warning("sandbox %s", "works again: taking tasks" if healthy else f"broken ({problem}): taking no tasks")
            try:
                self._on_change(healthy, problem)
            except Exception as exc:  # noqa: BLE001 - the next probe tries again
                log.warning("could not %s the grading queue: %s", "resume" if healthy else "leave", exc)
        return changed
