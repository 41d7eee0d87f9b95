"""Length-prefixed JSON messages over the worker ↔ fork-server Unix socket, with file descriptors attached."""
from __future__ import annotations

import json
import os
import socket
import struct

MAX_MESSAGE = 64 * 1024 * 1024  # a job's source and plan; far above any real homework
MAX_FDS = 8
_HEADER = struct.Struct("!I")


class ConnectionClosed(ConnectionError):
    """The other end of the control socket is gone."""


def send(sock: socket.socket, message: dict, fds: list[int] | tuple[int, ...] = ()) -> None:
    payload = json.dumps(message, separators=(",", ":")).encode()
    header = _HEADER.pack(len(payload))
    try:
        # The fds ride on the 4-byte header; the payload follows as plain stream data.
        if fds:
            socket.send_fds(sock, [header], list(fds))
        else:
            sock.sendall(header)
        sock.sendall(payload)
    except (BrokenPipeError, ConnectionResetError) as exc:
        raise ConnectionClosed(str(exc)) from exc


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise ConnectionClosed("control socket closed mid-message")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def recv(sock: socket.socket) -> tuple[dict, list[int]]:
    """One message and the fds sent with it; raises ConnectionClosed at end of stream."""
    try:
        data, fds, _flags, _addr = socket.recv_fds(sock, _HEADER.size, MAX_FDS)
    except ConnectionResetError as exc:
        raise ConnectionClosed(str(exc)) from exc
    if not data:
        raise ConnectionClosed("control socket closed")
    if len(data) < _HEADER.size:
        data += _recv_exactly(sock, _HEADER.size - len(data))
    (size,) = _HEADER.unpack(data)
    if size > MAX_MESSAGE:
        for fd in fds:
            _close_quietly(fd)
        raise ConnectionClosed(f"message of {size} bytes is over the limit")
    return json.loads(_recv_exactly(sock, size)), list(fds)


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
