"""Helpers shared by the sandbox tests."""
from __future__ import annotations

from worker.sandbox import HARNESS_PATH
from worker.sandbox.rootfs import default_layout


def bind_entries_under(directory: str) -> list[str]:
    """Names the job sees in one of its tmpfs dirs: the first step of each bind that lies below it
    (a clone under /tmp has its venv bound there)."""
    layout = default_layout(HARNESS_PATH)
    prefix = directory.rstrip("/") + "/"
    return sorted({inside[len(prefix):].split("/")[0] for _, inside in layout.ro_binds if inside.startswith(prefix)})


def bind_entries_under_root() -> set[str]:
    """Top-level names the job sees: the first step of every bind and link (a clone under /check shows
    'check')."""
    layout = default_layout(HARNESS_PATH)
    insides = [inside for _, inside in layout.ro_binds] + [inside for _, inside in layout.symlinks]
    return {inside.strip("/").split("/")[0] for inside in insides}
