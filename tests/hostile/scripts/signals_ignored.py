# Attack: ignore every catchable signal (SIGTERM, SIGINT, SIGHUP, SIGQUIT, ...), stop a child, then loop.
import os
import signal

for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGALRM,
            signal.SIGXCPU, signal.SIGPIPE, signal.SIGTSTP, signal.SIGCONT):
    signal.signal(sig, signal.SIG_IGN)
if os.fork() == 0:
    os.kill(os.getpid(), signal.SIGSTOP)  # a stopped process holding the job's pipes open
    while True:
        pass
os.kill(os.getpid(), signal.SIGSTOP)  # PID 1 of its namespace: ignored
print("still running after SIGSTOP", flush=True)
while True:
    pass
