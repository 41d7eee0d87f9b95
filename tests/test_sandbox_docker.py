"""The docker backend's command line and outcome framing (there is no docker engine here)."""
from __future__ import annotations

import pytest

from worker.sandbox import Job, Limits
from worker.sandbox.docker import DEFAULT_IMAGE, IMAGE_ENV, DockerSandbox, split_outcome


def option_values(command: list[str], option: str) -> list[str]:
    return [command[i + 1] for i, arg in enumerate(command) if arg == option]


@pytest.fixture
def command(monkeypatch):
    monkeypatch.delenv(IMAGE_ENV, raising=False)
    limits = Limits(memory_mb=512, processes=32, disk_mb=8, cpu_seconds=15)
    return DockerSandbox().command(Job("print(1)", {}), limits, container="bpg-job-test", boundary="--B--")


def test_the_container_has_no_network_no_capabilities_and_a_read_only_root(command):
    assert command[:4] == ["docker", "run", "--rm", "-i"]
    assert option_values(command, "--network") == ["none"]
    assert "--read-only" in command
    assert option_values(command, "--cap-drop") == ["ALL"]
    assert option_values(command, "--security-opt") == ["no-new-privileges"]
    assert option_values(command, "--user") == ["1000:1000"]
    assert option_values(command, "--pull") == ["never"]
    assert option_values(command, "--log-driver") == ["none"]  # student output never lands on the host disk


def test_the_limits_are_written_out(command):
    assert option_values(command, "--pids-limit") == ["32"]
    # memory and memory+swap equal: no swap; memory_mb on top of the runtime's resident size
    assert option_values(command, "--memory") == option_values(command, "--memory-swap") == ["1024m"]
    assert option_values(command, "--cpus") == ["1"]
    assert "cpu=15:17" in option_values(command, "--ulimit")  # SIGXCPU at 15 s for the harness, SIGKILL at 17
    assert "core=0:0" in option_values(command, "--ulimit")
    tmpfs = option_values(command, "--tmpfs")
    assert "/home/student:size=8m,exec,mode=0755,uid=1000,gid=1000" in tmpfs
    assert "/tmp:size=8m" in tmpfs
    assert option_values(command, "--workdir") == ["/home/student"]


def test_the_image_comes_from_the_environment_or_the_default(monkeypatch, command):
    assert DEFAULT_IMAGE in command
    monkeypatch.setenv(IMAGE_ENV, "registry.example/grader:7")
    other = DockerSandbox().command(Job("x", {}), Limits())
    assert "registry.example/grader:7" in other and DEFAULT_IMAGE not in other


def test_the_harness_runs_with_its_outcome_framed_after_the_boundary(command):
    image_at = command.index(DEFAULT_IMAGE)
    shell, flag, script, boundary = command[image_at + 1:]
    assert (shell, flag, boundary) == ("/bin/sh", "-c", "--B--")
    assert "python -I -u /opt/harness/harness.py --outcome-fd 3" in script
    assert 'printf "\\n%s\\n" "$0"' in script


def test_the_environment_is_the_fixed_job_environment(command):
    env = dict(value.split("=", 1) for value in option_values(command, "--env"))
    assert env["HOME"] == "/home/student" and env["MPLBACKEND"] == "Agg"
    assert not any("SECRET" in key or "DATABASE" in key for key in env)


def test_split_outcome_takes_the_last_boundary():
    stdout = b"hello\n\n--B--\nfake\nmore\n\n--B--\n{\"status\": \"ok\"}"
    assert split_outcome(stdout, "--B--") == (b"hello\n\n--B--\nfake\nmore\n", b'{"status": "ok"}')
    assert split_outcome(b"no frame", "--B--") == (b"no frame", None)


def test_each_job_gets_its_own_container_name_and_boundary():
    sandbox = DockerSandbox(image="img")
    first, second = (sandbox.command(Job("x", {}), Limits()) for _ in range(2))
    assert first[first.index("--name") + 1] != second[second.index("--name") + 1]
    assert first[-1] != second[-1]
