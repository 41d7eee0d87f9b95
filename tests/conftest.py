"""Shared fixtures.

Sandbox: one fork server and one bwrap backend per session, both running tests/sandbox_fake_harness.py
(a stand-in for worker/harness.py whose behaviour the sandbox tests control).
"""
from __future__ import annotations

from pathlib import Path

import pytest

FAKE_HARNESS = Path(__file__).with_name("sandbox_fake_harness.py")


def _require_user_namespaces() -> None:
    from worker.sandbox import SandboxUnavailable, check_user_namespaces

    try:
        check_user_namespaces()
    except SandboxUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def fake_harness() -> Path:
    return FAKE_HARNESS


@pytest.fixture(scope="session")
def forkserver_sandbox():
    """A started fork server (it imports torch once: a second or two)."""
    _require_user_namespaces()
    from worker.sandbox.forkserver import ForkServerSandbox

    with ForkServerSandbox(FAKE_HARNESS) as sandbox:
        sandbox.start()
        yield sandbox


@pytest.fixture(scope="session")
def bwrap_sandbox():
    _require_user_namespaces()
    from worker.sandbox.bwrap import BwrapSandbox

    with BwrapSandbox(FAKE_HARNESS) as sandbox:
        yield sandbox
