"""Reading a job's pipes to the end: capped buffers, a wall clock, and no way for the job to block us or itself.

Past its cap a stream is still read and thrown away, so a job that prints forever never blocks on a full
pipe (it would then look hung and its last output would be lost); after a kill the pipes are read until
every writer is gone, so nothing deadlocks either.
"""
from __future__ import annotations

import codecs
import fcntl
import os
import select
import time
from dataclasses import dataclass, field
from typing import Callable

_CHUNK = 1 << 16  # below malloc's mmap threshold: a 1 MiB read buffer costs an mmap per small read
_F_SETPIPE_SZ = 1031
_PIPE_SIZE = 1 << 20


@dataclass
class CappedBuffer:
    """Keeps the first `cap` bytes of a stream (and, if asked, its last `tail_cap`) and counts the rest."""

    cap: int
    tail_cap: int = 0
    data: bytearray = field(default_factory=bytearray)
    tail: bytearray = field(default_factory=bytearray)
    total: int = 0

    def feed(self, chunk: bytes) -> None:
        room = self.cap - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        self.total += len(chunk)
        if self.tail_cap:
            self.tail += chunk[-self.tail_cap:]
            del self.tail[:-self.tail_cap]

    @property
    def truncated(self) -> bool:
        return self.total > len(self.data)

    def text(self) -> str:
        return decode_head(bytes(self.data), cut=self.truncated)


def decode_head(data: bytes, cut: bool) -> str:
    """The first bytes of a stream as text, bad bytes as U+FFFD. When the stream was `cut`, the cap may have
    fallen inside a multi-byte character (any CJK print): its first bytes are dropped, not shown as U+FFFD."""
    return codecs.getincrementaldecoder("utf-8")(errors="replace").decode(data, final=not cut)


def make_pipe() -> tuple[int, int]:
    """A close-on-exec pipe with a 1 MiB buffer (fewer wake-ups while draining a flood)."""
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    try:
        fcntl.fcntl(write_end, _F_SETPIPE_SZ, _PIPE_SIZE)
    except OSError:
        pass  # /proc/sys/fs/pipe-max-size may be lower; the default size works too
    return read_end, write_end


@dataclass
class Drained:
    buffers: dict[str, CappedBuffer]
    timed_out: bool
    gave_up: bool  # some pipe still had a writer after the kill and the grace period


def drain(
    streams: dict[str, tuple[int, int] | tuple[int, int, int]],
    *,
    wall_seconds: float,
    kill: Callable[[], None],
    grace_seconds: float = 10.0,
    finished: Callable[[dict[str, CappedBuffer], set[str]], bool] | None = None,
) -> Drained:
    """Read every (fd, cap[, tail_cap]) stream to end of file; call `kill` once if the wall clock runs out.

    Closes the fds. Returns when all streams are at EOF, or `grace_seconds` after the kill, or as soon as
    `finished(buffers, names of the streams still open)` says nothing more is needed.
    """
    buffers = {name: CappedBuffer(*spec[1:]) for name, spec in streams.items()}
    names = {spec[0]: name for name, spec in streams.items()}
    poller = select.poll()
    for fd in names:
        poller.register(fd, select.POLLIN)
    deadline = time.monotonic() + wall_seconds
    timed_out = gave_up = False
    try:
        while names:
            now = time.monotonic()
            if now >= deadline:
                if timed_out:
                    gave_up = True
                    break
                timed_out = True
                kill()
                deadline = now + grace_seconds
                continue
            for fd, _event in poller.poll(max(1, int((deadline - now) * 1000) + 1)):
                chunk = os.read(fd, _CHUNK)
                if chunk:
                    buffers[names[fd]].feed(chunk)
                else:
                    poller.unregister(fd)
                    os.close(fd)
                    del names[fd]
            if finished is not None and names and finished(buffers, set(names.values())):
                break
    finally:
        for fd in names:
            os.close(fd)
    return Drained(buffers, timed_out, gave_up)
