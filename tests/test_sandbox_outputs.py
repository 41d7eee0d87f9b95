"""Draining a job's pipes: caps, tails, the wall clock, and never blocking the writer."""
from __future__ import annotations

import os
import threading
import time

from worker.sandbox.outputs import CappedBuffer, drain, make_pipe


def test_a_capped_buffer_keeps_the_head_counts_the_rest_and_can_keep_a_tail():
    buffer = CappedBuffer(cap=4, tail_cap=3)
    for chunk in (b"ab", b"cdef", b"gh"):
        buffer.feed(chunk)
    assert bytes(buffer.data) == b"abcd" and bytes(buffer.tail) == b"fgh"
    assert buffer.total == 8 and buffer.truncated


def test_drain_reads_past_the_cap_so_the_writer_never_blocks():
    read_end, write_end = make_pipe()

    def flood() -> None:
        for _ in range(64):
            os.write(write_end, b"z" * (1 << 20))
        os.close(write_end)

    writer = threading.Thread(target=flood)
    writer.start()
    result = drain({"out": (read_end, 1000)}, wall_seconds=30, kill=lambda: None)
    writer.join(timeout=10)
    assert not writer.is_alive()
    assert result.buffers["out"].total == 64 << 20 and len(result.buffers["out"].data) == 1000
    assert not result.timed_out


def test_drain_calls_kill_once_at_the_deadline_and_gives_up_after_the_grace():
    read_end, write_end = make_pipe()
    kills = []
    started = time.monotonic()
    result = drain({"out": (read_end, 10)}, wall_seconds=0.2, kill=lambda: kills.append(1), grace_seconds=0.2)
    assert kills == [1] and result.timed_out and result.gave_up
    assert time.monotonic() - started < 0.4 + 5  # the deadline and the grace, plus a margin for a loaded machine
    os.close(write_end)
