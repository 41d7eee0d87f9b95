"""The Prometheus endpoint and JSON logs: what an operator alerts on, from real workers."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.metrics import sandbox_outcome
from grader.outcome import RunReport
from service_helpers import SOLUTION


@pytest.mark.parametrize("report, outcome", [
    (RunReport(outcome=None, timed_out=True, signal=9), "wall_limit"),
    (RunReport(outcome=None, signal=24), "cpu_limit"),
    (RunReport(outcome=None, signal=9), "memory"),
    (RunReport(outcome=None, signal=11), "signal"),
    (RunReport(outcome=None, outcome_error="the outcome is not JSON (ValueError)"), "forged_outcome"),
])
def test_each_way_a_run_ends_has_its_outcome_label(report, outcome):
    assert sandbox_outcome(report) == outcome


def _app(tmp_path, **settings):
    from grader.db import upgrade
    from grader.web import create_app

    url = f"sqlite:///{tmp_path / 'grader.db'}"
    upgrade(url)
    return create_app({"database_url": url, "broker_url": "redis://127.0.0.1:1/0", "ratelimit_storage_url": "memory://",
                       **settings})


def test_metrics_answer_configured_addresses_and_the_token_only(tmp_path):
    client = _app(tmp_path, metrics_allow="127.0.0.1, 10.9.0.0/16", metrics_token="s3cret-token").test_client()
    page = client.get("/metrics")
    assert page.status_code == 200 and page.mimetype == "text/plain"
    body = page.get_data(as_text=True)
    assert 'grader_submissions{status="queued"} 0.0' in body and "grader_queue_depth 0.0" in body
    assert "grader_oldest_queued_seconds" in body and 'grader_workers{healthy="true"}' in body
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.9.4.5"}).status_code == 200
    stranger = {"REMOTE_ADDR": "203.0.113.7"}
    assert client.get("/metrics", environ_base=stranger).status_code == 404  # not advertised
    assert client.get("/metrics", environ_base=stranger, headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", environ_base=stranger,
                      headers={"Authorization": "Bearer s3cret-token"}).status_code == 200


def test_a_bad_metrics_network_is_refused_at_start():
    from grader.config import Config, ConfigError

    with pytest.raises(ConfigError, match="GRADER_METRICS_ALLOW"):
        Config.from_env({"GRADER_METRICS_ALLOW": "10.0.0.0/33"})


@pytest.mark.slow
def test_workers_count_their_runs_into_the_shared_metrics_and_log_json_lines(pg_url, redis_server, pipeline_factory,
                                                                            tmp_path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    pipe = pipeline_factory(pg_url, redis_server)
    worker = pipe.worker(PROMETHEUS_MULTIPROC_DIR=str(folder), GRADER_LOG_FORMAT="json")
    asleep = "import time\nwhile True:\n    time.sleep(1)\n"  # ends at the wall clock, whatever the CPU load
    ids = [pipe.submit(SOLUTION, i) for i in range(3)] + [pipe.submit(asleep, 3)]
    pipe.wait_graded(ids, 180)
    scrape = subprocess.run(
        [sys.executable, "-c", "import sys; from grader.db import Database; from grader.metrics import exposition; "
                               "sys.stdout.write(exposition(Database(sys.argv[1])).decode())", pg_url],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}, capture_output=True, text=True, timeout=60)
    assert scrape.returncode == 0, scrape.stderr
    text = scrape.stdout
    assert 'grader_sandbox_outcomes_total{outcome="finished"} 3.0' in text
    assert 'grader_sandbox_outcomes_total{outcome="wall_limit"} 1.0' in text
    assert "grader_submit_to_graded_seconds_count 4.0" in text and "grader_sandbox_seconds_count 4.0" in text
    assert 'grader_reference_cache_total{result="hit"} 3.0' in text  # the first grading computed it
    assert 'grader_submissions{status="graded"} 4.0' in text
    lines = [json.loads(line) for line in worker.output().splitlines() if line.startswith("{")]
    graded = [line for line in lines if line.get("submission_id") in ids]
    assert graded and all(line["attempt"] == 1 for line in graded), worker.output()[-3000:]
    assert {line["submission_id"] for line in graded if "graded:" in line["message"]} == set(ids)
