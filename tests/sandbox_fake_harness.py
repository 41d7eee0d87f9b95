"""A stand-in harness for the sandbox tests: same three entry points as worker/harness.py, no grading.

It runs the job's source as __main__ in the working directory (with the outcome fd's number in the global
OUTCOME_FD) and writes {"status": ...} to the outcome fd, so that the tests control what runs inside.
"""
import json
import os
import sys
import traceback
import types


def preload() -> None:
    os.environ["MPLBACKEND"] = "Agg"
    import numpy  # noqa: F401
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import torch

    torch.set_num_threads(1)


def run_job(job: dict, outcome_fd: int):
    main = types.ModuleType("__main__")
    main.__file__ = os.path.abspath(job.get("filename", "submission.py"))
    sys.modules["__main__"] = main
    sys.argv = [main.__file__]
    main.OUTCOME_FD = outcome_fd
    status, detail = "ok", None
    try:
        exec(compile(job["source"], main.__file__, "exec"), main.__dict__)
    except SystemExit as exc:
        status, detail = "exit", str(exc.code)
    except BaseException as exc:  # noqa: BLE001
        traceback.print_exc()
        status, detail = "error", f"{type(exc).__name__}: {exc}"
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    try:
        os.write(outcome_fd, json.dumps({"status": status, "detail": detail}).encode())
        os.close(outcome_fd)
    except OSError:
        pass
    os._exit(0)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--outcome-fd":
        sys.exit("usage: sandbox_fake_harness.py --outcome-fd N")
    job = json.loads(sys.stdin.buffer.read())
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    run_job(job, int(sys.argv[2]))
