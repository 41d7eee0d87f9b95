"""The grading pipeline loses nothing: real PostgreSQL (or SQLite), real Redis, real `grader worker` processes.

A submission in the database is graded exactly once in the end, whatever happens to workers and the broker.
"""
from __future__ import annotations

import collections
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from grader.models import CheckResultRow, Submission
from service_helpers import ASSIGNMENTS, SOLUTION, sleeping_solution, wait_for

pytestmark = pytest.mark.slow
CHECKS = 6  # backprop-linear has six checks
MISTAKES = sorted((ASSIGNMENTS / "backprop-linear" / "mistakes").glob("*.py"))


def rows(pipe, ids):
    with pipe.db.session() as session:
        subs = {s.id: s for s in session.scalars(sa.select(Submission).where(Submission.id.in_(ids)))}
        checks = collections.Counter(session.scalars(
            sa.select(CheckResultRow.submission_id).where(CheckResultRow.submission_id.in_(ids))))
    return subs, checks


def task_results(pipe, word: str) -> int:
    """How many times workers reported a task ending with `word` ('graded': a result was written)."""
    return sum(p.output().count(f": '{word}'") for p in pipe.processes)


def test_a_submission_is_graded_through_the_pipeline(pg_url, redis_server, pipeline_factory):
    pipe = pipeline_factory(pg_url, redis_server)
    pipe.worker()
    good, bad = pipe.submit(SOLUTION), pipe.submit("def broken(:\n")
    pipe.wait_graded([good, bad], 60)
    subs, checks = rows(pipe, [good, bad])
    assert subs[good].status == "graded" and subs[good].score == subs[good].max_score == 100
    # a student's failure is a graded result, not a retry
    assert subs[bad].status == "graded" and subs[bad].score == 0 and subs[bad].attempt == 1
    assert checks[good] == checks[bad] == CHECKS
    # `grader regrade --all` grades them again from a fresh start
    first_finish = subs[good].finished_at
    proc = subprocess.run([str(Path(sys.executable).with_name("grader")), "regrade", "--assignment", "backprop-linear",
                           "--all"], env=pipe.env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "queued 2 submissions" in proc.stdout, proc.stderr
    wait_for(lambda: rows(pipe, [good])[0][good].finished_at not in (None, first_finish), 60, "the regrade")
    pipe.wait_graded([good, bad], 60)
    subs, checks = rows(pipe, [good, bad])
    assert subs[good].score == 100 and subs[good].attempt == 1 and checks[good] == CHECKS


def test_a_worker_killed_mid_grade_is_graded_exactly_once_after_a_worker_returns(pg_url, redis_server,
                                                                                 pipeline_factory):
    pipe = pipeline_factory(pg_url, redis_server)  # the test lease: 6 s
    first = pipe.worker("first")
    pipe.reaper()
    sid = pipe.submit(sleeping_solution(4))
    wait_for(lambda: pipe.statuses([sid])[sid] == "running", 30, "the worker to start grading")
    time.sleep(1)  # well inside the sleeping script
    first.kill()
    assert pipe.statuses([sid])[sid] == "running"
    pipe.worker("second")
    pipe.wait_graded([sid], 60)
    time.sleep(2)  # a duplicate that arrives now must change nothing
    subs, checks = rows(pipe, [sid])
    assert subs[sid].status == "graded" and subs[sid].score == 100
    assert subs[sid].attempt == 2 and subs[sid].worker.startswith("second@")
    assert checks[sid] == CHECKS
    assert task_results(pipe, "graded") == 1


def test_no_submission_is_lost_while_redis_stops_and_restarts(pg_url, redis_server, pipeline_factory):
    pipe = pipeline_factory(pg_url, redis_server, queued_deadline=3)
    pipe.worker()
    pipe.reaper()
    ids = [pipe.submit(SOLUTION, i % 20) for i in range(8)]
    redis_server.stop()  # whatever it held is gone: it keeps nothing on disk
    ids += [pipe.submit(SOLUTION, i % 20) for i in range(4)]  # committed; the send fails; the reaper resends
    redis_server.start()
    ids += [pipe.submit(SOLUTION, i % 20) for i in range(8)]
    pipe.wait_graded(ids, 120)
    subs, checks = rows(pipe, ids)
    assert len(subs) == 20 and all(s.status == "graded" and s.score == 100 for s in subs.values())
    assert all(checks[i] == CHECKS for i in ids)


@pytest.mark.parametrize("extra", [5, 8])
def test_duplicate_deliveries_leave_the_live_attempt_alone_and_one_result(pg_url, redis_server, pipeline_factory,
                                                                          extra):
    pipe = pipeline_factory(pg_url, redis_server)
    pipe.worker(concurrency=2)
    sid = pipe.submit(sleeping_solution(3))
    wait_for(lambda: pipe.statuses([sid])[sid] == "running", 30, "the first attempt to start")
    for _ in range(extra):  # the same task again, as a redelivery or a stalled reaper would send it
        assert pipe.sender.send(sid)
    pipe.wait_graded([sid], 60)
    wait_for(lambda: task_results(pipe, "nothing to do") == extra, 60, "every duplicate to be dropped")
    subs, checks = rows(pipe, [sid])
    assert subs[sid].status == "graded" and subs[sid].attempt == 1 and subs[sid].score == 100
    assert checks[sid] == CHECKS
    assert task_results(pipe, "graded") == 1 and task_results(pipe, "superseded") == 0
    assert pipe.sender.send(sid)  # and a duplicate after the result: nothing happens
    wait_for(lambda: task_results(pipe, "nothing to do") == extra + 1, 30, "the late duplicate to be dropped")
    assert rows(pipe, [sid])[0][sid].attempt == 1


def test_a_burst_of_60_submissions_from_12_users_is_all_graded_consistently(any_db_url, redis_server,
                                                                            pipeline_factory):
    # the pipeline's rate under a 500-submission burst is a benchmark's figure (bench/bench_pipeline.py); this
    # test asserts what must hold in any burst, and 60 submissions of every shipped script are enough for that
    pipe = pipeline_factory(any_db_url, redis_server)
    pipe.worker(concurrency=2)
    sources = [SOLUTION] + [p.read_text() for p in MISTAKES]
    ids = [pipe.submit(sources[i % len(sources)], user_index=i % 12) for i in range(60)]
    pipe.wait_graded(ids, 240)
    subs, checks = rows(pipe, ids)
    assert all(s.status == "graded" and s.attempt == 1 for s in subs.values())
    assert all(checks[i] == CHECKS for i in ids)
    assert collections.Counter(s.user_id for s in subs.values()) == {u: 5 for u in pipe.users[:12]}
    # the same script always gets the same score
    by_source = collections.defaultdict(set)
    for s in subs.values():
        by_source[s.sha256].add(s.score)
    assert len(by_source) == len(sources) and all(len(scores) == 1 for scores in by_source.values())
    assert {s.score for s in subs.values() if s.source == SOLUTION} == {100}
    with pipe.db.session() as session:
        total = session.scalar(sa.select(sa.func.sum(Submission.score)).where(Submission.id.in_(ids)))
        checks_total = session.scalar(sa.select(sa.func.sum(CheckResultRow.points))
                                      .where(CheckResultRow.submission_id.in_(ids)))
    assert total == pytest.approx(checks_total)  # no late penalty: the score is the sum of its checks


def test_a_seed_homework_behind_two_endless_loops_is_graded_while_they_still_run(sqlite_url, redis_server,
                                                                                pipeline_factory):
    """`grader up` runs a spare process per core: two loops hold two processes (demoted to the lowest priority
    after 2 s), and a fresh seed homework is graded on the spare one long before the loops' 20 s of CPU."""
    pipe = pipeline_factory(sqlite_url, redis_server)
    pipe.worker(concurrency=3)
    loops = [pipe.submit("while True:\n    pass\n", user_index=i) for i in range(2)]
    wait_for(lambda: set(pipe.statuses(loops).values()) == {"running"}, 60, "both loops to start")
    seed = pipe.submit(SOLUTION, user_index=2)
    wait_for(lambda: pipe.statuses([seed])[seed] == "graded", 60, "the seed homework to be graded")
    assert set(pipe.statuses(loops).values()) == {"running"}  # it did not wait for either loop
    assert rows(pipe, [seed])[0][seed].score == 100
