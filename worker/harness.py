"""Runs INSIDE the sandbox: executes a student's script, records every gradient, reports one JSON outcome.

Loaded by file path (never through the `worker` or `grader` packages) so that nothing able to reach a
secret is ever imported here. Only stdlib, torch, numpy and matplotlib. The student's code shares this
process and can forge anything written here; that is harmless because no reference value ever enters
the sandbox and every judgement is made outside it.

Entry points:
  preload()                     import the heavy libraries once, before the fork server forks
  run_job(job, outcome_fd)      run one job (job = {"source", "filename", "plan"}); never returns
  python harness.py --outcome-fd N   the same, reading the job JSON from stdin (fresh-process backends)

The plan (built by grader.plan) names what to look at:
  {"params": ["w1", "w2", "b"], "forward": "forward", "loss": "loss",
   "predict_inputs": [4.0], "probes": [{"params": {"w1": 0.3, ...}, "x": 1.0, "y": 2.0}],
   "max_trace_steps": 20000, "max_tensor_elements": 4096, "seed": null,
   "data_x": [1.0, 2.0, 3.0]}        # the assignment's x: each step's batch is matched to its rows
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
import traceback
import types

OUTCOME_VERSION = 1
# The trace stops growing at about this many bytes of JSON (a float takes at most ~24 characters), well
# under the worker's cap on the whole outcome (4 MiB): a script that calls backward() 60,000 times on three
# parameters would otherwise lose its whole report, not just the steps no reference has.
TRACE_BUDGET_BYTES = 2 * 1024 * 1024
# Recording stops (calls are still counted) after this much time spent on it: a large model's sketches
# must not turn a 10-second script into a time-out.
RECORD_SECONDS = 3.0
DEFAULT_SEED = 0  # torch, numpy and random are seeded with this when the spec names no seed
SKETCH_SIZE = 8  # projections recorded for a tensor too large to record whole
SKETCH_MAX_ELEMENTS = 1 << 22  # beyond this, its norm alone
MAX_BATCH_CANDIDATES = 3  # variables that could be a step's batch, recorded per step
MAX_BATCH_ELEMENTS = 1 << 20  # a variable larger than this is not looked at as a batch
MAX_SCOPE_NAMES = 400  # names looked at per scope when looking for a step's batch
MAX_RUNS = 1000  # training runs counted separately; calls beyond belong to the last

# The originals, captured before any student code can monkey-patch them.
_os_write = os.write
_os_close = os.close
_os_exit = os._exit
_json_dumps = json.dumps
_isfinite = math.isfinite
_clock = time.perf_counter


def preload() -> None:
    """Import what every job needs, so each forked job starts warm. Runs no torch operation."""
    os.environ["MPLBACKEND"] = "Agg"
    import numpy  # noqa: F401
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot

    matplotlib.pyplot.switch_backend = _headless_switch_backend(matplotlib.pyplot.switch_backend)
    import torch

    torch.set_num_threads(1)
    _EXACT_INTS.update({torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8})


def _headless_switch_backend(switch):
    """pyplot.switch_backend that stays on Agg when a GUI backend cannot load: the sandbox has no display,
    and a script that picks one for its plots (`matplotlib.use("TkAgg")`) must not fail for it."""

    def switch_backend(newbackend):
        try:
            switch(newbackend)
        except ImportError:
            switch("agg")

    return switch_backend


# ---------------------------------------------------------------------------------------------
# Values → JSON-able data


def _number(value) -> float | None:
    """A float for JSON; non-finite values become the strings 'nan', 'inf', '-inf'."""
    f = float(value)
    if _isfinite(f):
        return f
    return "nan" if f != f else ("inf" if f > 0 else "-inf")


_DTYPE_NAMES: dict = {}
_EXACT_INTS: set = set()  # filled by preload(): integer dtypes whose .tolist() gives numbers


def _tensor_data(t, max_elements: int) -> dict:
    """{"shape", "data" (flat floats), "dtype"} of a tensor, or its shape alone when too big.

    Called twice per parameter per backward(), so it does as few torch calls as it can; non-finite
    values pass through as JSON NaN/Infinity, which the grader's parser accepts.
    """
    dtype = t.dtype
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype).replace("torch.", "")
    out = {"shape": list(t.shape), "dtype": name}
    if t.numel() > max_elements:
        out["data"] = None
        out["too_large"] = True
        return out
    if t.is_complex() or not (t.is_floating_point() or dtype in _EXACT_INTS):
        t = t.real.double() if t.is_complex() else t.double()
    ndim = t.dim()
    out["data"] = [t.item()] if ndim == 0 else (t.tolist() if ndim == 1 else t.reshape(-1).tolist())
    return out


def describe_value(value, max_elements: int) -> dict:
    """What a name in the script holds: a tensor (with leaf status), a number, or something else."""
    import torch

    if isinstance(value, torch.Tensor):
        info = _tensor_data(value, max_elements)
        info.update(kind="tensor", is_leaf=bool(value.is_leaf), requires_grad=bool(value.requires_grad))
        return info
    if isinstance(value, bool):
        return {"kind": "other", "type": "bool"}
    if isinstance(value, (int, float)):
        return {"kind": "number", "shape": [], "data": [_number(value)]}
    return {"kind": "other", "type": type(value).__name__}


def _as_float(value):
    """A forward() result as plain data: tensors and numbers both accepted."""
    import torch

    if isinstance(value, torch.Tensor):
        return _tensor_data(value, 1 << 16)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"shape": [], "data": [_number(value)]}
    raise TypeError(f"forward returned {type(value).__name__}, not a tensor or a number")


# ---------------------------------------------------------------------------------------------
# Finding names and tensors in the student's script


def resolve_path(namespace: dict, path: str):
    """Look up 'w' or 'model.linear.weight' in the script's globals. Raises LookupError when absent.

    A plain name the globals lack may live one level down, in the one object that holds it
    (`model = Model()` with `self.w1 = torch.tensor(...)`): students write both styles.
    """
    head, *rest = path.split(".")
    if head not in namespace:
        if rest:
            raise LookupError(path)
        return _held_by_one_object(namespace, head)
    value = namespace[head]
    for part in rest:
        # getattr on student objects may run student code (properties); that is fine in here.
        try:
            value = getattr(value, part)
        except Exception:
            raise LookupError(path) from None
    return value


def _held_by_one_object(namespace: dict, name: str):
    """The tensor called `name` inside exactly one global object (its __dict__ or nn.Module parameters)."""
    import torch

    found = []
    for value in list(namespace.values()):
        if isinstance(value, (type, types.ModuleType, types.FunctionType)) or value is None:
            continue
        attrs = getattr(value, "__dict__", None)
        if not isinstance(attrs, dict):
            continue
        candidate = attrs.get(name)
        if candidate is None and isinstance(value, torch.nn.Module):
            candidate = value._parameters.get(name)
        if isinstance(candidate, torch.Tensor) and all(candidate is not f for f in found):
            found.append(candidate)
    if len(found) != 1:
        raise LookupError(name)
    return found[0]


class LeafNamer:
    """Names the leaf tensors a backward() reached, by what the script calls them right now."""

    def __init__(self, namespace: dict, wanted: list[str]):
        self.namespace = namespace
        self.wanted = wanted

    def names_for(self, leaves: list, frame) -> dict[int, str]:
        import torch

        names: dict[int, str] = {}
        ids = {id(t) for t in leaves}
        for path in self.wanted:  # the spec's names win
            try:
                value = resolve_path(self.namespace, path)
            except LookupError:
                continue
            if isinstance(value, torch.Tensor) and id(value) in ids:
                names.setdefault(id(value), path)
        if len(names) < len(ids):  # the common case, every leaf a named parameter, stops here
            self._scan(self.namespace, ids, names)
        while frame is not None and len(names) < len(ids):  # training inside a function
            self._scan(frame.f_locals, ids, names)
            frame = frame.f_back
        return names

    @staticmethod
    def _scan(scope: dict, ids: set[int], names: dict[int, str]) -> None:
        import torch

        for key, value in list(scope.items()):
            if isinstance(value, torch.Tensor):
                if id(value) in ids:
                    names.setdefault(id(value), key)
            elif isinstance(value, torch.nn.Module):
                for pname, p in value.named_parameters():
                    if id(p) in ids:
                        names.setdefault(id(p), f"{key}.{pname}")


# node type -> whether it accumulates into a leaf (has .variable); asking a node that has none raises
# inside getattr, which costs more than the rest of the walk
_ACCUMULATES: dict[type, bool] = {}


def reachable_leaves(tensors) -> list:
    """Leaf tensors that a backward() from `tensors` accumulates into (AccumulateGrad nodes), in the
    order first reached. Runs at every backward(): kept to plain set and list operations."""
    leaves, seen_leaves = [], set()
    seen, stack = set(), []
    for t in tensors:
        if t.grad_fn is not None:
            stack.append(t.grad_fn)
        elif t.requires_grad and id(t) not in seen_leaves:
            seen_leaves.add(id(t))
            leaves.append(t)
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        kind = type(fn)
        accumulates = _ACCUMULATES.get(kind)
        if accumulates is None:
            accumulates = _ACCUMULATES[kind] = hasattr(fn, "variable")
        if accumulates:
            variable = fn.variable
            if id(variable) not in seen_leaves:
                seen_leaves.add(id(variable))
                leaves.append(variable)
            continue
        stack.extend([child for child, _ in fn.next_functions if child is not None])
    return leaves


def _sketch(t) -> dict:
    """A tensor too large to record, as its norm and SKETCH_SIZE fixed random ±1 projections.

    The signs come from a hash of (element index, projection) that numpy recomputes exactly outside
    (grader.sketch); projections are linear, so an SGD update is still visible in them."""
    import torch

    flat = t.detach().reshape(-1).double()
    n = flat.numel()
    out = {"norm": _number(torch.linalg.vector_norm(flat).item())}
    if n <= SKETCH_MAX_ELEMENTS:
        index = torch.arange(n, dtype=torch.int64)
        out["sketch"] = [_number((flat * _signs(index, j)).sum().item()) for j in range(SKETCH_SIZE)]
    return out


def _signs(index, j: int):
    """±1.0 per element: bit 16 of a multiplicative hash of index and j (the same formula as grader.sketch)."""
    h = (index * 2654435761 + (j + 1) * 40503) % 4294967296
    return ((h >> 16) & 1).double() * 2.0 - 1.0


class BatchFinder:
    """Which of the assignment's samples a backward() trained on: the script's variables at that moment
    whose rows are all rows of the data set's x (float32-equal), as candidates the grader tries in turn.

    A variable can look like a batch without being one (the whole data set beside the loop's sample, a y
    that equals some x): the grader keeps the candidate at which the reference gradient matches."""

    def __init__(self, data_x, filename: str):
        import torch

        rows = torch.tensor(data_x, dtype=torch.float32)
        self.samples = int(rows.shape[0])
        self.row_shape = tuple(rows.shape[1:])
        self.row_size = max(1, int(rows[0].numel()))
        self.index: dict[tuple, int] = {}
        for i, row in enumerate(rows.reshape(self.samples, self.row_size).tolist()):
            self.index.setdefault(tuple(row), i)
        self.filename = filename

    def find(self, frame) -> tuple[list[dict], dict | None]:
        """(candidates: {"rows": [[start, stop], ...], "single": bool}, smallest first; the largest
        variable shaped like samples whose rows are not all the assignment's: {"size", "matched"})."""
        seen, found, partial = set(), [], None
        for scope in self._scopes(frame):
            for value in list(scope.values())[:MAX_SCOPE_NAMES]:
                if id(value) in seen:
                    continue
                seen.add(id(value))
                rows = self._rows_of(value)
                if rows is None:
                    continue
                indices, single = rows
                matched = sum(i is not None for i in indices)
                if matched == len(indices):
                    found.append((len(indices), single, indices))
                elif len(indices) > 1 and (partial is None or len(indices) > partial["size"]):
                    partial = {"size": len(indices), "matched": matched}
        found.sort(key=lambda item: item[0])
        candidates, kept = [], set()
        for _, single, indices in found:
            key = (single, tuple(indices))
            if key not in kept and len(candidates) < MAX_BATCH_CANDIDATES:
                kept.add(key)
                candidates.append({"rows": _ranges(indices), "single": single})
        return candidates, (None if candidates else partial)

    def _scopes(self, frame):
        """The student's own frames, innermost first (training inside a function), ending at the module."""
        while frame is not None:
            if frame.f_code.co_filename == self.filename:
                yield frame.f_locals
            frame = frame.f_back

    def _rows_of(self, value):
        """(each row's index in the data set or None, whether the value is one sample without a batch axis)."""
        import torch

        if isinstance(value, bool) or isinstance(value, (type, types.ModuleType, types.FunctionType)):
            return None
        if isinstance(value, (int, float)):
            if self.row_size != 1:
                return None
            return [self.index.get((float(_float32(value)),))], True
        if isinstance(value, torch.Tensor):
            if value.requires_grad or value.is_complex() or not (value.is_floating_point() or value.dtype in _EXACT_INTS):
                return None
            tensor = value
        elif isinstance(value, (list, tuple)) or hasattr(value, "__array_interface__"):
            if isinstance(value, (list, tuple)) and (not value or len(value) > self.samples * 4):
                return None
            try:
                tensor = torch.as_tensor(value, dtype=torch.float32)
            except Exception:
                return None
        else:
            return None
        n = tensor.numel()
        if n == 0 or n % self.row_size or n > MAX_BATCH_ELEMENTS:
            return None
        single = tuple(tensor.shape) == self.row_shape or (self.row_size == 1 and tensor.dim() == 0)
        if not single and (tensor.dim() == 0 or tensor[0].numel() != self.row_size):
            return None
        flat = tensor.detach().reshape(-1, self.row_size).float().tolist()
        index = self.index
        return [index.get(tuple(row)) for row in flat], single


def _float32(value: float) -> float:
    import numpy

    try:
        return float(numpy.float32(value))
    except OverflowError:
        return math.inf


def _ranges(indices: list[int]) -> list[list[int]]:
    """Row indices in their order as [start, stop) runs: a whole data set in order is one pair."""
    out: list[list[int]] = []
    for i in indices:
        if out and out[-1][1] == i:
            out[-1][1] = i + 1
        else:
            out.append([i, i + 1])
    return out


class GradientRecorder:
    """Wraps torch.autograd.backward. Per call (up to the bounds; every call is counted): the leaves it
    reaches, their values before the call (before the update that follows), their .grad after it, the loss,
    which samples the batch held (BatchFinder) and the training run it belongs to. A call that reaches none of
    the leaves the previous call reached starts a new run (a second model or fresh parameters)."""

    def __init__(self, namer: LeafNamer, max_steps: int, max_elements: int, batches: BatchFinder | None = None):
        self.namer = namer
        self.max_steps = max_steps
        self.max_elements = max_elements
        self.batches = batches
        self.steps: list[dict] = []
        self.calls = 0
        self.runs: list[int] = []  # backward() calls per training run, exact beyond the recorded steps
        self.trace_bytes = 0  # estimated JSON size of self.steps
        self.truncated = False  # some call went unrecorded for lack of room
        self.enabled = True
        self.errors: list[str] = []
        self.seconds = 0.0  # spent recording; beyond RECORD_SECONDS calls are only counted
        self._previous: list = []  # the last call's leaves, held so that their ids cannot be reused
        self._previous_ids: set[int] = set()

    def install(self) -> None:
        import torch

        original = torch.autograd.backward
        recorder = self

        def backward(tensors, *args, **kwargs):
            if not recorder.enabled:
                return original(tensors, *args, **kwargs)
            recorder.calls += 1
            started = _clock()
            before = None
            try:
                before = recorder._before(tensors)
            except Exception as exc:  # never let recording break the student's run
                recorder.errors.append(f"{type(exc).__name__}: {exc}")
            recorder.seconds += _clock() - started
            result = original(tensors, *args, **kwargs)
            if before is not None:
                started = _clock()
                try:
                    recorder._after(*before)
                except Exception as exc:
                    recorder.errors.append(f"{type(exc).__name__}: {exc}")
                recorder.seconds += _clock() - started
            return result

        backward.__wrapped__ = original
        torch.autograd.backward = backward

    def _count_run(self, leaves: list) -> None:
        ids = {id(t) for t in leaves}
        if not self.runs or (ids and self._previous_ids and not ids & self._previous_ids):
            if len(self.runs) < MAX_RUNS:
                self.runs.append(0)
        self.runs[-1] += 1
        if ids:
            self._previous, self._previous_ids = leaves, ids

    def _before(self, tensors):
        import torch

        if isinstance(tensors, torch.Tensor):
            tensors = [tensors]
        tensors = list(tensors)
        leaves = reachable_leaves(tensors)
        self._count_run(leaves)
        record = (self.calls <= self.max_steps and self.trace_bytes < TRACE_BUDGET_BYTES
                  and self.seconds < RECORD_SECONDS)
        if not record:
            self.truncated = True
            return None
        frame = sys._getframe(2)
        names = self.namer.names_for(leaves, frame)
        values = {names.get(id(leaf), f"?{i}"): self._data(leaf) for i, leaf in enumerate(leaves)}
        loss = None
        if len(tensors) == 1 and tensors[0].numel() == 1:
            loss = _number(tensors[0].item())  # item() reads any one-element tensor, grad or not
        step = {"values": values, "loss": loss, "run": len(self.runs) - 1}
        if self.batches is not None:
            candidates, partial = self.batches.find(frame)
            step["batch"] = candidates
            if partial is not None:
                step["unmatched"] = partial
        return leaves, names, step

    def _data(self, t) -> dict:
        data = _tensor_data(t, self.max_elements)
        if data.get("too_large"):
            data.update(_sketch(t))
        return data

    def _after(self, leaves, names, step) -> None:
        grads = {}
        for i, leaf in enumerate(leaves):
            grad = leaf.grad
            grads[names.get(id(leaf), f"?{i}")] = None if grad is None else self._data(grad)
        step["grads"] = grads
        self.steps.append(step)
        batch_bytes = sum(16 + 20 * len(c["rows"]) for c in step.get("batch", ()))
        self.trace_bytes += 60 + batch_bytes + sum(
            48 + len(name) + 24 * (len(d.get("data") or ()) + len(d.get("sketch") or ()))
            for part in (step["values"], grads) for name, d in part.items() if d is not None)


# ---------------------------------------------------------------------------------------------
# Running the script


def _student_error(exc: BaseException, filename: str) -> dict:
    """Type, message and the line in the student's file where an exception surfaced."""
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        return {
            "type": type(exc).__name__,
            "message": str(exc.msg),
            "line": exc.lineno,
            "column": exc.offset,
            "text": (exc.text or "").rstrip("\n")[:500],
        }
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    lines = traceback.format_exception_only(type(exc), exc)
    shown = "".join(traceback.format_list(frames[-8:])) + "".join(lines)
    error = {
        "type": type(exc).__name__,
        "message": str(exc)[:2000],
        "line": frames[-1].lineno if frames else None,
        "traceback": shown[-6000:],
        "frames": [{"line": f.lineno, "function": f.name[:200]} for f in frames[-8:]],
    }
    if isinstance(exc, ModuleNotFoundError) and isinstance(exc.name, str):
        error["module"] = exc.name.split(".")[0][:100]
        error["available"] = available_modules()
    return error


# The top-level modules students of the course import, the only ones a missing-module message lists as
# available: the sandbox sees the whole worker's environment (web and queue libraries too), and naming
# those would only mislead.
STUDENT_MODULES = ("numpy", "torch", "matplotlib", "torchvision", "pandas", "scipy", "sklearn", "PIL", "seaborn",
                   "tqdm", "cv2", "tensorboard", "visdom", "h5py")


def available_modules() -> list[str]:
    """Which of STUDENT_MODULES this Python can import (found on its path, not imported): the sandbox's, whose
    Python is the worker's (worker.grading names them for a notebook's installs)."""
    import importlib.util

    found = []
    for name in STUDENT_MODULES:
        try:
            if name in sys.modules or importlib.util.find_spec(name) is not None:
                found.append(name)
        except (ImportError, ValueError):
            continue
    return found


def _without_notebook_magics(source: str) -> tuple[str, list[int]]:
    """The source with IPython magics and shell escapes (`%matplotlib inline`, `!pip install`) blanked.

    A line that starts with % or ! is never valid Python, so blanking it changes nothing else; line
    numbers stay as the student sees them."""
    lines, blanked = source.splitlines(keepends=True), []
    for number, line in enumerate(lines, 1):
        if line.lstrip()[:1] in ("%", "!") and not line.lstrip().startswith("!="):
            indent = line[: len(line) - len(line.lstrip())]
            lines[number - 1] = f"{indent}pass  # notebook line ignored by the grader\n"
            blanked.append(number)
    return "".join(lines), blanked


class _NotebookShell:
    """What get_ipython() returns in a script exported from a notebook: magics do nothing here."""

    def run_line_magic(self, *args, **kwargs):
        return None

    run_cell_magic = magic = system = getoutput = run_line_magic


# grader.feedback.PARAM_TEXTS holds this sentence too, to show it translated: change both together
NO_KEYBOARD = ("input() got no answer: the grader runs your script without anyone typing. "
               "Remove the input() calls (use fixed values) before you submit.")


def _no_keyboard(prompt="") -> str:
    """input() in the sandbox: nobody types, so say that rather than the bare 'EOF when reading a line'."""
    print(prompt, end="", flush=True)
    raise EOFError(NO_KEYBOARD)


def _sandbox_names(namespace: dict) -> None:
    """Names a script finds here that behave otherwise in a notebook or at a terminal."""
    namespace.setdefault("get_ipython", _NotebookShell)
    namespace.setdefault("display", lambda *objects, **kwargs: print(*objects))
    namespace.setdefault("input", _no_keyboard)


def _compile_student(source: str, filename: str):
    """Compile the script; a notebook export with magics gets them blanked. Returns (code, notes)."""
    try:
        return compile(source, filename, "exec", dont_inherit=True), []
    except SyntaxError:
        cleaned, blanked = _without_notebook_magics(source)
        if not blanked:
            raise
        # A syntax error that remains is the one to show (same line numbers: lines were blanked, not removed).
        code = compile(cleaned, filename, "exec", dont_inherit=True)
        return code, [{"code": "notebook_magics_ignored", "lines": blanked[:20]}]


def _run_script(source: str, filename: str, namespace: dict) -> dict:
    """Execute the script as __main__; return how it ended."""
    try:
        code, notes = _compile_student(source, filename)
    except SyntaxError as exc:
        return {"status": "syntax_error", "error": _student_error(exc, filename)}
    except (ValueError, MemoryError, RecursionError) as exc:  # e.g. null bytes in the source
        return {"status": "syntax_error", "error": {"type": type(exc).__name__, "message": str(exc), "line": None}}
    _sandbox_names(namespace)
    try:
        exec(code, namespace)
    except SystemExit as exc:
        code_ = exc.code
        if code_ is None or code_ == 0:
            return {"status": "ok", "exit_code": 0, "notes": notes}
        return {"status": "exit", "exit_code": code_ if isinstance(code_, int) else 1, "notes": notes}
    except BaseException as exc:  # the student's failure is a result, never a crash of ours
        return {"status": "exception", "error": _student_error(exc, filename), "notes": notes}
    return {"status": "ok", "notes": notes}


class TrainedNames:
    """A LeafNamer that remembers, for each name, the tensor it named at the last recorded backward(): what
    the training used, even when the script binds the name to a new tensor after it."""

    def __init__(self, namer: LeafNamer):
        self.namer = namer
        self.tensors: dict[str, object] = {}

    def names_for(self, leaves: list, frame) -> dict[int, str]:
        names = self.namer.names_for(leaves, frame)
        for leaf in leaves:
            name = names.get(id(leaf))
            if name is not None:
                self.tensors[name] = leaf
        return names


def _restore_trained(namespace: dict, plan: dict, trained: TrainedNames, recorder) -> list[str]:
    """Bind each parameter the script re-created after training (`w = torch.Tensor([1.0])` after the loop)
    back to the tensor its training used, so that everything read after the run judges what was trained;
    returns their names.

    Re-created means: the name now holds something other than the tensor the last backward() reached under
    that name, whose value is the run's starting value again while the trained tensor's is not. A script that
    re-creates its leaf at every update (`w = (w - lr * w.grad).detach()`) holds the updated value, which is
    not the start: it keeps its own tensor."""
    import torch

    last_leaves = {id(t) for t in getattr(recorder, "_previous", ())}
    replaced = []
    for path in plan.get("params", []):
        tensor = trained.tensors.get(path)
        if tensor is None or id(tensor) not in last_leaves:
            continue  # not what the final backward() reached under this name
        try:
            current = resolve_path(namespace, path)
        except LookupError:
            current = None
        if current is tensor:
            continue
        start = _start_value(recorder.steps, path)
        if start is None or not _holds(current, start) or _holds(tensor, start):
            continue
        try:
            if "." in path:
                holder, _, attribute = path.rpartition(".")
                setattr(resolve_path(namespace, holder), attribute, tensor)
            elif path in namespace:
                namespace[path] = tensor
            else:
                continue
        except Exception:  # the holder refuses the attribute: judge what the script left
            continue
        if resolve_path(namespace, path) is tensor and isinstance(tensor, torch.Tensor):
            replaced.append(path)
    return replaced


def _start_value(steps: list[dict], path: str) -> list | None:
    """The value `path` had at the first recorded backward() of the last training run."""
    if not steps:
        return None
    run = steps[-1].get("run")
    first = next((s for s in steps if s.get("run") == run and path in s.get("values", {})), None)
    data = first["values"][path].get("data") if first else None
    return data if isinstance(data, list) else None


def _holds(value, data: list) -> bool:
    """Whether a tensor or number holds exactly these values."""
    import torch

    try:
        if isinstance(value, torch.Tensor):
            flat = value.detach().reshape(-1).double().tolist()
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat = [float(value)]
        else:
            return False
    except Exception:
        return False
    return len(flat) == len(data) and all(isinstance(b, float) and a == b for a, b in zip(flat, data))


def _read_final_params(namespace: dict, plan: dict) -> dict:
    out = {}
    for path in plan.get("params", []):
        try:
            value = resolve_path(namespace, path)
        except LookupError:
            out[path] = {"kind": "missing"}
            continue
        try:
            out[path] = describe_value(value, plan.get("max_tensor_elements", 4096))
        except Exception as exc:
            out[path] = {"kind": "other", "type": type(value).__name__, "error": str(exc)[:300]}
    return out


def _function(namespace: dict, name: str):
    fn = namespace.get(name)
    if fn is None:
        raise LookupError(f"the script defines no function named {name!r}")
    if not callable(fn):
        raise TypeError(f"{name!r} is a {type(fn).__name__}, not a function")
    return fn


def _call_with_numbers(fn, *args, integer_last: bool = False):
    """Call a student function with plain numbers (or lists), as the assignment's data are; a script
    written for tensor inputs (torch.pow(x, 2), an nn.Module, a torch loss) gets tensors instead, of
    torch's default dtype, and class labels (`integer_last`) as int64 as CrossEntropyLoss wants them."""
    import torch

    def plain(a):
        return isinstance(a, (int, float, list)) and not isinstance(a, bool)

    first = None
    try:
        return fn(*args)
    except TypeError:
        pass
    except Exception as exc:
        if not any(plain(a) for a in args):
            raise
        first = exc  # e.g. F.mse_loss(y_pred, y) on a float y; a script wrong either way hears of its first error
    last = len(args) - 1
    try:
        return fn(*(torch.tensor(a, dtype=torch.int64 if integer_last and i == last else None) if plain(a) else a
                    for i, a in enumerate(args)))
    except Exception:
        if first is None:
            raise
        raise first from None


def _returned_values(value) -> list[dict]:
    """What a student function returned, as a list of tensors' data: a tuple or list gives one per item
    (a list of plain numbers gives one vector)."""
    import torch

    if isinstance(value, torch.Tensor):
        return [_tensor_data(value.detach(), 1 << 16)]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [{"shape": [], "data": [_number(value)]}]
    if isinstance(value, (tuple, list)):
        if value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            if isinstance(value, list):
                return [{"shape": [len(value)], "data": [_number(v) for v in value]}]
        return [item for v in value[:64] for item in _returned_values(v)]
    if hasattr(value, "tolist") and not isinstance(value, type):  # a numpy array or number
        return _returned_values(torch.as_tensor(value))
    raise TypeError(f"returned {type(value).__name__}, not a number or a tensor")


def _set_param(namespace: dict, path: str, value) -> None:
    """Give a parameter a probe's value: in place for a tensor, by assignment for a plain number."""
    import torch

    try:
        current = resolve_path(namespace, path)
    except LookupError:
        current = None
    if isinstance(current, torch.Tensor):
        with torch.no_grad():
            current.copy_(torch.as_tensor(value, dtype=current.dtype).reshape(current.shape))
    elif "." not in path:
        namespace[path] = value
    else:
        raise LookupError(f"the script defines no parameter named {path!r}")


def _function_probes(namespace: dict, plan: dict) -> list[dict]:
    """Call the student's own function (a hand-computed gradient, a loss, a forward) at each probe point."""
    results = []
    for probe in (plan.get("function_probes") or [])[:1000]:
        try:
            fn = _function(namespace, probe["function"])
            for path, value in probe["params"].items():
                _set_param(namespace, path, value)
            results.append({"value": _returned_values(_call_with_numbers(fn, *probe["args"]))})
        except BaseException as exc:
            results.append({"error": f"{type(exc).__name__}: {str(exc)[:500]}"})
    return results


def _batch_predictions(namespace: dict, plan: dict) -> list[dict]:
    """forward on all of an accuracy check's samples at once (their x only)."""
    import torch

    results = []
    for batch in plan.get("batch_inputs") or []:
        try:
            forward = _function(namespace, plan.get("forward", "forward"))
            with torch.no_grad():
                results.append({"id": batch["id"], "value": _as_float(_call_with_numbers(forward, batch["x"]))})
        except BaseException as exc:
            results.append({"id": batch["id"], "error": f"{type(exc).__name__}: {str(exc)[:500]}"})
    return results


# Where the script runs when a data file's path climbs out of its folder (`../dataset/diabetes.csv.gz`): that
# many folders below the sandbox's writable home, so the path still lands inside it (/ is read-only).
NESTED_WORKDIRS = ("course", "homework")
_PLAIN_PART = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _data_path(name) -> list[str] | None:
    """A plan's file name as its parts (`..` only leading, at most len(NESTED_WORKDIRS)), None if refused."""
    if not isinstance(name, str) or not name or name.startswith("/") or len(name) > 300:
        return None
    parts = [part for part in name.split("/") if part not in ("", ".")]
    up = next((i for i, part in enumerate(parts) if part != ".."), len(parts))
    rest = parts[up:]
    if up > len(NESTED_WORKDIRS) or not rest:
        return None
    if any(not part[0].isalnum() or not set(part) <= _PLAIN_PART for part in rest):  # also refuses a later ..
        return None
    return parts


def _enter_workdir(files: dict) -> None:
    """Move into the folder the script runs in: home itself, or nested as deep as the data paths climb."""
    depth = max((p.count("..") for p in map(_data_path, files or {}) if p), default=0)
    if depth:
        workdir = os.path.join(os.getcwd(), *NESTED_WORKDIRS[len(NESTED_WORKDIRS) - depth:])
        os.makedirs(workdir, exist_ok=True)
        os.chdir(workdir)


def _write_files(files: dict) -> list[str]:
    """The assignment's data files, read-only, at their paths from the working directory (folders made as
    needed); a name ending in .gz holds the text gzip-compressed, as np.loadtxt and pandas open it by its
    name. Problems are returned, never raised."""
    import gzip

    errors = []
    for name, text in (files or {}).items():
        parts = _data_path(name)
        if parts is None or not isinstance(text, str):
            errors.append(f"refused file name {name!r}")
            continue
        path = os.path.join(*parts)
        try:
            folder = os.path.dirname(path)
            if folder:
                os.makedirs(folder, exist_ok=True)
            data = text.encode("utf-8")
            with open(path, "wb") as fh:
                fh.write(gzip.compress(data, mtime=0) if path.endswith(".gz") else data)
            os.chmod(path, 0o444)
        except OSError as exc:
            errors.append(f"{name}: {exc}")
    return errors


def _predictions(namespace: dict, plan: dict) -> list[dict]:
    import torch

    inputs = plan.get("predict_inputs") or []
    results = []
    try:
        forward = _function(namespace, plan.get("forward", "forward"))
    except (LookupError, TypeError) as exc:
        return [{"x": x, "error": str(exc)} for x in inputs]
    for index, x in enumerate(inputs):
        try:
            with torch.no_grad():
                results.append({"x": x, "index": index, "value": _as_float(_call_with_numbers(forward, x))})
        except BaseException as exc:
            results.append({"x": x, "index": index, "error": f"{type(exc).__name__}: {str(exc)[:500]}"})
    return results


def _probes(namespace: dict, plan: dict) -> dict:
    """Set the parameters to each probe's values, run the student's loss(x, y).backward(), read .grad."""
    import torch

    probes = plan.get("probes") or []
    if not probes:
        return {"results": []}
    try:
        loss_fn = _function(namespace, plan.get("loss", "loss"))
    except (LookupError, TypeError) as exc:
        return {"error": str(exc), "results": []}
    params = {}
    for path in plan.get("params", []):
        try:
            value = resolve_path(namespace, path)
        except LookupError:
            return {"error": f"the script defines no parameter named {path!r}", "results": []}
        if not isinstance(value, torch.Tensor):
            return {"error": f"{path!r} is a {type(value).__name__}, not a tensor", "results": []}
        if not value.is_leaf:
            return {"error": f"{path!r} is not a leaf tensor (it was replaced by the result of an operation)",
                    "results": []}
        if not value.requires_grad:
            return {"error": f"{path!r} does not require grad", "results": []}
        params[path] = value
    forward = namespace.get(plan.get("forward", "forward"))
    styles = [lambda x, y: _call_with_numbers(loss_fn, x, y)]
    if callable(forward):
        # Many scripts write loss(y_pred, y) and call loss(forward(x), y); accept that style when
        # loss(x, y) reaches no parameter at all.
        labels = bool(plan.get("integer_labels"))
        styles.append(lambda x, y: _call_with_numbers(loss_fn, _call_with_numbers(forward, x), y, integer_last=labels))
    results = []
    for probe in probes:
        tried = []
        for i, style in enumerate(styles):
            rank, outcome = _one_probe(params, probe, style)
            tried.append((rank, -i, outcome))
            if rank == PROBE_WORKED:
                styles = styles[i:i + 1]  # the style that works is the one used from now on
                break
        results.append(max(tried, key=lambda t: t[:2])[2])  # the most useful attempt; the first among equals
    return {"results": results}


# How far a probe's attempt got, the most useful first: its report is the one of the attempt that got furthest
# (a loss that ran and returned a [60, 1] tensor says more than the AttributeError of a call with lists).
PROBE_WORKED, PROBE_REACHED_NOTHING, PROBE_RETURNED_WRONG, PROBE_RAISED = 3, 2, 1, 0


def _one_probe(params: dict, probe: dict, call_loss) -> tuple[int, dict]:
    """(how far it got, the probe's result) for one way of calling the student's loss."""
    import torch

    stage = PROBE_RAISED
    try:
        with torch.no_grad():
            for path, p in params.items():
                p.copy_(torch.as_tensor(probe["params"][path], dtype=p.dtype).reshape(p.shape))
                p.grad = None
        loss = call_loss(probe["x"], probe["y"])
        stage = PROBE_RETURNED_WRONG
        if not isinstance(loss, torch.Tensor):
            raise TypeError(f"loss returned {type(loss).__name__}, not a tensor")
        if loss.numel() != 1:
            raise ValueError(f"loss returned a tensor of shape {list(loss.shape)}; backward() needs a scalar")
        stage = PROBE_RAISED  # backward() of a loss that reaches no parameter raises: as little use as a crash
        loss.backward()
        grads = {path: (None if p.grad is None else _tensor_data(p.grad, 1 << 16)) for path, p in params.items()}
        worked = any(g is not None for g in grads.values())
        return (PROBE_WORKED if worked else PROBE_REACHED_NOTHING,
                {"grads": grads, "loss": _number(loss.detach().reshape(-1)[0].item())})
    except BaseException as exc:
        return stage, {"error": f"{type(exc).__name__}: {str(exc)[:500]}"}


class OutcomeWriter:
    """Writes the outcome exactly once, to the dedicated fd, with the originals captured at import."""

    def __init__(self, fd: int):
        self.fd = fd
        self.written = False

    def write(self, outcome: dict) -> None:
        if self.written:
            return
        self.written = True
        data = _json_dumps(outcome, separators=(",", ":"), default=str).encode()
        view = memoryview(data)
        try:
            while view:
                n = _os_write(self.fd, view)
                view = view[n:]
            _os_close(self.fd)
        except OSError:
            pass


def _batch_finder(plan: dict, filename: str, errors: list[str]) -> BatchFinder | None:
    """The finder of each step's samples, when the plan gives the data set's x."""
    if not plan.get("data_x"):
        return None
    try:
        return BatchFinder(plan["data_x"], filename)
    except Exception as exc:  # ragged rows: steps are recorded without their samples
        errors.append(f"data_x: {type(exc).__name__}: {str(exc)[:200]}")
        return None


def run_job(job: dict, outcome_fd: int):
    """Run one student script and report; never returns. preload() must have run in this process."""
    import random

    import torch

    plan = job.get("plan") or {}
    filename = job.get("filename") or "submission.py"
    source = job.get("source") or ""
    sys.stdout.flush()
    try:
        _enter_workdir(plan.get("files"))
    except OSError:
        pass
    try:
        with open(filename, "w", encoding="utf-8") as fh:  # for tracebacks and inspect.getsource
            fh.write(source)
    except OSError:
        pass
    setup_errors = _write_files(plan.get("files"))
    # Every job starts from the same random state, whatever ran before it in this process: a regrade of
    # an unchanged script draws the same initial weights and gets the same verdict.
    seed = int(plan["seed"]) if plan.get("seed") is not None else DEFAULT_SEED
    torch.manual_seed(seed)
    random.seed(seed)
    import numpy

    numpy.random.seed(seed)

    main = types.ModuleType("__main__")
    main.__file__ = os.path.abspath(filename)
    main.__builtins__ = __builtins__
    namespace = main.__dict__
    sys.modules["__main__"] = main
    sys.argv = [filename]

    writer = OutcomeWriter(outcome_fd)
    trained = TrainedNames(LeafNamer(namespace, list(plan.get("params", []))))
    recorder = GradientRecorder(trained,
                                int(plan.get("max_trace_steps", 20000)),
                                int(plan.get("max_tensor_elements", 4096)),
                                _batch_finder(plan, filename, setup_errors))
    recorder.install()

    def report(run: dict) -> None:
        recorder.enabled = False
        outcome = {"version": OUTCOME_VERSION, **run,
                   "backward_calls": recorder.calls, "runs": recorder.runs, "trace": recorder.steps,
                   "trace_truncated": recorder.truncated,
                   "recorder_errors": (setup_errors + recorder.errors)[:5]}
        if run["status"] not in ("syntax_error", "os_exit"):
            outcome["replaced"] = _restore_trained(namespace, plan, trained, recorder)
            outcome["final_params"] = _read_final_params(namespace, plan)
            outcome["predictions"] = _predictions(namespace, plan)
            outcome["batch_predictions"] = _batch_predictions(namespace, plan)  # before probes move the params
            outcome["probes"] = _probes(namespace, plan)
            outcome["function_probes"] = _function_probes(namespace, plan)
        writer.write(outcome)

    job_pid = os.getpid()

    def early_exit(code=0):
        # os._exit skips everything; report what we have, then exit as asked. A child the
        # script forked must not report for it.
        try:
            if os.getpid() == job_pid:
                _flush()
                report({"status": "os_exit", "exit_code": code if isinstance(code, int) else 1})
        finally:
            _os_exit(code if isinstance(code, int) else 1)

    os._exit = early_exit
    run = _run_script(source, filename, namespace)
    os._exit = _os_exit
    _flush()
    if os.getpid() != job_pid:
        # A child the script forked ran off the end of the script (a fork without os._exit): it must not
        # report too, or the two outcomes run together on the pipe and neither can be read.
        _os_exit(0 if run["status"] == "ok" else 1)
    try:
        report(run)
    except BaseException as exc:  # a student object broke our reading of it: say so, still report
        writer.write({"version": OUTCOME_VERSION, "status": "harness_error",
                      "error": {"type": type(exc).__name__, "message": str(exc)[:500]},
                      "backward_calls": recorder.calls, "trace": recorder.steps})
    _flush()
    _os_exit(0)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:
            pass


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[0] != "--outcome-fd":
        print("usage: harness.py --outcome-fd N  (job JSON on stdin)", file=sys.stderr)
        _os_exit(2)
    fd = int(argv[1])
    job = json.loads(sys.stdin.buffer.read())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    preload()
    run_job(job, fd)


if __name__ == "__main__":
    main(sys.argv[1:])
