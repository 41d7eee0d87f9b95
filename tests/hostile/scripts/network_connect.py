# Attack: network. Connect over TCP and send UDP to listeners the worker opened on 127.0.0.1, and to the
# host's other addresses; then train normally.
import socket

for family, kind, addr in ((socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", int("__PORT__"))),
                           (socket.AF_INET6, socket.SOCK_STREAM, ("::1", int("__PORT__"))),
                           (socket.AF_INET, socket.SOCK_STREAM, ("10.0.2.2", 80)),
                           (socket.AF_INET, socket.SOCK_STREAM, ("1.1.1.1", 443))):
    try:
        s = socket.socket(family, kind)
        s.settimeout(0.5)
        s.connect(addr)
        s.sendall(b"__MARKER__")
        print("CONNECTED", addr, flush=True)
    except OSError as exc:
        print("BLOCKED connect", addr, exc.errno, flush=True)
try:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"__MARKER__", ("127.0.0.1", int("__UDP_PORT__")))
    print("SENT udp", flush=True)
except OSError as exc:
    print("BLOCKED udp", exc.errno, flush=True)
try:
    print("interfaces", socket.if_nameindex(), flush=True)
except OSError as exc:
    print("no interfaces", exc, flush=True)
#@train
