"""Fairness benchmark: a seed homework submitted while two endless loops run, through the real service (SQLite,
the embedded Redis, a worker laid out as `grader up --workers 2` lays it out: 2 processes + 2 spare).

Prints, per trial, the seconds from the seed homework's submission to its result (target: within 2 s) and
whether the loops were demoted (worker.sandbox.privileges.LONG_JOB_SECONDS) before it arrived.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the same real-server helpers the reliability tests use

from service_helpers import Pipeline, RedisServer, wait_for  # noqa: E402

from grader.models import Submission  # noqa: E402

ASSIGNMENT = "backprop-quadratic"
SEED_HOMEWORK = (ROOT / "assignments" / ASSIGNMENT / "solution.py").read_text()
LOOP = "while True:\n    pass\n"
TRIALS = 3


def main() -> None:
    from worker.sandbox.privileges import LONG_JOB_SECONDS

    delays = []
    with tempfile.TemporaryDirectory(prefix="bench-fairness-") as tmp:
        redis = RedisServer().start()
        pipe = Pipeline(f"sqlite:///{Path(tmp) / 'bench.db'}", redis, Path(tmp))
        try:
            pipe.worker("bench", concurrency=4)
            pipe.wait_graded([pipe.submit(SEED_HOMEWORK, i, ASSIGNMENT) for i in range(8)], 120)  # warm sandboxes
            for trial in range(TRIALS):
                loops = [pipe.submit(LOOP, 10 + i, ASSIGNMENT) for i in range(2)]
                wait_for(lambda: set(pipe.statuses(loops).values()) == {"running"}, 60, "the loops to start")
                time.sleep(LONG_JOB_SECONDS + 0.5)  # the loops have been demoted
                seed = pipe.submit(SEED_HOMEWORK, trial, ASSIGNMENT)
                pipe.wait_graded([seed], 60)
                with pipe.db.session() as session:
                    row = session.get(Submission, seed)
                    delays.append((row.finished_at - row.submitted_at).total_seconds())
                pipe.wait_graded(loops, 120)  # each ends at its CPU limit
        finally:
            pipe.close()
            redis.close()
    print(f"seed homework behind two endless loops ({ASSIGNMENT}; 2 + 2 spare processes; loops demoted after "
          f"{LONG_JOB_SECONDS:g} s): submit→graded {', '.join(f'{d:.2f}' for d in delays)} s, "
          f"p50 {statistics.median(delays):.2f} s (target ≤ 2 s)")


if __name__ == "__main__":
    main()
