"""Sandboxes that run student code, behind one interface: pick a backend with get_sandbox(name).

Backends: "forkserver" (default on Linux: a warm, torch-loaded fork server; each job in fresh namespaces),
"bwrap" (a fresh bubblewrap process per job: the cold baseline), "docker" (a container per job, for
hosts without user namespaces).
"""
from __future__ import annotations

from .base import HARNESS_PATH, Job, Limits, Sandbox, SandboxResult, SandboxUnavailable
from .namespaces import user_namespace_error

BACKENDS = ("forkserver", "bwrap", "docker")

__all__ = ["BACKENDS", "HARNESS_PATH", "Job", "Limits", "Sandbox", "SandboxResult", "SandboxUnavailable",
           "check_user_namespaces", "get_sandbox"]


def check_user_namespaces() -> None:
    """Raise SandboxUnavailable, naming the fallback, if this host cannot create user namespaces."""
    error = user_namespace_error()
    if error:
        raise SandboxUnavailable(f"user namespaces are disabled on this host ({error}); use --sandbox docker")


def get_sandbox(name: str = "forkserver", **options) -> Sandbox:
    """A new backend by name; options go to its constructor (e.g. harness_path, image)."""
    # Backends are imported on demand: the namespace ones need libseccomp, which a docker-only host may lack.
    if name == "forkserver":
        check_user_namespaces()
        from .forkserver import ForkServerSandbox

        return ForkServerSandbox(**options)
    if name == "bwrap":
        check_user_namespaces()
        from .bwrap import BwrapSandbox

        return BwrapSandbox(**options)
    if name == "docker":
        from .docker import DockerSandbox

        return DockerSandbox(**options)
    raise ValueError(f"unknown sandbox {name!r}; choose one of {', '.join(BACKENDS)}")
