# Attack: DNS. Resolve names through the system resolver and send a raw DNS query to the worker's UDP
# listener on 127.0.0.1; then train normally.
import socket
import struct

for name in ("example.com", "pypi.org", "localhost", "__MARKER__.example.com"):
    try:
        print("RESOLVED", name, socket.getaddrinfo(name, 80), flush=True)
    except OSError as exc:
        print("BLOCKED dns", name, type(exc).__name__, flush=True)
query = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"\x07example\x03com\x00" + struct.pack("!HH", 1, 1)
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    s.sendto(query + b"__MARKER__", ("127.0.0.1", int("__UDP_PORT__")))
    print("ANSWER", s.recv(512), flush=True)
except OSError as exc:
    print("BLOCKED raw dns", type(exc).__name__, flush=True)
for path in ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf"):
    print("EXISTS" if __import__("os").path.exists(path) else "ABSENT", path, flush=True)
#@train
