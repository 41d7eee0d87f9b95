"""The `grader` command as users run it: exit codes, the --json contract, folders, assignment checks."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from service_helpers import grader_in_process

ROOT = Path(__file__).resolve().parent.parent
GRADER = str(Path(sys.executable).with_name("grader"))
SOLUTION = ROOT / "assignments" / "backprop-linear" / "solution.py"


def grader_process(*args: str, cwd: Path = ROOT, timeout: int = 300) -> subprocess.CompletedProcess:
    """The installed console script in a process of its own."""
    return subprocess.run([GRADER, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def grader(sandbox):
    """The command in this process on the session's fork server (service_helpers.grader_in_process); the tests
    of the entry point itself (its JSON contract, its environment, a host without user namespaces) run
    grader_process."""
    def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
        return grader_in_process(*args, cwd=cwd, sandbox=sandbox)
    return run


def assert_no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout


def test_grade_json_follows_the_contract():
    proc = grader_process("grade", str(SOLUTION), "--assignment", "backprop-linear", "--json")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert {"assignment", "status", "score", "max_score", "checks", "diagnoses", "stdout"} <= set(out)
    assert out["assignment"] == "backprop-linear" and out["status"] == "graded"
    assert out["score"] == out["max_score"] == 100
    for check in out["checks"]:
        assert {"id", "kind", "passed", "points", "max_points", "message"} <= set(check)
        assert isinstance(check["message"], str) and check["message"]
    assert "after training" in out["stdout"]


def test_grade_prints_a_readable_report_and_exits_0_whatever_the_score(grader):
    mistake = ROOT / "assignments" / "backprop-linear" / "mistakes" / "no_zero_grad.py"
    proc = grader("grade", str(mistake), "--assignment", "backprop-linear")
    assert proc.returncode == 0
    assert "Score: 45.08 / 100" in proc.stdout  # the training (lr, epochs, data) is right; its .grad accumulates
    assert "never zeroed" in proc.stdout
    assert "FAIL  trace" in proc.stdout


def test_grade_a_folder_prints_one_json_object_per_file_with_its_path(grader, tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(SOLUTION, folder / "alice.py")
    (folder / "bob.py").write_text("import torch\nprint(1/0)\n")
    (folder / "notes.txt").write_text("not a script")
    proc = grader("grade", str(folder), "--assignment", "backprop-linear", "--json")
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in proc.stdout.strip().splitlines()]
    by_name = {Path(r["path"]).name: r for r in results}
    assert set(by_name) == {"alice.py", "bob.py"}
    assert by_name["alice.py"]["score"] == 100
    assert by_name["bob.py"]["checks"][0]["passed"] is False
    assert "ZeroDivisionError" in by_name["bob.py"]["checks"][0]["message"]


@pytest.mark.parametrize("args,needle", [
    (["grade", "x.py", "--assignment", "no-such-assignment"], "unknown assignment 'no-such-assignment'"),
    (["grade", "x.py", "--assignment", "../etc"], "not a valid assignment id"),
    (["grade", "missing.py", "--assignment", "backprop-linear"], "missing.py: cannot read"),
    (["grade", "--assignment", "backprop-linear"], "Missing argument"),
    (["grade", "x.py"], "Missing option '--assignment'"),
    (["grade", "x.py", "--assignment", "backprop-linear", "--sandbox", "vm"], "Invalid value for '--sandbox'"),
])
def test_usage_errors_exit_2_without_traceback(grader, args, needle):
    proc = grader(*args)
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert_no_traceback(proc)


def test_unreadable_file_among_good_ones_still_grades_the_rest_then_exits_2(grader, tmp_path):
    bad = tmp_path / "latin1.py"
    bad.write_bytes(b"# caf\xe9\nprint(1)\n")
    proc = grader("grade", str(SOLUTION), str(bad), "--assignment", "backprop-linear", "--json")
    assert proc.returncode == 2
    assert "not UTF-8" in proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[0])["score"] == 100


def test_assignments_check_passes_on_the_shipped_assignments(grader):
    proc = grader("assignments", "check", "assignments")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "backprop-quadratic: spec valid; solution checked; 13/13 mistakes caught" in proc.stdout
    assert "backprop-linear: spec valid; solution checked; 7/7 mistakes caught" in proc.stdout


def test_assignments_check_reports_a_broken_spec_with_file_line_and_field(grader, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(ROOT / "assignments" / "backprop-linear", folder)
    spec = folder / "assignment.yaml"
    text = spec.read_text().replace("id: backprop-linear", "id: broken").replace("lr: 0.01", "lr: fast")
    spec.write_text(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "lr: fast" in l)
    proc = grader("assignments", "check", str(tmp_path))
    assert proc.returncode == 1
    assert f"{spec}:{line}: training.lr: expected a number, got 'fast'" in proc.stderr
    assert_no_traceback(proc)


def test_assignments_check_says_a_broken_spec_in_the_language_asked_for(grader, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(ROOT / "assignments" / "backprop-linear", folder)
    spec = folder / "assignment.yaml"
    text = spec.read_text().replace("id: backprop-linear", "id: broken").replace("lr: 0.01", "lr: fast")
    spec.write_text(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "lr: fast" in l)
    proc = grader("assignments", "check", str(tmp_path), "--lang", "zh")
    assert proc.returncode == 1
    assert f"{spec}:{line}: training.lr: 应为数字，实际为 'fast'" in proc.stderr
    assert "expected a number" not in proc.stderr
    by_env = subprocess.run([GRADER, "assignments", "check", str(tmp_path)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, env={**os.environ, "GRADER_LANGUAGE": "zh"})
    assert by_env.returncode == 1 and f"{spec}:{line}: training.lr: 应为数字" in by_env.stderr
    assert_no_traceback(proc)


def test_grade_names_an_unknown_assignment_in_the_language_asked_for(grader):
    proc = grader("grade", str(SOLUTION), "--assignment", "no-such-thing", "--lang", "zh")
    assert proc.returncode == 2
    assert "未知的作业 'no-such-thing'（已有：" in proc.stderr and "backprop-linear" in proc.stderr
    assert "unknown assignment" not in proc.stderr


def test_assignments_check_catches_a_mistake_that_is_not_diagnosed(grader, tmp_path):
    folder = tmp_path / "backprop-linear"
    shutil.copytree(ROOT / "assignments" / "backprop-linear", folder)
    for p in (folder / "mistakes").glob("*.py"):
        p.unlink()
    (folder / "mistakes" / "actually_right.py").write_text("# expect: mistake.no_zero_grad\n" + SOLUTION.read_text())
    (folder / "mistakes" / "no_header.py").write_text(SOLUTION.read_text())
    proc = grader("assignments", "check", str(tmp_path))
    assert proc.returncode == 1
    assert "actually_right.py: It scored full marks, but it is a mistake (mistake.no_zero_grad)." in proc.stderr
    assert "no_header.py: Its first comment line must name the code it expects" in proc.stderr


def test_grade_with_the_bwrap_backend(grader):
    proc = grader("grade", str(SOLUTION), "--assignment", "backprop-linear", "--json", "--sandbox", "bwrap")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["score"] == 100


def test_fork_server_environment_holds_no_secret_of_the_caller():
    env = dict(os.environ, DATABASE_URL="postgresql://u:hunter2-secret@db/x", SECRET_KEY="hunter2-secret")
    source = "import os\nprint(sorted(os.environ.items()))\nprint(open('/proc/self/environ','rb').read())\n"
    script = ROOT / "tests" / "out"
    script.mkdir(exist_ok=True)
    path = script / "env_probe.py"
    path.write_text(source)
    proc = subprocess.run([GRADER, "grade", str(path), "--assignment", "backprop-linear", "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0
    out = json.loads(proc.stdout)
    assert "MPLBACKEND" in out["stdout"]  # the probe really printed the environment
    assert "hunter2" not in proc.stdout


def test_a_host_without_user_namespaces_gets_a_clear_error_naming_the_fallback():
    # Inside a user namespace of its own, the limit on user namespaces can be set to 0: the grader then
    # meets exactly what a host with user namespaces disabled gives it.
    if shutil.which("unshare") is None:
        pytest.skip("util-linux unshare is not installed")
    cmd = ["unshare", "-U", "-r", "sh", "-c",
           f"echo 0 > /proc/sys/user/max_user_namespaces && exec {GRADER} grade {SOLUTION} --assignment backprop-linear"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "user namespaces are disabled on this host" in proc.stderr
    assert "--sandbox docker" in proc.stderr
    assert_no_traceback(proc)


def test_grade_takes_the_assignment_s_folder_or_spec_file_as_well_as_its_id(grader, tmp_path):
    folder = ROOT / "assignments" / "backprop-linear"
    for given in (str(folder), "assignments/backprop-linear", str(folder / "assignment.yaml")):
        proc = grader("grade", str(SOLUTION), "--assignment", given, "--json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["score"] == 100
    (tmp_path / "empty").mkdir()  # a folder without a spec is an unknown id, said as one
    proc = grader("grade", str(SOLUTION), "--assignment", str(tmp_path / "empty"))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "not a valid assignment id" in proc.stderr and "backprop-linear" in proc.stderr
