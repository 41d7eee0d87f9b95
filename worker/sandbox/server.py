"""The fork server: a fresh interpreter that preloads torch through the harness, then forks one keeper per job.

Started by ForkServerSandbox as `python -I _server_main.py --control-fd N --harness PATH` with a scrubbed
environment and no fd but the control socket. It never runs a torch operation itself (thread pools do not
survive fork) and holds nothing secret: there is nothing in its memory a job could usefully read.
"""
from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import select
import signal
import socket
import traceback
from dataclasses import dataclass

from . import jobchild, namespaces, protocol, rootfs, seccomp, syscalls
from .base import Limits

HANDSHAKE_SECONDS = 10.0


def load_harness(path: str):
    """Import the harness from its file, never through a package that could reach the grader."""
    spec = importlib.util.spec_from_file_location("harness", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _status_field(name: str) -> str:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    return ""


def prepare(harness_path: str) -> jobchild.ServerContext:
    harness = load_harness(harness_path)
    harness.preload()
    if hasattr(harness, "warm_up"):  # what every job would import on its own, paid once here
        harness.warm_up()
    # Objects that exist now live as long as the server: keep them out of the collector's way, so a
    # job's garbage collections do not touch (and copy-on-write) every page the server holds.
    gc.collect()
    gc.freeze()
    layout = rootfs.default_layout(harness_path)
    return jobchild.ServerContext(
        harness=harness,
        layout=layout,
        syscall_filter=seccomp.build_filter(),
        last_cap=syscalls.last_capability(),
        server_pid=os.getpid(),
        privileged=os.geteuid() == 0,
    )


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


@dataclass
class SpareKeeper:
    """A keeper forked and put into its namespaces ahead of its job, so that the fork of this large process,
    unshare() and the id maps (several ms) are paid between jobs rather than while a submission waits."""

    pid: int
    uid: int
    channel: socket.socket

    def discard(self) -> None:
        self.channel.close()  # EOF: the keeper exits unused (and PDEATHSIG covers the server's own death)


def fork_keeper(ctx: jobchild.ServerContext, disk_mb: int) -> SpareKeeper:
    """Fork a keeper, map its uid from out here once it has unshared, and leave it waiting for a job (its
    init builds the root with tmpfs dirs of `disk_mb`, resized if the job asks for another size)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    sync_r, sync_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = None
    try:
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            jobchild.run_keeper(ctx, theirs.fileno(), sync_w, go_r, disk_mb)
        for fd in (sync_w, go_r):
            os.close(fd)
        sync_w = go_r = -1
        ready, _, _ = select.select([sync_r], [], [], HANDSHAKE_SECONDS)
        answer = os.read(sync_r, 4096) if ready else b"!no answer from the job's keeper"
        if answer != b"u":
            raise OSError(answer[1:].decode(errors="replace") or "keeper died")
        mapping = namespaces.id_map(pid)
        namespaces.write_id_maps(pid, mapping)
        os.write(go_w, b"g")
        keeper, pid = SpareKeeper(pid, mapping[-1][1], ours), None
        return keeper
    finally:
        theirs.close()
        for fd in (sync_r, sync_w, go_r, go_w):
            if fd >= 0:
                os.close(fd)
        if pid:  # failed after the fork: no half-made keeper stays behind
            _kill(pid)
            ours.close()


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def hand_over(keeper: SpareKeeper, request: dict, fds: list[int]) -> bool:
    """Give the job to a waiting keeper; True once it has forked the job's init."""
    try:
        keeper.channel.settimeout(HANDSHAKE_SECONDS)
        protocol.send(keeper.channel, request, fds)
        started = keeper.channel.recv(1) == jobchild.JOB_STARTED
    except (protocol.ConnectionClosed, OSError):
        started = False
    keeper.channel.close()
    if not started:
        _kill(keeper.pid)
    return started


def start_job(ctx: jobchild.ServerContext, spare: SpareKeeper | None, request: dict,
              fds: list[int]) -> tuple[dict, Limits | None]:
    """Hand the job to the spare keeper, or to a fresh one if the spare is gone (once). Returns the reply to
    the worker and the job's limits (None if the request had none that make sense). The spare is used up
    either way."""
    limits = None
    try:
        if len(fds) != len(jobchild.JobPipes.__dataclass_fields__):
            return {"ok": False, "error": f"expected 6 fds, got {len(fds)}"}, None
        limits = Limits(**request["limits"])  # a malformed request is refused here, not inside a keeper
        for _try in range(2):
            keeper, spare = spare or fork_keeper(ctx, limits.disk_mb), None
            if hand_over(keeper, request, fds):
                return {"ok": True, "pid": keeper.pid, "uid": keeper.uid}, limits
        return {"ok": False, "error": "the job's keeper died before starting it"}, limits
    except Exception as exc:  # noqa: BLE001 - reported to the worker, which decides
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}, limits
    finally:
        if spare is not None:
            spare.discard()
        for fd in fds:
            os.close(fd)


def _next_spare(ctx: jobchild.ServerContext, disk_mb: int) -> SpareKeeper | None:
    try:
        return fork_keeper(ctx, disk_mb)
    except Exception:  # noqa: BLE001 - the next job forks its own keeper and reports the failure
        return None


def serve(sock: socket.socket, ctx: jobchild.ServerContext) -> None:
    """Answer job requests until the worker closes the socket; reap keepers as they exit."""
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    disk_mb = Limits().disk_mb  # the next job's tmpfs size is guessed from the last one's
    spare = _next_spare(ctx, disk_mb)
    while True:
        ready, _, _ = select.select([sock, wake_r], [], [])
        if wake_r in ready:
            try:
                os.read(wake_r, 4096)
            except BlockingIOError:
                pass
        _reap()
        if sock in ready:
            try:
                request, fds = protocol.recv(sock)
            except protocol.ConnectionClosed:
                return
            reply, limits = start_job(ctx, spare, request, fds)
            spare = None
            if limits is not None:
                disk_mb = limits.disk_mb
            try:
                protocol.send(sock, reply)
            except protocol.ConnectionClosed:
                return
            spare = _next_spare(ctx, disk_mb)  # while the job runs, the next one's keeper gets ready


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--control-fd", type=int, required=True)
    parser.add_argument("--harness", required=True)
    args = parser.parse_args(argv)
    sock = socket.socket(fileno=args.control_fd)
    try:
        ctx = prepare(args.harness)
    except BaseException:  # noqa: BLE001 - the worker shows this to an operator
        protocol.send(sock, {"ready": False, "error": traceback.format_exc(limit=8)})
        return 1
    protocol.send(sock, {
        "ready": True,
        "pid": os.getpid(),
        "vm_kb": _status_field("VmSize"),
        "threads": len(os.listdir("/proc/self/task")),
    })
    serve(sock, ctx)
    return 0
