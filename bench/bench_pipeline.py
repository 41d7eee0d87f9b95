"""Pipeline benchmark: 500 seed-homework submissions through the real service — submit (INSERT, COMMIT,
send), Redis, one Celery worker with 2 processes, results written back — on SQLite and on PostgreSQL.

Prints submissions/s (first submit to last result) and p50/p95 of submit → graded per submission.
Figures, not assertions: tests/test_pipeline.py checks the behaviour.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the same real-server helpers the reliability tests use

from service_helpers import Pipeline, PostgresServer, RedisServer  # noqa: E402

from grader.models import Submission  # noqa: E402

SUBMISSIONS = int(os.environ.get("BENCH_PIPELINE_SUBMISSIONS", "500"))
ASSIGNMENT = "backprop-quadratic"
SEED_HOMEWORK = (ROOT / "assignments" / ASSIGNMENT / "solution.py").read_text()
WARMUP = 6


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(database_url: str, redis: RedisServer, logs: Path) -> dict:
    pipe = Pipeline(database_url, redis, logs, queued_deadline=600, running_deadline=650, visibility_timeout=900)
    try:
        pipe.worker("bench", concurrency=2)
        # both pool processes start their fork server (torch import) before the clock starts
        warm = [pipe.submit(SEED_HOMEWORK, i, ASSIGNMENT) for i in range(WARMUP)]
        pipe.wait_graded(warm, 120)
        started = time.monotonic()
        ids = [pipe.submit(SEED_HOMEWORK, i % 20, ASSIGNMENT) for i in range(SUBMISSIONS)]
        submitted = time.monotonic() - started
        pipe.wait_graded(ids, 600)
        elapsed = time.monotonic() - started
        with pipe.db.session() as session:
            rows = session.execute(sa.select(Submission.status, Submission.score, Submission.submitted_at,
                                             Submission.finished_at).where(Submission.id.in_(ids))).all()
        latencies = [(r.finished_at - r.submitted_at).total_seconds() for r in rows]
        return {"graded": sum(r.status == "graded" and r.score == 100 for r in rows), "submit_s": submitted,
                "total_s": elapsed, "rate": len(ids) / elapsed, "p50": percentile(latencies, 0.5),
                "p95": percentile(latencies, 0.95), "mean": statistics.fmean(latencies)}
    finally:
        pipe.close()


def main() -> None:
    print(f"{SUBMISSIONS} submissions of {ASSIGNMENT}'s solution; 1 worker × 2 processes; {os.cpu_count()} CPUs")
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        tmp = Path(tmp)
        for backend in ("sqlite", "postgresql"):
            redis, pg = RedisServer().start(), None
            logs = tmp / backend
            logs.mkdir()
            try:
                if backend == "sqlite":
                    url = f"sqlite:///{tmp / 'bench.db'}"
                else:
                    pg = PostgresServer().start()
                    url = pg.url(pg.create_database())
                results[backend] = measure(url, redis, logs)
            finally:
                redis.close()
                if pg is not None:
                    pg.stop()
            print(f"  {backend}: done", flush=True)
    print()
    print(f"{'database':<11} {'graded':>7} {'submit s':>9} {'total s':>8} {'subm/s':>7} {'p50 s':>7} {'p95 s':>7}")
    for backend, r in results.items():
        print(f"{backend:<11} {r['graded']:>7} {r['submit_s']:>9.1f} {r['total_s']:>8.1f} {r['rate']:>7.1f} "
              f"{r['p50']:>7.1f} {r['p95']:>7.1f}")
    print("submit→graded latency includes the queue: in a burst the last submission waits for all before it.")


if __name__ == "__main__":
    main()
