"""Runs INSIDE the sandbox: executes a student's script, records every gradient, reports one JSON outcome.

Loaded by file path (never through the `worker` or `grader` packages) so that nothing able to reach a
secret is ever imported here. Only stdlib, torch, numpy and matplotlib. The student's code shares this
process and can forge anything written here; that is harmless because no reference value ever enters
the sandbox and every judgement is made outside it.

Entry points:
  preload()                     import the heavy libraries once, before the fork server forks
  warm_up()                     (fork server only) what a job's first optimizer would import
  run_job(job, outcome_fd)      run one job (job = {"source", "filename", "plan"}); never returns
  python harness.py --outcome-fd N   the same, reading the job JSON from stdin (fresh-process backends)

The plan (built by grader.plan) names what to look at:
  {"params": ["w1", "w2", "b"], "param_shapes": {"w1": [], ...}, "names": "by_role" | "strict",
   "forward": "forward", "loss": "loss",
   "predict_inputs": [4.0], "probes": [{"params": {"w1": 0.3, ...}, "x": 1.0, "y": 2.0}],
   "max_trace_steps": 20000, "max_tensor_elements": 4096, "seed": null,
   "data_x": [1.0, 2.0, 3.0],        # the assignment's x: each step's batch is matched to its rows
   "hand_gradient": "gradient"}      # gradients by hand: the function whose calls are the run's steps
"""
from __future__ import annotations

import ast
import difflib
import dis
import inspect
import itertools
import json
import math
import os
import re
import signal
import sys
import time
import traceback
import types

OUTCOME_VERSION = 1
# The trace stops growing at about this many bytes of JSON (a float takes at most ~24 characters), well
# under the worker's cap on the whole outcome (4 MiB): a script that calls backward() 60,000 times on three
# parameters would otherwise lose its whole report, not just the steps no reference has.
TRACE_BUDGET_BYTES = 2 * 1024 * 1024
# Recording stops (calls are still counted) after this much CPU time spent on it: a large model's sketches
# must not turn a 10-second script into a time-out. CPU time, not the wall clock: on a loaded host the same
# script must record the same steps (a seven-optimizer comparison lost its graded run under a test suite's load).
RECORD_SECONDS = 3.0
DEFAULT_SEED = 0  # torch, numpy and random are seeded with this when the spec names no seed
SKETCH_SIZE = 8  # projections recorded for a tensor too large to record whole
SKETCH_MAX_ELEMENTS = 1 << 22  # beyond this, its norm alone
MAX_BATCH_CANDIDATES = 4  # variables that could be a step's batch, recorded per step
MAX_BATCH_ELEMENTS = 1 << 20  # a variable larger than this is not looked at as a batch
MAX_OWN_INPUTS, MAX_OWN_ELEMENTS = 4, 256  # a step on the student's own data records its inputs up to these
MAX_TARGETS_ELEMENTS = 16  # a step on the assignment's samples records its inputs (the targets) up to this many
MAX_OWN_ROWS = 4096  # the longest list looked at as the student's own data set (a tensor: MAX_BATCH_ELEMENTS)
MAX_SCOPE_NAMES = 400  # names looked at per scope when looking for a step's batch
CPU_LIMIT_EXIT = 152  # the exit status after SIGXCPU was reported (128 + 24, as a shell would say it)
MAX_RUNS = 1000  # training runs counted separately; calls beyond belong to the last
# what the harness records when the plan does not say (grader.plan always does): grader.outcome's
# MAX_TRACE_STEPS and MAX_TENSOR_ELEMENTS, which the harness cannot import (tests/test_outcome.py holds them equal)
PLAN_MAX_TRACE_STEPS = 20_000
PLAN_MAX_TENSOR_ELEMENTS = 4096

# The originals, captured before any student code can monkey-patch them.
_os_write = os.write
_os_close = os.close
_os_exit = os._exit
_json_dumps = json.dumps
_isfinite = math.isfinite
_clock = time.thread_time  # the recording budget's clock (RECORD_SECONDS)


class Refusal(Exception):
    """Something the harness could not do with the student's script, said as a message code of grader.messages
    ("harness.*") and its parameters: the words are chosen outside the sandbox, in the reader's language."""

    def __init__(self, code: str, /, **params):
        super().__init__(code)
        self.code, self.params = code, params

    def said(self) -> dict:
        return {"code": self.code, "params": self.params}


def _said(exc: BaseException) -> str | dict:
    """An error as the outcome reports it: the harness's own reason as a code, the student's as its text."""
    if isinstance(exc, Refusal):
        return exc.said()
    return f"{type(exc).__name__}: {str(exc)[:500]}"


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


def warm_up() -> None:
    """In a process that forks many jobs (the fork server), once: the imports a job's first torch.optim
    optimizer triggers (torch._dynamo, sympy: some 800 modules, 1.3 s per job of lectures 5-7 otherwise;
    about 75 MB of address space, shared). A fresh process per job (bwrap, docker) skips this."""
    import torch

    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)


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
    """A float for JSON; non-finite values become the strings 'nan', 'inf', '-inf'. The outcome carries numbers,
    never words: grader.wording writes them for readers."""
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


def _is_number(value) -> bool:
    """A plain number: an int or a float (not a bool), or numpy's scalar of one (data made with np.float32 leaves
    lecture 3's w = w - lr * grad a numpy.float32)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    return kind in ("f", "i", "u") and type(value).__module__ == "numpy" and getattr(value, "shape", None) == ()


def describe_value(value, max_elements: int) -> dict:
    """What a name in the script holds: a tensor (with leaf status), a number, or something else."""
    import torch

    if isinstance(value, torch.Tensor):
        info = _tensor_data(value, max_elements)
        info.update(kind="tensor", is_leaf=bool(value.is_leaf), requires_grad=bool(value.requires_grad))
        return info
    if isinstance(value, bool):
        return {"kind": "other", "type": "bool"}
    if _is_number(value):
        return {"kind": "number", "shape": [], "data": [_number(value)]}
    return {"kind": "other", "type": type(value).__name__}


def _as_float(value):
    """A forward() result as plain data: tensors and numbers both accepted."""
    import torch

    if isinstance(value, torch.Tensor):
        return _tensor_data(value, 1 << 16)
    if _is_number(value):
        return {"shape": [], "data": [_number(value)]}
    raise Refusal("harness.forward_not_number", type=type(value).__name__)


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


def _plain_name(name: str) -> str:
    """A name as compared across spellings: lower case, letters, digits and dots only (w_1 ~ w1, Linear ~ linear)."""
    return "".join(ch for ch in name.lower() if ch.isalnum() or ch == ".")


def _likeness(ours: str, yours: str) -> float:
    """How alike two names are: 2 for the same plain name, else difflib's ratio of the plain names (0–1)."""
    a, b = _plain_name(ours), _plain_name(yours)
    return 2.0 if a == b else difflib.SequenceMatcher(None, a, b).ratio()


def _squeezed(shape) -> tuple:
    """A shape without its sizes of 1: a spec's scalar 1.0 fits torch.Tensor([1.0]), a [1, 4] weight a [4]."""
    return tuple(int(d) for d in shape if int(d) != 1)


# At most this many ways of pairing same-shaped names are tried; more is ambiguous (and never seen in homework).
MAX_PAIRINGS = 5040
# Several same-shaped names are paired by how alike they are only when the best pairing is clearly the best
# (w_1, w_2 for w1, w2; weight1, weight2 too); a, c for w1, w2 fit either way and are left undecided.
CLEAR_MARGIN = 0.2


def _best_pairing(ours: list[str], yours: list[str]) -> dict[str, str] | None:
    """Pair each spec name with a distinct student name (or the other way round when the student has fewer),
    the pairing whose names are most alike; None when two pairings fit equally well."""
    if len(yours) >= len(ours):
        pairings = [dict(zip(ours, chosen)) for chosen in itertools.islice(
            itertools.permutations(yours, len(ours)), MAX_PAIRINGS + 1)]
    else:
        pairings = [dict(zip(chosen, yours)) for chosen in itertools.islice(
            itertools.permutations(ours, len(yours)), MAX_PAIRINGS + 1)]
    if len(pairings) > MAX_PAIRINGS:
        return None
    scored = sorted(((sum(_likeness(o, y) for o, y in p.items()), i) for i, p in enumerate(pairings)), reverse=True)
    if len(scored) > 1 and scored[0][0] - scored[1][0] < CLEAR_MARGIN:
        return None
    return pairings[scored[0][1]]


def match_by_shape(missing: dict[str, tuple], candidates: dict[str, tuple]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Spec parameters the script does not name (spec name -> shape), matched to the student's unclaimed
    leaves (student path -> shape): by exact shape first, then by shape without its 1s; within a shape, by
    how alike the names are. Returns (spec name -> student path, spec name -> candidates when undecidable)."""
    found: dict[str, str] = {}
    undecided: dict[str, list[str]] = {}
    for shape_of_ in (tuple, _squeezed):
        groups: dict[tuple, tuple[list[str], list[str]]] = {}
        for name, shape in missing.items():
            if name not in found and name not in undecided:
                groups.setdefault(shape_of_(shape), ([], []))[0].append(name)
        taken = set(found.values())
        for path, shape in candidates.items():
            if path not in taken and shape_of_(shape) in groups:
                groups[shape_of_(shape)][1].append(path)
        for ours, yours in groups.values():
            if not yours:
                continue
            pairing = _best_pairing(ours, yours)
            if pairing is None:
                if shape_of_ is not tuple:  # undecided even by exact shape and then without its 1s
                    undecided.update({name: sorted(yours) for name in ours})
                continue
            found.update(pairing)
    return found, undecided


def _spec_forward(expression: str, values: dict, x):
    """The spec's forward expression (not secret: it is the model the assignment describes) evaluated with
    torch on the given parameter values; dotted names (model.linear.weight) become attributes."""
    import torch

    functional = torch.nn.functional
    env: dict = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "exp": torch.exp,
                 "log": torch.log, "sum": torch.sum, "mean": torch.mean, "linear": functional.linear}
    dtype = next((v.dtype for v in values.values() if isinstance(v, torch.Tensor)), torch.float32)
    env["x"] = torch.as_tensor(x, dtype=dtype)
    for name, value in values.items():
        head, *rest = name.split(".")
        if not rest:
            env[head] = value
            continue
        node = env.setdefault(head, types.SimpleNamespace())
        for part in rest[:-1]:
            node = node.__dict__.setdefault(part, types.SimpleNamespace())
        setattr(node, rest[-1], value)
    with torch.no_grad():
        return eval(compile(expression, "<the assignment's forward>", "eval"), {"__builtins__": {}}, env)


def _same_output(ours, yours) -> bool:
    import torch

    with torch.no_grad():
        a = torch.as_tensor(ours).detach().double().reshape(-1)
        b = torch.as_tensor(yours).detach().double().reshape(-1)
    return a.numel() == b.numel() and bool(torch.allclose(a, b, rtol=1e-4, atol=1e-6))


def _script_function(value, filename: str) -> bool:
    return isinstance(value, types.FunctionType) and value.__code__.co_filename == filename


def global_reads(code, namespace: dict, filename: str, seen: set | None = None) -> set[str]:
    """The global names a function's code reads, itself, in its comprehensions and lambdas, and through the
    script's own functions it calls (`gradient` reads `w` through `forward`)."""
    seen = set() if seen is None else seen
    if code in seen or len(seen) > 64:
        return set()
    seen.add(code)
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= global_reads(const, namespace, filename, seen)
    for name in list(names):
        value = namespace.get(name)
        if _script_function(value, filename):
            names |= global_reads(value.__code__, namespace, filename, seen)
    return names


# The arguments of the spec's plain functions, by role: forward(x), loss(x, y)
ROLE_ARGUMENTS = {"forward": 1, "loss": 2}
TRAINING_CALLS = {"backward", "step", "zero_grad", "zero_"}


def find_function(namespace: dict, name: str, role: str, filename: str, taken: set[str],
                  reads: set[str] | None = None) -> tuple[str | None, list[str]]:
    """The global that plays the spec's function `name` when the script has no such name: a function of the
    script spelled alike (`forword`, `grad` for `gradient`, `loss_fn` for `loss`), else for the model the one
    nn.Module instance and for the loss the one loss object (`Loss`, `critizer`), else (`reads` given: the
    globals that hold the parameters, and for the loss the forward's name) the one function of the script that
    takes the role's arguments and reads one of them (`def 前向(x): return x * w`, `def 损失(x, y)` calling
    前向). Returns (its name, []) or (None, the candidates) when none or several fit. `taken` are the names
    other roles already use."""
    import torch

    plain = _plain_name(name)

    def spelled_alike(key: str) -> bool:
        other = _plain_name(key)
        if difflib.SequenceMatcher(None, plain, other).ratio() >= 0.8:
            return True
        return min(len(plain), len(other)) >= 4 and (plain in other or other in plain)

    scope = [(k, v) for k, v in list(namespace.items()) if k not in taken and not k.startswith("__")]
    alike = [k for k, v in scope if _script_function(v, filename) and spelled_alike(k)]
    loss_type = torch.nn.modules.loss._Loss
    if role == "loss":
        by_kind = [k for k, v in scope if isinstance(v, loss_type)]
    elif role == "forward":
        by_kind = [k for k, v in scope if isinstance(v, torch.nn.Module) and not isinstance(v, loss_type)]
    else:
        by_kind = []
    by_use = []
    if reads and role in ROLE_ARGUMENTS:
        for k, v in scope:
            if _script_function(v, filename) and v.__code__.co_argcount == ROLE_ARGUMENTS[role]:
                read = global_reads(v.__code__, namespace, filename)
                if read & reads and not read & TRAINING_CALLS:  # a train(x, y) that steps is no loss
                    by_use.append(k)
    for found in (alike, by_kind, by_use):
        if len(found) == 1:
            return found[0], []
        if found:
            return None, sorted(found)
    return None, []


class LeafNamer:
    """Names the leaf tensors a backward() reached, by what the script calls them right now: the spec's
    names, and for a spec name the script lacks, the student's leaf that plays its role (matched by
    shape and name, once, at the first backward() that misses it, or after the run), unless `strict`."""

    def __init__(self, namespace: dict, wanted: list[str], shapes: dict[str, list] | None = None,
                 strict: bool = True):
        self.namespace = namespace
        self.wanted = wanted
        self.shapes = {name: tuple(shape) for name, shape in (shapes or {}).items()}
        self.strict = strict or not self.shapes
        self.aliases: dict[str, str] = {}  # spec name -> the student's path for it
        self.undecided: dict[str, list[str]] = {}  # spec name -> the student's paths that fit it equally
        self.matched = False

    def path(self, name: str) -> str:
        """Where the script keeps the spec's parameter `name`."""
        return self.aliases.get(name, name)

    def resolve(self, name: str):
        """The script's value for the spec's parameter `name` (LookupError when it has none)."""
        return resolve_path(self.namespace, self.path(name))

    def names_for(self, leaves: list, frame) -> dict[int, str]:
        import torch

        names: dict[int, str] = {}
        ids = {id(t) for t in leaves}
        for path in self.wanted:  # the spec's names win
            try:
                value = self.resolve(path)
            except LookupError:
                value = None
            if isinstance(value, torch.Tensor) and id(value) in ids:
                names.setdefault(id(value), path)
            elif not self.matched and not self.strict:
                self.match_leaves(leaves)
                return self.names_for(leaves, frame)
        if len(names) < len(ids):  # the common case, every leaf a named parameter, stops here
            self._scan(self.namespace, ids, names)
        while frame is not None and len(names) < len(ids):  # training inside a function
            self._scan(frame.f_locals, ids, names)
            frame = frame.f_back
        return names

    def match_leaves(self, leaves: list | None = None) -> None:
        """Match the spec names the script lacks to its leaves (those a backward() reached, else every leaf
        tensor that requires grad in its globals); runs once."""
        import torch

        if self.matched or self.strict:
            return
        self.matched = True
        missing, claimed = {}, set()
        for name in self.wanted:
            try:
                value = self.resolve(name)
            except LookupError:
                value = None
            if isinstance(value, torch.Tensor):
                claimed.add(id(value))
            elif name in self.shapes and name not in self.aliases:
                missing[name] = self.shapes[name]
        if not missing:
            return
        pool = {}
        if leaves is None:
            leaves = [v for v in self._global_tensors().values() if v.is_leaf and v.requires_grad]
        paths: dict[int, str] = {}
        self._scan(self.namespace, {id(t) for t in leaves}, paths)
        for leaf in leaves:
            if id(leaf) in paths and id(leaf) not in claimed:
                pool[paths[id(leaf)]] = tuple(leaf.shape)
        found, self.undecided = match_by_shape(missing, pool)
        self.aliases.update(found)

    def forget_defined(self) -> None:
        """Drop the undecided spec names the script defined after the backward() that missed them (a script that
        trains y = w·x first, then the quadratic's own w1, w2 and b): they are the script's own now."""
        for name in list(self.undecided):
            try:
                self.resolve(name)
            except LookupError:
                continue
            del self.undecided[name]

    def fit_by_forward(self, forward, expression: str, inputs: list) -> dict[str, str]:
        """Settle each undecided group of same-shaped parameters by where they enter the graph: the pairing
        under which the spec's forward `expression` gives what the student's `forward` gives at `inputs`.
        When no pairing fits, the same-shaped parameters the script names as the spec does join the group
        (y = a·x² + b·x + c: the student's b is the spec's w2). Returns the trace's renames (the name a
        step was recorded under -> the spec's name)."""
        renames: dict[str, str] = {}
        groups: dict[tuple, list[str]] = {}
        for name, candidates in self.undecided.items():
            groups.setdefault(tuple(candidates), []).append(name)
        for candidates, ours in groups.items():
            shape = _squeezed(self.shapes.get(ours[0], ()))
            named = [n for n in self.wanted if n not in self.undecided and n not in self.aliases
                     and _squeezed(self.shapes.get(n, ())) == shape]
            for group, paths in ((ours, list(candidates)), (ours + named, list(candidates) + named)):
                pairing = self._fitting_pairing(group, paths, forward, expression, inputs)
                if pairing is not None:
                    for name, path in pairing.items():
                        self.undecided.pop(name, None)
                        if path != name:
                            self.aliases[name] = path
                        renames[path] = name
                    break
        return renames

    def _fitting_pairing(self, ours: list[str], paths: list[str], forward, expression: str,
                         inputs: list) -> dict[str, str] | None:
        if len(paths) < len(ours) or len(ours) > 6:
            return None
        fitting = []
        for chosen in itertools.permutations(paths, len(ours)):
            pairing = dict(zip(ours, chosen))
            try:
                values = {name: resolve_path(self.namespace, pairing.get(name, self.path(name))) for name in self.wanted}
                if all(_same_output(_spec_forward(expression, values, x), _call_with_numbers(forward, x))
                       for x in inputs):
                    fitting.append(pairing)
            except Exception:  # a pairing the expression or the student's forward cannot take fits nothing
                continue
        return fitting[0] if len(fitting) == 1 else None

    def _global_tensors(self) -> dict[str, object]:
        import torch

        found: dict[str, object] = {}
        for key, value in list(self.namespace.items()):
            if isinstance(value, torch.Tensor):
                found.setdefault(key, value)
            elif isinstance(value, torch.nn.Module):
                for pname, p in value.named_parameters():
                    found.setdefault(f"{key}.{pname}", p)
        return found

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


# node type -> the names of the tensors it saves for its backward (`_saved_other`, `_saved_mat1`, ...)
_SAVED: dict[type, tuple[str, ...]] = {}


def graph_inputs(tensors, limit: int = 16) -> list:
    """Tensors that need no grad saved by the graph of a backward() (the data the loss was computed from:
    x in w * x, nn.Linear's input, a loss's target), up to `limit`, in the order met."""
    import torch

    found, seen, stack = [], set(), [t.grad_fn for t in tensors if t.grad_fn is not None]
    while stack and len(found) < limit:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        kind = type(fn)
        names = _SAVED.get(kind)
        if names is None:
            names = _SAVED[kind] = tuple(a for a in dir(kind) if a.startswith("_saved_") and "_sym_" not in a)
        for name in names:
            try:
                value = getattr(fn, name)
            except Exception:  # freed by an earlier backward, or not a tensor to read
                continue
            if isinstance(value, torch.Tensor) and not value.requires_grad:
                found.append(value)
        stack.extend([child for child, _ in fn.next_functions if child is not None])
    return found


def _rows_in(candidate: dict) -> int:
    return sum(stop - start for start, stop in candidate["rows"])


def _as_tensor(value):
    """A list of numbers (or an array) as a float tensor; None for anything else."""
    import torch

    if isinstance(value, torch.Tensor):
        return value
    if not isinstance(value, (list, tuple)) and not hasattr(value, "__array_interface__"):
        return None
    try:
        return torch.as_tensor(value, dtype=torch.float32)
    except Exception:
        return None


def own_inputs(inputs: list, max_elements: int = MAX_OWN_ELEMENTS) -> list[dict]:
    """The data a step on the student's own samples was computed from (the graph's saved inputs, small ones
    only), so the grader can verify the gradient there too: which is x and which is y it finds out itself."""
    out, total = [], 0
    for t in inputs:
        if t.is_floating_point() and len(out) < MAX_OWN_INPUTS and total + t.numel() <= max_elements:
            out.append(_tensor_data(t.detach(), max_elements))
            total += t.numel()
    return out


class RecordedInputs:
    """A step's own inputs (own_inputs) go into the trace once while they stay the same: a step whose inputs are
    those last recorded in its run says so (`own_same`) instead, so a whole data set trained on at every step
    costs the trace budget once."""

    def __init__(self):
        self._last: tuple[int, list] | None = None

    def put(self, step: dict, own: list[dict]) -> None:
        if not own:
            return
        if self._last == (step["run"], own):
            step["own_same"] = True
        else:
            step["own"] = own
            self._last = (step["run"], own)


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


def _larger(partial: dict | None, than: dict | None) -> bool:
    """Whether a variable partly the assignment's samples is longer than another (of two as long, more matched)."""
    return partial is not None and (than is None or (partial["size"], partial["matched"]) > (than["size"], than["matched"]))


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
        # a plain number looked up as written (1.0 is 1.0 in float32 too) before it is rounded to float32
        self.numbers: dict[float, int] = {}
        if self.row_size == 1:
            for i, value in enumerate(torch.tensor(data_x, dtype=torch.float64).reshape(-1).tolist()):
                self.numbers.setdefault(value, i)
        self.filename = filename
        # rows of tensors (by id and in-place version) and sequences (by a copy) seen at earlier steps: the
        # whole data set is looked at again at every step, and converting it each time would cost the most
        self._seen: dict[int, tuple] = {}

    def find(self, frame, inputs: list, always_partial: bool = False) -> tuple[list[dict], dict | None]:
        """(candidates: {"rows": [[start, stop], ...], "single": bool}, smallest first; the largest
        variable shaped like samples whose rows are not all the assignment's: {"size", "matched"}, when no
        candidate was found or `always_partial`; one of the graph's inputs is that variable whenever one is
        shaped like samples, as the data the loss was computed from: a list of epochs or losses beside it is not).
        `inputs`: tensors the backward's graph saved that need no grad (x for w * x, nn.Linear's input)."""
        seen, found = set(), []
        partial = graph_partial = self._look(dict(enumerate(inputs)), seen, found)
        for scope in self._scopes(frame):
            in_scope = self._look(scope, seen, found)
            if graph_partial is None and _larger(in_scope, partial):
                partial = in_scope
        found.sort(key=lambda item: item[0])
        candidates, kept = [], set()
        for _, single, indices in found:
            key = (single, tuple(indices))
            if key not in kept and len(candidates) < MAX_BATCH_CANDIDATES:
                kept.add(key)
                candidates.append({"rows": _ranges(indices), "single": single})
        return candidates, (None if candidates and not always_partial else partial)

    def _look(self, scope: dict, seen: set, found: list) -> dict | None:
        """Append the scope's variables whose rows are all the assignment's to `found` (size, single, indices);
        return its largest one shaped like samples whose rows are not: {"size", "matched"}."""
        partial = None
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
            elif len(indices) > 1:
                candidate = {"size": len(indices), "matched": matched}
                partial = candidate if _larger(candidate, partial) else partial  # of two as long, x's (y is matched against x)
        return partial

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
            found = self.numbers.get(value)
            return [found if found is not None else self.index.get((float(_float32(value)),))], True
        if isinstance(value, torch.Tensor):
            if value.is_complex() or not (value.is_floating_point() or value.dtype in _EXACT_INTS):
                return None
            seen = self._seen.get(id(value))
            if seen is not None and seen[0] is value and seen[1] == value._version:
                return seen[2]
            rows = self._tensor_rows(value)  # it reads a detached copy
            if value.requires_grad and not _data_rows(rows):
                rows = None  # a parameter, unless it is rows of the data (x_data made with requires_grad=True)
            self._remember(value, value._version, rows)
            return rows
        if isinstance(value, (list, tuple)) or hasattr(value, "__array_interface__"):
            if isinstance(value, (list, tuple)) and (not value or len(value) > self._longest_sequence()):
                return None
            is_sequence = isinstance(value, (list, tuple))
            seen = self._seen.get(id(value))
            same_list = is_sequence and seen is not None and seen[0] is value
            if same_list and len(seen[1]) == len(value) and _same_items(seen[1], value):
                return seen[2]
            rows = self._appended_rows(value, seen) if same_list else None
            if rows is None:
                try:
                    rows = self._tensor_rows(torch.as_tensor(value, dtype=torch.float32))
                except Exception:
                    rows = None
            if is_sequence:  # a shallow copy: a list the script appends to is looked at again
                self._remember(value, value[:], rows)
            return rows
        return None

    def _appended_rows(self, value: list, seen: tuple):
        """The rows of a list the script appended to since the last step (a list of losses grows by one at every
        step): the old rows and the new elements' alone, not the whole list converted again at every step (a
        seven-optimizer comparison spent most of its recording time there). None: convert it whole."""
        import torch

        _, old, rows = seen
        if rows is None or rows[1] or len(old) < 2 or len(value) <= len(old):
            return None  # one sample (a list of 8 numbers for 8 features) is no list of rows
        if len(value) * self.row_size > MAX_BATCH_ELEMENTS:
            return None
        if not _same_items(old, value):
            return None
        try:
            head = torch.as_tensor(old[:1], dtype=torch.float32)
            tail = torch.as_tensor(value[len(old):], dtype=torch.float32)
        except Exception:  # elements that compare or convert otherwise
            return None
        if tail.shape[1:] != head.shape[1:]:
            return None  # ragged: the whole list is no tensor
        new = self._tensor_rows(tail)
        return None if new is None else (rows[0] + new[0], False)

    def _longest_sequence(self) -> int:
        """The most rows a list is looked at with: a batch has at most 4 times the data set's, but the student's
        own data set (13 points for the assignment's 3) may be longer, and is named as theirs."""
        return max(self.samples * 4, MAX_OWN_ROWS)

    def _remember(self, value, version, rows) -> None:
        if len(self._seen) >= 64:
            self._seen.clear()
        self._seen[id(value)] = (value, version, rows)

    def _tensor_rows(self, tensor):
        """Each row's index in the data set (or None), and whether the tensor is one sample; None if not sample-shaped."""
        n = tensor.numel()
        if n == 0 or n % self.row_size or n > MAX_BATCH_ELEMENTS:
            return None
        single = tuple(tensor.shape) == self.row_shape or (self.row_size == 1 and tensor.dim() == 0)
        if not single and (tensor.dim() == 0 or tensor[0].numel() != self.row_size):
            return None
        flat = tensor.detach().reshape(-1, self.row_size).float().tolist()
        index = self.index
        return [index.get(tuple(row)) for row in flat], single


def _data_rows(rows) -> bool:
    """Whether a tensor that requires grad is the data set (or a batch of it) and no parameter: two distinct rows of
    the data at least, every one of them matched (a parameter [1., 1., 1.] would match sample 1.0 three times)."""
    if rows is None or rows[1]:
        return False
    indices = rows[0]
    return len(indices) >= 2 and None not in indices and len(set(indices)) == len(indices)


def _same_items(old: list, value: list) -> bool:
    """Whether `value` still starts with the very objects of `old`, its shallow copy at the last step. By identity,
    not ==: a list of numpy arrays changed in place (`recent[i] = np.array(...)`) raises on ==, and it raised out of
    the recorder, which then recorded 5 of 300 steps."""
    return all(a is b for a, b in zip(old, value))


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


def _steps_on(previous: list, leaves: list) -> bool:
    """Whether new leaves continue the previous ones by one gradient step (`w = (w - lr * w.grad).detach()
    .requires_grad_()` re-creates its leaf at every update): same shapes, and every value moved against the
    old gradient by one shared factor, within float32 rounding. Fresh parameters for a second run do not."""
    import torch

    if len(previous) != len(leaves):
        return False
    pairs = []
    with torch.no_grad():
        for old, new in zip(previous, leaves):
            if old.shape != new.shape or old.grad is None or old.grad.shape != old.shape:
                return False
            old_v, new_v = old.detach().double().ravel(), new.detach().double().ravel()
            pairs.append((new_v - old_v, old.grad.detach().double().ravel(),
                          torch.maximum(old_v.abs(), new_v.abs())))
        step = torch.cat([p[0] for p in pairs]) if pairs else torch.zeros(0)
        grad = torch.cat([p[1] for p in pairs]) if pairs else torch.zeros(0)
        size = torch.cat([p[2] for p in pairs]) if pairs else torch.zeros(0)
        if step.numel() == 0 or not bool(torch.isfinite(step).all() and torch.isfinite(grad).all()):
            return False
        norm = float((grad * grad).sum())
        factor = float((step * grad).sum()) / norm if norm > 0 else 0.0
        rounding = 8 * 2.0 ** -23 * size + 1e-30
        return bool(((step - factor * grad).abs() <= 1e-3 * (factor * grad).abs() + rounding).all())


class GradientRecorder:
    """Wraps torch.autograd.backward. Per call (up to the bounds; every call is counted): the leaves it
    reaches, their values before the call (before the update that follows), their .grad after it, the loss,
    which samples the batch held (BatchFinder) and the training run it belongs to. A call that reaches none of
    the leaves the previous call reached starts a new run (a second model or fresh parameters)."""

    def __init__(self, namer: LeafNamer, max_steps: int, max_elements: int, batches: BatchFinder | None = None,
                 filename: str = ""):
        self.namer = namer
        self.filename = filename
        self.line: int | None = None  # the script's top-level line at the last backward() (script_line)
        self.max_steps = max_steps
        self.max_elements = max_elements
        self.batches = batches
        self.inputs = RecordedInputs()
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
        # per training run: its optimizers' step() calls (LBFGS evaluates its closure, a backward(), several times
        # in one) and the optimizers that made them, as the script declared them (classes joined by " + ")
        self.optimizer_steps: list[int] = []
        self.optimizers: list[dict | None] = []
        self.clips: list[dict | None] = []  # per training run: the script's gradient clipping (_count_clip)

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
                recorder.failed(exc)
            recorder.seconds += _clock() - started
            result = original(tensors, *args, **kwargs)
            if before is not None:
                started = _clock()
                try:
                    recorder._after(*before)
                except Exception as exc:
                    recorder.failed(exc)
                recorder.seconds += _clock() - started
            return result

        backward.__wrapped__ = original
        torch.autograd.backward = backward

        def stepped(optimizer, args, kwargs):
            if recorder.enabled and recorder.runs:
                try:
                    recorder._count_step(optimizer)
                except Exception as exc:
                    recorder.note(exc)

        from torch.optim.optimizer import register_optimizer_step_post_hook

        register_optimizer_step_post_hook(stepped)
        self._wrap_clipping()

    def _wrap_clipping(self) -> None:
        """torch.nn.utils.clip_grad_norm_ and clip_grad_value_ counted in their run, with how often they clipped:
        an update by a clipped gradient is no rule of the spec's optimizer, and the recorded gradients (taken at
        backward(), before the clipping) do not show it."""
        import torch
        import torch.nn.utils as utils
        import torch.nn.utils.clip_grad as clip_grad

        recorder = self
        by_norm, by_value = clip_grad.clip_grad_norm_, clip_grad.clip_grad_value_

        def counted(function: str, limit, clipped) -> None:
            if recorder.enabled and recorder.runs:
                try:
                    recorder._count_clip(function, limit, clipped())
                except Exception as exc:
                    recorder.note(exc)

        def clip_grad_norm_(parameters, max_norm, *args, **kwargs):
            total = by_norm(parameters, max_norm, *args, **kwargs)
            counted("clip_grad_norm_", max_norm, lambda: float(total) > float(max_norm))
            return total

        def clip_grad_value_(parameters, clip_value, *args, **kwargs):
            parameters = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
            largest = max((float(p.grad.detach().abs().max()) for p in parameters
                           if getattr(p, "grad", None) is not None and p.grad.numel()), default=0.0)
            result = by_value(parameters, clip_value, *args, **kwargs)
            counted("clip_grad_value_", clip_value, lambda: largest > float(clip_value))
            return result

        for module in (utils, clip_grad):
            module.clip_grad_norm_, module.clip_grad_value_ = clip_grad_norm_, clip_grad_value_

    def _count_clip(self, function: str, limit, clipped: bool) -> None:
        run = len(self.runs) - 1
        self.clips += [None] * (run + 1 - len(self.clips))
        if self.clips[run] is None:
            self.clips[run] = {"function": function, "limit": _number(float(limit)), "calls": 0, "clipped": 0}
        self.clips[run]["calls"] += 1
        self.clips[run]["clipped"] += bool(clipped)

    def note(self, exc: Exception) -> None:
        if len(self.errors) < 5:  # the outcome reports five
            self.errors.append(f"{type(exc).__name__}: {exc}")

    def failed(self, exc: Exception) -> None:
        """Recording one backward() raised: say so, and keep its place with an empty step while the trace holds
        every call so far (a step's place in the trace is its backward() call; a lost one shifted every later step)."""
        self.note(exc)
        if self.runs and sum(self.runs) < self.calls:  # it raised before the call was counted in its run
            self.runs[-1] += 1
        if len(self.steps) == self.calls - 1:
            self.steps.append({"values": {}, "grads": {}, "loss": None, "run": max(len(self.runs) - 1, 0)})

    def _count_step(self, optimizer) -> None:
        """One step() of a torch.optim optimizer, counted in the run its backward() calls belong to, with the classes
        that stepped in it."""
        run = len(self.runs) - 1
        missing = run + 1 - len(self.optimizer_steps)
        self.optimizer_steps += [0] * missing
        self.optimizers += [None] * missing
        self.optimizer_steps[run] += 1
        described, name = self.optimizers[run], type(optimizer).__name__[:40]
        if described is None:
            self.optimizers[run] = describe_optimizer(optimizer)
        elif name not in described["name"].split(" + "):
            # another class in the same run (SGD for the weight, Adam for the bias; or one after the other): both
            # named, in the order they first stepped, the first one's settings kept
            described["name"] = f"{described['name']} + {name}"[:40]

    def _count_run(self, leaves: list) -> None:
        ids = {id(t) for t in leaves}
        fresh = ids and self._previous_ids and not ids & self._previous_ids
        if not self.runs or (fresh and not _steps_on(self._previous, leaves)):
            if len(self.runs) < MAX_RUNS:
                self.runs.append(0)
                if len(self.runs) > 1 and self.trace_bytes > TRACE_BUDGET_BYTES * 3 // 4:
                    self._thin_earlier_runs()
        self.runs[-1] += 1
        if ids:
            self._previous, self._previous_ids = leaves, ids

    def _thin_earlier_runs(self) -> None:
        """Make room for the run that starts now: the last run is the one graded, and a script that compares
        seven optimisers would otherwise fill the budget before its last (the assignment's) run. The earlier
        runs keep their first steps, half of the budget among them; their other steps keep only their run and
        loss, so a step's place in the trace is still its backward() call."""
        share = TRACE_BUDGET_BYTES // 2 // max(1, len(self.runs) - 1)
        used: dict[int, int] = {}
        full: set[int] = set()  # runs past their share: all their later steps are thinned (an `own_same` step
        total = 0               # must not outlive the step that holds its inputs)
        for i, step in enumerate(self.steps):
            size = _step_bytes(step)
            if (step["run"] in full or used.get(step["run"], 0) + size > share) and (step["values"] or step["grads"]):
                full.add(step["run"])
                step = self.steps[i] = {"values": {}, "grads": {}, "loss": step["loss"], "run": step["run"]}
                size = _step_bytes(step)
            used[step["run"]] = used.get(step["run"], 0) + size
            total += size
        self.trace_bytes = total
        self.truncated = True

    def _before(self, tensors):
        import torch

        if isinstance(tensors, torch.Tensor):
            tensors = [tensors]
        tensors = list(tensors)
        frame = sys._getframe(2)
        self.line = script_line(frame, self.filename)
        leaves = reachable_leaves(tensors)
        self._count_run(leaves)
        record = (self.calls <= self.max_steps and self.trace_bytes < TRACE_BUDGET_BYTES
                  and self.seconds < RECORD_SECONDS)
        if not record:
            self.truncated = True
            return None
        names = self.namer.names_for(leaves, frame)
        values = {names.get(id(leaf), f"?{i}"): self._data(leaf) for i, leaf in enumerate(leaves)}
        loss = None
        if len(tensors) == 1 and tensors[0].numel() == 1:
            loss = _number(tensors[0].item())  # item() reads any one-element tensor, grad or not
        step = {"values": values, "loss": loss, "run": len(self.runs) - 1}
        line = student_line(frame, self.filename)
        if line is not None:
            step["line"] = line  # where the backward() was called, for the first-difference table
        if self.batches is not None:
            inputs = graph_inputs(tensors)
            candidates, partial = self.batches.find(frame, inputs, always_partial=True)
            step["batch"] = candidates
            largest = max((_rows_in(c) for c in candidates), default=0)
            # the graph's own data larger than every batch found is the student's data set: a loop counter or
            # a constant that equals a sample (`input_size = 1`) is no batch then
            _, computed_from = self.batches.find(None, inputs, always_partial=True)
            if partial is not None and (not candidates or (computed_from is not None and computed_from["size"] > largest)):
                step["unmatched"] = partial
            # a data set larger than every batch found is the student's own (a loop counter may look like a sample);
            # on the assignment's samples, small inputs are kept too: the targets may be the student's own
            if partial is not None and partial["size"] > largest:
                self.inputs.put(step, own_inputs(inputs))
            elif candidates:
                self.inputs.put(step, own_inputs(inputs, MAX_TARGETS_ELEMENTS))
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
        self.trace_bytes += _step_bytes(step)


OPTIMIZER_SETTINGS = ("lr", "momentum", "weight_decay", "nesterov", "max_iter", "line_search_fn")


def describe_optimizer(optimizer) -> dict:
    """An optimizer as the script made it: its class's name and its first parameter group's plain settings."""
    group = optimizer.param_groups[0] if getattr(optimizer, "param_groups", None) else {}
    settings = {}
    for key in OPTIMIZER_SETTINGS:
        value = group.get(key)
        if isinstance(value, (bool, int, float)) or (isinstance(value, str) and len(value) <= 40):
            settings[key] = _number(value) if isinstance(value, float) else value
        elif hasattr(value, "item") and getattr(value, "numel", lambda: 0)() == 1:  # lr as a tensor
            settings[key] = _number(float(value.item()))
    described = {"name": type(optimizer).__name__[:40], "settings": settings}
    groups = getattr(optimizer, "param_groups", None) or []
    lrs = [g.get("lr") for g in groups[:8]]
    if len(groups) > 1 and all(isinstance(lr, (int, float)) and not isinstance(lr, bool) for lr in lrs) \
            and len(set(lrs)) > 1:  # groups with lrs of their own: the first group's settings are not the rest's
        described["group_lrs"] = [_number(float(lr)) for lr in lrs]
    return described


def _step_bytes(step: dict) -> int:
    """About how many bytes of JSON one recorded step takes (a float at most ~24 characters)."""
    batch_bytes = sum(16 + 20 * len(c["rows"]) for c in step.get("batch", ()))
    batch_bytes += sum(48 + 24 * len(d["data"]) for d in step.get("own", ())) + 16 * step.get("own_same", False)
    return 70 + batch_bytes + sum(48 + len(name) + 24 * (len(d.get("data") or ()) + len(d.get("sketch") or ()))
                                  for part in (step["values"], step["grads"]) for name, d in part.items()
                                  if d is not None)


class HandGradientRecorder:
    """For gradients computed by hand (no backward()): every call of the student's gradient function, counted
    exactly, and recorded (up to the same bounds as GradientRecorder) as a step of the same shape: the spec's
    parameters when it is called, what it returns as their gradients, and the samples its arguments hold.

    A profile hook sees the calls: the function is defined only as the script runs, and is looked up by name at
    every call, so there is nothing to wrap beforehand. Only the outermost call of the function is a step.

    The same hook keeps the parameters as the training left them (`trained`): at the first event of the script's
    top level outside the top-level statement of the last call (a number rebound later, `for w in ...` after the
    loop, is then judged as trained: _restore_trained)."""

    def __init__(self, namespace: dict, plan: dict, filename: str, batches: BatchFinder | None,
                 statements: list[tuple[int, int]] | None = None, namer: LeafNamer | None = None):
        self.namespace, self.filename, self.batches = namespace, filename, batches
        self.inputs = RecordedInputs()
        self.namer = namer  # where a spec parameter the script names otherwise is found (match_numbers)
        self.function = plan.get("hand_gradient")
        self.params = list(plan.get("params", []))
        self.taken = {plan.get("forward", "forward"), plan.get("loss", "loss")}
        self.max_steps = int(plan.get("max_trace_steps", PLAN_MAX_TRACE_STEPS))
        self.steps: list[dict] = []
        self.calls = 0
        self.truncated = False
        self.errors: list[str] = []
        self.seconds = 0.0
        self.trace_bytes = 0
        self._is_gradient: dict = {}  # code object -> whether it is the gradient function's
        self._pending: dict | None = None
        self._depth = 0
        self.statements = statements or []  # the script's top-level statements as (first, last) lines
        self.line: int | None = None  # the script's top-level line at the last call (script_line)
        self.trained: dict[str, object] = {}
        self._span: tuple[int, int] | None = None  # the top-level statement of the last call, until `trained` is read

    def install(self) -> None:
        if self.function:
            sys.setprofile(self._event)

    def uninstall(self) -> None:
        if self.function:
            sys.setprofile(None)

    def _gradient_code(self, code) -> bool:
        """Whether `code` is the gradient function's: the spec's name, else the script's function that plays it.
        Decided once per code object: when the gradient function runs, it is defined."""
        known = self._is_gradient.get(code)
        if known is None:
            fn = self.namespace.get(self.function)
            if not _script_function(fn, self.filename):  # absent, or a number (`gradient = grad(xs, ys)`)
                name, _ = find_function(self.namespace, self.function, "function", self.filename, self.taken)
                fn = self.namespace.get(name) if name else None
            known = self._is_gradient[code] = isinstance(fn, types.FunctionType) and fn.__code__ is code
        return known

    def _event(self, frame, event, arg):
        if self._span is not None and frame.f_code.co_name == "<module>" and frame.f_code.co_filename == self.filename \
                and not self._span[0] <= frame.f_lineno <= self._span[1]:
            self._span = None
            self._record(self._keep_trained, None)
        if event == "call":
            code = frame.f_code
            if code.co_filename == self.filename and self._gradient_code(code):
                self._depth += 1
                if self._depth == 1:
                    self.calls += 1
                    self._record(self._call, frame)
        elif event == "return" and self._depth and self._is_gradient.get(frame.f_code):
            self._depth -= 1
            if self._depth == 0 and self._pending is not None:
                self._record(self._return, arg)

    def _record(self, part, arg) -> None:
        started = _clock()
        try:
            part(arg)
        except Exception as exc:  # never let recording break the student's run
            self._pending = None
            if len(self.errors) < 5:
                self.errors.append(f"{type(exc).__name__}: {exc}")
        self.seconds += _clock() - started

    def _path(self, name: str) -> str:
        return self.namer.path(name) if self.namer is not None else name

    def match_numbers(self, code) -> None:
        """At the first call: a spec parameter the script lacks (`w`) is the one number among the globals the
        gradient function reads (`权重`, itself or through forward), when exactly one is missing and one fits;
        the namer keeps it, so the probes, the final values and the note use it (unless names are strict)."""
        if self.namer is None or self.namer.strict:
            return
        missing = []
        for name in self.params:
            try:
                resolve_path(self.namespace, self._path(name))
            except LookupError:
                missing.append(name)
        if len(missing) != 1:
            return
        numbers = sorted(k for k in global_reads(code, self.namespace, self.filename)
                         if k not in self.params and not k.startswith("__")
                         and type(self.namespace.get(k)) in (int, float))
        if len(numbers) == 1:
            self.namer.aliases[missing[0]] = numbers[0]

    def _keep_trained(self, _) -> None:
        self.trained = {}
        for name in self.params:
            try:
                self.trained[name] = resolve_path(self.namespace, self._path(name))
            except LookupError:
                continue

    def _call(self, frame) -> None:
        self.line = script_line(frame, self.filename)
        self._span = statement_span(self.statements, self.line)
        if (self.calls > self.max_steps or self.trace_bytes >= TRACE_BUDGET_BYTES
                or self.seconds >= RECORD_SECONDS):
            self.truncated = True
            return
        if self.calls == 1:
            self.match_numbers(frame.f_code)
        values = {}
        for name in self.params:
            try:
                values[name] = _one_value(resolve_path(self.namespace, self._path(name)))
            except (LookupError, Refusal):
                continue
        step = {"values": values, "run": 0}
        line = student_line(frame.f_back, self.filename)
        if line is not None:
            step["line"] = line  # where the gradient function was called
        if self.batches is not None:
            # the samples are what the call is given (gradient(xs, ys)); a function that takes none reads the
            # script's own variables
            args = [frame.f_locals[n] for n in frame.f_code.co_varnames[:frame.f_code.co_argcount]]
            candidates, partial = self.batches.find(None, args)
            if not candidates and partial is None:
                candidates, partial = self.batches.find(frame.f_back, [])
            step["batch"] = candidates
            if partial is not None:
                step["unmatched"] = partial
            if candidates or partial is not None:
                # what it is given, small: targets of the student's own, or a data set of their own, are verified
                # on it (grader.own_run)
                self.inputs.put(step, own_inputs([t for t in map(_as_tensor, args) if t is not None]))
        self._pending = step

    def _return(self, value) -> None:
        step, self._pending = self._pending, None
        items = _returned_values(value)
        if len(self.params) == 1 and len(items) == 1:
            step["grads"] = {self.params[0]: items[0]}
        elif len(items) == len(self.params):
            step["grads"] = dict(zip(self.params, items))
        else:
            return  # a return the spec's parameters cannot be read from: counted, not recorded
        self.steps.append(step)
        self.trace_bytes += _step_bytes(step)


def _one_value(value) -> dict:
    """A parameter's value (a number, a tensor, a numpy array) as a step records it."""
    items = _returned_values(value)
    if len(items) != 1:
        raise Refusal("harness.returned_not_number", type=type(value).__name__)
    return items[0]


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
    if isinstance(exc, _NoKeyboard):
        error["reason"] = Refusal("harness.no_keyboard").said()
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


# IPython's own syntax, as a notebook user writes it, each never valid Python (worker/harness.py blanks or rewrites
# such lines only in a script that does not compile otherwise, so a line inside a string is left alone then).
_TIMED = re.compile(r"^(?P<indent>[ \t]*)%time[ \t]+(?P<statement>\S.*)$")  # %time runs its statement once
_HELP = re.compile(r"^[ \t]*(?:\?\??[ \t]*[A-Za-z_][\w.]*(?:\(\))?|[A-Za-z_][\w.]*(?:\(\))?[ \t]*\?\??)[ \t]*$")
_ASSIGNED = re.compile(r"^(?P<indent>[ \t]*)(?P<target>[A-Za-z_]\w*)[ \t]*=[ \t]*(?P<kind>[!%])(?P<rest>[^=].*)$")


def _is_ipython(text: str) -> bool:
    """Whether a line, if it starts a statement, is IPython's syntax (a magic, a shell or help line)."""
    stripped = text.lstrip()
    return ((stripped[:1] in ("%", "!") and not stripped.startswith("!=")) or bool(_HELP.match(text))
            or bool(_ASSIGNED.match(text)))


def _ipython_lines(lines: list[str]) -> list[int]:
    """The 0-based indices of the lines in IPython's syntax that start a statement: not inside brackets or a string,
    not after a backslash (a line `    % (a, b)` continuing a formatted string is Python). A scan of quotes,
    brackets and comments, not Python's tokenizer: the source does not compile."""
    found, depth, quote, continued = [], 0, None, False
    for index, line in enumerate(lines):
        text = line.rstrip("\r\n")
        if depth == 0 and quote is None and not continued and _is_ipython(text):
            found.append(index)
            continue
        i, continued = 0, False
        while i < len(text):
            ch = text[i]
            if quote is not None:
                if ch == "\\":
                    continued = i == len(text) - 1
                    i += 2
                elif text.startswith(quote, i):
                    i, quote = i + len(quote), None
                else:
                    i += 1
                continue
            if ch == "#":
                break
            if ch in "\"'":
                quote = ch * 3 if text.startswith(ch * 3, i) else ch
                i += len(quote)
                continue
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth = max(depth - 1, 0)
            elif ch == "\\" and i == len(text) - 1:
                continued = True
            i += 1
        if quote is not None and len(quote) == 1 and not continued:
            quote = None  # a string in single quotes ends with its line (Python says so, where it matters)
    return found


def _without_notebook_magics(source: str) -> tuple[str, list[int]]:
    """The source with IPython's syntax made Python, and the lines whose notebook-only part did not run.

    `%time statement` runs its statement (as in IPython, once); other % magics, ! shell commands and `name?` help
    lines become `pass`; `files = !ls` gets an empty list, `x = %magic` None (`x = %time f()` gets f()). Each is
    never valid Python where a statement starts (_ipython_lines), so changing it changes nothing else; line
    numbers stay as the student sees them."""
    # lines as Python counts them (str.splitlines() also ends one at U+2028 or a form feed, inside a string too)
    lines, ignored = [line for line in re.split(r"(?<=\n)|(?<=\r)(?!\n)", source) if line], []
    for index in _ipython_lines(lines):
        number, line = index + 1, lines[index]
        text, end = line.rstrip("\r\n"), line[len(line.rstrip("\r\n")):] or "\n"
        indent = text[: len(text) - len(text.lstrip())]
        timed, assigned = _TIMED.match(text), _ASSIGNED.match(text)
        if timed:
            lines[index] = timed.group("indent") + timed.group("statement") + end
        elif assigned:
            rest, target = assigned.group("rest"), assigned.group("indent") + assigned.group("target") + " = "
            statement = _TIMED.match("%" + rest) if assigned.group("kind") == "%" else None
            if statement:
                lines[index] = target + statement.group("statement") + end
            else:
                lines[index] = target + ("[]" if assigned.group("kind") == "!" else "None") + end
                ignored.append(number)
        else:
            lines[index] = f"{indent}pass  # notebook line ignored by the grader{end}"
            ignored.append(number)
    return "".join(lines), ignored


class _NotebookShell:
    """What get_ipython() returns in a script exported from a notebook: magics do nothing here."""

    def run_line_magic(self, *args, **kwargs):
        return None

    run_cell_magic = magic = system = getoutput = run_line_magic


class _NoKeyboard(EOFError):
    """What input() raises here: Python's own EOFError to the script (and in its traceback), whose report
    carries the reason harness.no_keyboard."""


_NoKeyboard.__module__, _NoKeyboard.__name__, _NoKeyboard.__qualname__ = "builtins", "EOFError", "EOFError"


def _no_keyboard(prompt="") -> str:
    """input() in the sandbox: nobody types, so say that (harness.no_keyboard) rather than the bare 'EOF when
    reading a line'."""
    print(prompt, end="", flush=True)
    raise _NoKeyboard("EOF when reading a line")


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
        cleaned, ignored = _without_notebook_magics(source)
        if cleaned == source:
            raise
        # A syntax error that remains is the one to show (same line numbers: lines were changed, not removed).
        code = compile(cleaned, filename, "exec", dont_inherit=True)
        return code, [{"code": "notebook_magics_ignored", "lines": ignored[:20]}] if ignored else []


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


def _named_after_training(namespace: dict, plan: dict, namer: LeafNamer, tensors: dict[str, object]) -> dict[str, str]:
    """Renames for parameters the training reached under a local name only (`net` inside a train() that returns it
    as the global `model`): the recorded name -> the spec's, where the spec's name now holds the very tensor."""
    renames = {}
    for param in plan.get("params", []):
        if param in tensors:
            continue
        try:
            value = resolve_path(namespace, namer.path(param))
        except LookupError:
            continue
        found = [name for name, tensor in tensors.items() if tensor is value and name not in plan.get("params", [])]
        if len(found) == 1:
            renames[found[0]] = param
    return renames


def _restore_trained(namespace: dict, plan: dict, trained: dict[str, object], steps: list[dict], line: int | None,
                     source: str) -> tuple[list[str], list[dict]]:
    """Bind each parameter the script re-created after training (`w = torch.Tensor([1.0])` or `model = Model()`
    after the loop, `for w in np.arange(...)` after training by hand) back to what its training left (`trained`:
    the tensor the last backward() reached under that name, or by hand the value the training left), so that
    everything read after the run judges what was trained. Returns their names, and each re-creation whose
    line is known ({"name", "line", "text", "params"}).

    Re-created means: the name now holds something other than what the training left, which moved from the
    run's starting value, and either the script binds the name's root again in a top-level statement after the
    one the training ran in (rebinding), or the name holds the starting value again. A script that re-creates
    its leaf at every update (`w = (w - lr * w.grad).detach()`) holds the updated value, not the start, and binds
    it inside the training's own statement: it keeps its own tensor."""
    replaced, recreated = [], {}
    for path in plan.get("params", []):
        kept = trained.get(path)
        if kept is None:
            continue
        where = _param_path(plan, path)  # the script's own name for it (names by role)
        try:
            current = resolve_path(namespace, where)
        except LookupError:
            current = None
        if current is kept:
            continue
        start = _start_value(steps, path)
        if start is None or _holds(kept, start):
            continue
        if _holds(current, _flat(kept)):
            continue  # the trained values under a new object (`model = copy.deepcopy(model)`): nothing to say
        root = where.split(".")[0]
        again = rebinding(source, root, line) if root in namespace else None
        if again is None and not _holds(current, start):
            continue
        try:
            if "." in where:
                holder, _, attribute = where.rpartition(".")
                setattr(resolve_path(namespace, holder), attribute, kept)
            elif where in namespace:
                namespace[where] = kept
            else:
                continue
        except Exception:  # the holder refuses the attribute: judge what the script left
            continue
        if resolve_path(namespace, where) is kept:
            replaced.append(path)
            if again is not None:
                recreated.setdefault((root, again["line"]), {"name": root, **again, "params": []})["params"].append(path)
    return replaced, list(recreated.values())


def student_line(frame, filename: str) -> int | None:
    """The line of the student's own code nearest `frame` (the call that made a step), from `frame` up."""
    for _ in range(200):
        if frame is None:
            return None
        if frame.f_code.co_filename == filename:
            return frame.f_lineno
        frame = frame.f_back
    return None


def script_line(frame, filename: str) -> int | None:
    """The line the script's top level is running (where a loop or a call that trains sits): from `frame` up."""
    for _ in range(200):
        if frame is None:
            return None
        code = frame.f_code
        if code.co_name == "<module>" and code.co_filename == filename:
            return frame.f_lineno
        frame = frame.f_back
    return None


def _script_tree(source: str):
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        try:
            return ast.parse(_without_notebook_magics(source)[0])
        except (SyntaxError, ValueError, RecursionError):
            return None
    except RecursionError:
        return None


def top_level_statements(source: str) -> list[tuple[int, int]]:
    """The script's top-level statements as (first line, last line)."""
    tree = _script_tree(source)
    return [(node.lineno, node.end_lineno or node.lineno) for node in tree.body] if tree is not None else []


def statement_span(statements: list[tuple[int, int]], line: int | None) -> tuple[int, int] | None:
    if line is None:
        return None
    return next(((a, b) for a, b in statements if a <= line <= b), (line, line))


_NEW_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp,
               ast.DictComp, ast.GeneratorExp)


def _binding_line(statement, name: str, fresh: bool = False) -> int | None:
    """The first line where `statement` binds `name` in the script's global scope (not inside a def or a class);
    `fresh`: only to a new value, not one made from the name itself (`w -= lr * g`, `w = w - lr * g` update it)."""
    lines, stack, updates = [], [statement], set()
    while stack:
        node = stack.pop()
        if fresh and isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            updates.add(id(node.target))
        elif fresh and isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and any(
                isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) for n in ast.walk(node.value)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            updates.update(id(t) for t in targets if isinstance(t, ast.Name))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id == name:
            if id(node) not in updates:
                lines.append(node.lineno)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            lines += [node.lineno for a in node.names if (a.asname or a.name.split(".")[0]) == name]
        if isinstance(node, _NEW_SCOPES):
            if getattr(node, "name", None) == name:
                lines.append(node.lineno)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return min(lines) if lines else None


def never_bound(source: str, names) -> list[str]:
    """Of `names`, those the script binds nowhere in its global scope (no assignment, def, class or import at
    any line): a run that stopped before them would not have reached them either."""
    tree = _script_tree(source)
    if tree is None:
        return []
    return [name for name in dict.fromkeys(names)
            if all(_binding_line(node, name) is None for node in tree.body)]


def _missing(refusal: Refusal, plan: dict) -> Refusal:
    """A refusal for a name the plan asks for and the script lacks, marked `unbound` when the script binds it
    nowhere (grader.checks.stopped then judges the check: the name is missing, not unreached)."""
    if str(refusal.params.get("name", "")).split(".", 1)[0] in (plan.get("unbound") or ()):
        refusal.params["unbound"] = True
    return refusal


def rebinding(source: str, name: str, line: int | None) -> dict | None:
    """Where the script binds `name` again at its top level to a new value, in a statement after the top-level
    statement that holds `line`: {"line", "text" (that line's code, without its comment or colon)}; None when it
    does not (an update of the name from itself, `w -= lr * grad`, is no re-creation)."""
    tree = _script_tree(source) if line is not None else None
    if tree is None:
        return None
    after = next((node.end_lineno for node in tree.body if node.lineno <= line <= (node.end_lineno or node.lineno)), line)
    for node in tree.body:
        if node.lineno > after:
            found = _binding_line(node, name, fresh=True)
            if found is not None:
                return {"line": found, "text": _code_of_line(source, found)}
    return None


def _code_of_line(source: str, line: int) -> str:
    """A line of the script as a note quotes it: stripped, without a comment or a compound statement's colon."""
    import io
    import tokenize

    text = source.splitlines()[line - 1] if 0 < line <= len(source.splitlines()) else ""
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                text = text[:token.start[1]]
                break
    except (tokenize.TokenError, SyntaxError):
        pass
    return text.strip().rstrip(":").strip()[:200]


def _start_value(steps: list[dict], path: str) -> list | None:
    """The value `path` had at the first recorded backward() of the last training run."""
    if not steps:
        return None
    run = steps[-1].get("run")
    first = next((s for s in steps if s.get("run") == run and path in s.get("values", {})), None)
    data = first["values"][path].get("data") if first else None
    return data if isinstance(data, list) else None


def _flat(value) -> list[float] | None:
    """A tensor's or a number's values, flat; None for anything else."""
    import torch

    try:
        if isinstance(value, torch.Tensor):
            return value.detach().reshape(-1).double().tolist()
        if _is_number(value):
            return [float(value)]
    except Exception:
        return None
    return None


def _holds(value, data: list | None) -> bool:
    """Whether a tensor or number holds exactly these values."""
    flat = _flat(value)
    return (flat is not None and data is not None and len(flat) == len(data)
            and all(isinstance(b, float) and a == b for a, b in zip(flat, data)))


def _param_path(plan: dict, name: str) -> str:
    """Where the script keeps the spec's parameter `name`: its own name for it, when it uses another."""
    return (plan.get("aliases") or {}).get(name, name)


STAND_IN_NAME = "__grader_loss__"
STAND_IN_LOSSES = {"mse": "MSELoss", "bce": "BCELoss"}


def stand_in_loss(namespace: dict, loss: dict | None) -> str | None:
    """For a script with no loss object (it calls torch's functional loss in its loop), the spec's own torch loss
    (plan `loss_stand_in`) kept under STAND_IN_NAME for the gradient probes, so they still judge the student's
    model; its training loss is judged step by step apart. Returns how the note shows it, or None."""
    import torch

    if not loss or loss.get("kind") not in STAND_IN_LOSSES or loss.get("reduction") not in ("sum", "mean"):
        return None
    cls = STAND_IN_LOSSES[loss["kind"]]
    namespace[STAND_IN_NAME] = getattr(torch.nn, cls)(reduction=loss["reduction"])
    return f"torch.nn.{cls}(reduction='{loss['reduction']}')"


def names_by_role(namespace: dict, plan: dict, namer: LeafNamer, filename: str, finished: bool = True
                  ) -> tuple[dict, list[dict], dict]:
    """The plan as the reading after the run uses it, with the student's own names for the spec's parameters
    and functions where the script lacks the spec's (see LeafNamer and find_function); the notes that tell
    the student which name was read as which, or which names fit a role equally; and the trace's renames
    for parameters settled only now, by where they enter the graph (LeafNamer.fit_by_forward)."""
    namer.match_leaves()
    namer.forget_defined()
    plan = dict(plan)
    notes: list[dict] = []
    renames: dict[str, str] = {}
    if not namer.strict:
        probes = [dict(p) for p in plan.get("function_probes") or []]
        wanted = [("forward", plan.get("forward", "forward")), ("loss", plan.get("loss", "loss"))]
        wanted += [("function", name) for name in dict.fromkeys(p["function"] for p in probes)]
        taken = {name for _, name in wanted}
        renamed: dict[str, str] = {}
        for role, name in wanted:
            if name in namespace or name in renamed:
                continue
            # by what a function reads only for a loss written out with autograd (lecture 4), and the forward(x) of
            # gradients by hand (lecture 3's one function of x that reads w, `def model(x)`): by hand, cost(xs, ys)
            # and gradient(xs, ys) take the same arguments and read the same w, and a per-sample loss(x, y) is
            # not the batch's cost; a torch loss is an object (found by kind, or the spec's stands in)
            plain = not plan.get("loss_stand_in") and (not plan.get("hand_gradient") or role == "forward")
            reads = {namer.path(p).split(".", 1)[0] for p in plan.get("params", [])} if plain else None
            if role == "loss" and reads is not None:
                reads.add(renamed.get(plan.get("forward", "forward"), plan.get("forward", "forward")))
            found, candidates = find_function(namespace, name, role, filename, taken, reads)
            if found is not None:
                renamed[name] = found
                taken.add(found)
                notes.append({"code": "name_read_as", "ours": name, "yours": found})
            elif candidates:
                notes.append({"code": "name_undecided", "ours": name, "candidates": candidates[:8]})
            elif role == "loss" and finished:  # a script cut short is told what it never defined
                stand_in = stand_in_loss(namespace, plan.get("loss_stand_in"))
                if stand_in is not None:
                    renamed[name] = STAND_IN_NAME
                    notes.append({"code": "loss_stand_in", "ours": name, "yours": stand_in})
        for key in ("forward", "loss"):
            plan[key] = renamed.get(plan.get(key, key), plan.get(key, key))
        for probe in probes:
            probe["function"] = renamed.get(probe["function"], probe["function"])
        plan["function_probes"] = probes
        forward = namespace.get(plan.get("forward", "forward"))
        inputs = list(dict.fromkeys(json.dumps(p["x"]) for p in plan.get("probes") or []))[:3]
        if namer.undecided and callable(forward) and plan.get("forward_expr") and inputs:
            renames = namer.fit_by_forward(forward, plan["forward_expr"], [json.loads(x) for x in inputs])
    plan["aliases"] = dict(namer.aliases)
    notes = [{"code": "name_read_as", "ours": ours, "yours": yours} for ours, yours in namer.aliases.items()] + notes
    notes += [{"code": "name_undecided", "ours": ours, "candidates": candidates[:8]}
              for ours, candidates in namer.undecided.items()]
    plan["global_arguments"], read_notes = arguments_from_globals(namespace, plan, filename)
    return plan, notes + read_notes + other_loss(namespace, plan) + model_activations(namespace, plan), renames


# torch's activation functions as a forward() calls them: torch.relu(x), F.elu(x), x.sigmoid()
ACTIVATION_CALLS = re.compile(r"\b(?:torch\.|F\.|functional\.|nn\.functional\.)(sigmoid|tanh|relu|relu6|elu|selu|celu|"
                              r"gelu|silu|mish|softplus|softsign|leaky_relu|hardtanh|hardsigmoid|hardswish|logsigmoid|"
                              r"prelu|rrelu|tanhshrink)\s*\(|\.(sigmoid|tanh|relu)\s*\(\s*\)")


def model_activations(namespace: dict, plan: dict) -> list[dict]:
    """A note of the activations the script's model applies: its activation and dropout modules' classes (ReLU,
    Sigmoid, Dropout) and the torch functions its forward() calls (relu, elu), so a network that swaps the
    assignment's for others is told which. Only for a model object; nothing when none is found."""
    import torch

    model = namespace.get(plan.get("forward", "forward"))
    if not isinstance(model, torch.nn.Module):
        return []
    found = []
    for module in model.modules():
        if type(module).__module__ in ("torch.nn.modules.activation", "torch.nn.modules.dropout"):
            found.append(type(module).__name__[:40])  # dropout too: no parameter of its own shows it
    try:
        source = inspect.getsource(type(model).forward)
    except (OSError, TypeError):
        source = ""
    for match in ACTIVATION_CALLS.finditer(source):
        found.append(match.group(1) or match.group(2))
    names = list(dict.fromkeys(found))[:8]
    return [{"code": "model_activations", "candidates": names}] if names else []


def other_loss(namespace: dict, plan: dict) -> list[dict]:
    """A note when the script's loss object is a torch loss of another class than the spec's (nn.L1Loss where
    the assignment's is nn.MSELoss): its class and the spec's, so the wrong gradient it gives is said as that."""
    import torch

    spec_loss = (plan.get("loss_stand_in") or {}).get("kind")
    loss = namespace.get(plan.get("loss", "loss"))
    if spec_loss not in STAND_IN_LOSSES or not isinstance(loss, torch.nn.modules.loss._Loss):
        return []
    name = type(loss).__name__[:60]
    if name == STAND_IN_LOSSES[spec_loss]:
        return []
    return [{"code": "other_loss", "ours": STAND_IN_LOSSES[spec_loss], "yours": name}]


def arguments_from_globals(namespace: dict, plan: dict, filename: str) -> tuple[dict[str, list[str]], list[dict]]:
    """The script's functions that take none of the arguments the assignment passes them and read them from
    globals instead (`def loss(): return (forward(x) - y) ** 2` inside a loop over x, y; `def cost()` over
    x_data and y_data): function name -> the globals that play its arguments, in the order it first reads
    them, where exactly as many fit (the parameters, functions and modules it reads are none of them); and the
    notes that say so."""
    wanted = {plan.get("forward", "forward"): ROLE_ARGUMENTS["forward"], plan.get("loss", "loss"): ROLE_ARGUMENTS["loss"]}
    for probe in plan.get("function_probes") or []:
        wanted.setdefault(probe["function"], len(probe["args"]))
    held = {_param_path(plan, p).split(".", 1)[0] for p in plan.get("params", [])}
    found: dict[str, list[str]] = {}
    notes = []
    for name, count in wanted.items():
        fn = namespace.get(name)
        if not _script_function(fn, filename) or fn.__code__.co_argcount or fn.__code__.co_flags & inspect.CO_VARARGS:
            continue
        loaded = dict.fromkeys(i.argval for i in dis.get_instructions(fn.__code__) if i.opname == "LOAD_GLOBAL")
        read = [n for n in loaded if n in namespace and n not in held and not callable(namespace[n])
                and not isinstance(namespace[n], types.ModuleType)]
        if len(read) == count:
            found[name] = read
            notes.append({"code": "arguments_read_as_globals", "ours": name, "candidates": read})
    return found, notes


def renamed_steps(steps: list[dict], renames: dict[str, str]) -> list[dict]:
    """The recorded steps with their per-name entries renamed all at once (a swap stays a swap)."""
    if not renames:
        return steps
    out = []
    for step in steps:
        step = dict(step)
        for key, value in step.items():
            if isinstance(value, dict) and any(name in renames for name in value):
                step[key] = {renames.get(name, name): v for name, v in value.items()}
        out.append(step)
    return out


def _read_final_params(namespace: dict, plan: dict) -> dict:
    out = {}
    for path in plan.get("params", []):
        try:
            value = resolve_path(namespace, _param_path(plan, path))
        except LookupError:
            out[path] = {"kind": "missing"}
            continue
        try:
            out[path] = describe_value(value, plan.get("max_tensor_elements", PLAN_MAX_TENSOR_ELEMENTS))
        except Exception as exc:
            out[path] = {"kind": "other", "type": type(value).__name__, "error": str(exc)[:300]}
    return out


def _function(namespace: dict, name: str, plan: dict):
    fn = namespace.get(name)
    if fn is None:
        raise _missing(Refusal("harness.no_function", name=name), plan)
    if not callable(fn):
        raise Refusal("harness.not_function", name=name, type=type(fn).__name__)
    fn = with_params_passed(fn, namespace, plan)
    read = (plan.get("global_arguments") or {}).get(name)
    return with_globals_as_arguments(fn, namespace, read) if read else fn


def with_globals_as_arguments(fn, namespace: dict, names: list[str]):
    """`fn`, which reads its arguments from the globals `names` (arguments_from_globals), called with arguments:
    they are bound to those globals for the call, and the globals restored after it."""

    def called(*args):
        if len(args) != len(names):
            return fn(*args)
        held = {name: namespace[name] for name in names if name in namespace}
        namespace.update(zip(names, args))
        try:
            return fn()
        finally:
            namespace.update(held)

    return called


def with_params_passed(fn, namespace: dict, plan: dict):
    """`fn`, called as the assignment calls it, for a function that also takes the model's parameters as its
    last arguments (`def forward(x, w)`, `def loss(x, y, w)`, the lecture's functions with w passed in): the
    parameters it names are passed as the script holds them at the call (a probe sets them first)."""
    if not isinstance(fn, types.FunctionType):
        return fn
    code = fn.__code__
    required = code.co_argcount - len(fn.__defaults__ or ())
    names = code.co_varnames[:required]
    held = {_param_path(plan, p).split(".", 1)[0] for p in plan.get("params", [])}
    passed = [i for i, n in enumerate(names) if n in held and n in namespace]
    if not passed or passed != list(range(passed[0], required)):
        return fn  # only trailing arguments named as the script's parameters are filled in

    def called(*args):
        if len(args) != passed[0]:
            return fn(*args)
        return fn(*args, *(namespace[names[i]] for i in passed))

    return called


def _call_with_numbers(fn, *args, integer_last: bool = False):
    """Call a student function with plain numbers (or lists), as the assignment's data are; a script
    written for tensor inputs (torch.pow(x, 2), an nn.Module, a torch loss) gets tensors instead, of
    torch's default dtype (float64 where the model refuses float32), and class labels (`integer_last`) as int64 as CrossEntropyLoss wants them."""
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

    def tensors(dtype):
        return (torch.tensor(a, dtype=torch.int64 if integer_last and i == last else dtype) if plain(a) else a
                for i, a in enumerate(args))

    try:
        return fn(*tensors(None))
    except Exception as exc:
        try:  # a model made float64 (model.double()) refuses float32 inputs; its error is the float32 one
            return fn(*tensors(torch.float64))
        except Exception:
            pass
        if first is None:
            raise exc from None
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
    raise Refusal("harness.returned_not_number", type=type(value).__name__)


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
        raise Refusal("harness.no_param", name=path)


def _function_probes(namespace: dict, plan: dict) -> list[dict]:
    """Call the student's own function (a hand-computed gradient, a loss, a forward) at each probe point."""
    results = []
    for probe in (plan.get("function_probes") or [])[:1000]:
        try:
            fn = _function(namespace, probe["function"], plan)
            for path, value in probe["params"].items():
                _set_param(namespace, _param_path(plan, path), value)
            results.append({"value": _returned_values(_call_with_numbers(fn, *probe["args"]))})
        except BaseException as exc:
            results.append({"error": _said(exc)})
    return results


def _batch_predictions(namespace: dict, plan: dict) -> list[dict]:
    """forward on all of an accuracy check's samples at once (their x only)."""
    import torch

    results = []
    for batch in plan.get("batch_inputs") or []:
        try:
            forward = _function(namespace, plan.get("forward", "forward"), plan)
            with torch.no_grad():
                results.append({"id": batch["id"], "value": _as_float(_call_with_numbers(forward, batch["x"]))})
        except BaseException as exc:
            results.append({"id": batch["id"], "error": _said(exc)})
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


MAX_PATH_NOTES = 4


def _redirect_data_paths(files: dict, notes: list[dict]) -> None:
    """A data file loaded by the path it has on the student's own machine (`r'.\\dataset\\diabetes.csv.gz'`,
    `'D:/PyCharm/dataset/diabetes.csv.gz'`, `'/content/diabetes.csv'`): np.loadtxt, np.genfromtxt and open() for
    reading, given a path that does not exist here but whose last part (split at / and at \\) names one of the
    assignment's data files, read that file instead; a note (at most MAX_PATH_NOTES) says which path was read as
    which. A path that exists is opened as it is."""
    import builtins

    import numpy

    here = {}
    for name in files or {}:
        parts = _data_path(name)
        if parts is not None:
            here.setdefault(parts[-1].lower(), (os.path.abspath(os.path.join(*parts)), parts[-1]))
    if not here:
        return
    said_for: set[str] = set()

    def local(path):
        try:
            text = os.fspath(path)
        except TypeError:
            return path
        if not isinstance(text, str) or not text or os.path.exists(text):
            return path
        found = here.get(text.replace("\\", "/").rsplit("/", 1)[-1].lower())
        if found is None:
            return path
        if text not in said_for and len(said_for) < MAX_PATH_NOTES:
            said_for.add(text)
            notes.append({"code": "data_path_read_as", "ours": found[1], "yours": text[:200]})
        return found[0]

    def wrap(function, reading=lambda args, kwargs: True):
        def redirected(*args, **kwargs):
            if args and reading(args, kwargs):
                args = (local(args[0]), *args[1:])
            elif "fname" in kwargs:
                kwargs["fname"] = local(kwargs["fname"])
            return function(*args, **kwargs)

        redirected.__wrapped__ = function
        return redirected

    def read_mode(args, kwargs) -> bool:
        mode = args[1] if len(args) > 1 else kwargs.get("mode", "r")
        return isinstance(mode, str) and not set(mode) & set("wax+")

    builtins.open = wrap(builtins.open, read_mode)
    numpy.loadtxt = wrap(numpy.loadtxt)
    numpy.genfromtxt = wrap(numpy.genfromtxt)


def _predictions(namespace: dict, plan: dict) -> list[dict]:
    import torch

    inputs = plan.get("predict_inputs") or []
    results = []
    try:
        forward = _function(namespace, plan.get("forward", "forward"), plan)
    except Refusal as exc:
        return [{"x": x, "error": exc.said()} for x in inputs]
    for index, x in enumerate(inputs):
        try:
            with torch.no_grad():
                results.append({"x": x, "index": index, "value": _as_float(_call_with_numbers(forward, x))})
        except BaseException as exc:
            results.append({"x": x, "index": index, "error": _said(exc)})
    return results


def _probes(namespace: dict, plan: dict) -> dict:
    """Set the parameters to each probe's values, run the student's loss(x, y).backward(), read .grad."""
    import torch

    probes = plan.get("probes") or []
    if not probes:
        return {"results": []}
    try:
        loss_fn = _function(namespace, plan.get("loss", "loss"), plan)
    except Refusal as exc:
        return {"error": exc.said(), "results": []}
    params = {}
    shapes = plan.get("param_shapes") or {}
    for path in plan.get("params", []):
        try:
            value = resolve_path(namespace, _param_path(plan, path))
        except LookupError:
            return {"error": _missing(Refusal("harness.no_param", name=path), plan).said(), "results": []}
        if isinstance(value, torch.Tensor) and path in shapes and value.numel() != _numel(shapes[path]):
            return {"error": Refusal("harness.param_shape", name=_param_path(plan, path), shape=list(value.shape),
                                     expected_name=path, expected_shape=list(shapes[path])).said(), "results": []}
        if not isinstance(value, torch.Tensor):
            return {"error": Refusal("harness.param_not_tensor", name=path, type=type(value).__name__).said(),
                    "results": []}
        if not value.is_leaf:
            return {"error": Refusal("harness.param_not_leaf", name=path).said(), "results": []}
        if not value.requires_grad:
            return {"error": Refusal("harness.param_no_grad", name=path).said(), "results": []}
        params[path] = value
    forward = namespace.get(plan.get("forward", "forward"))
    forward = with_params_passed(forward, namespace, plan) if callable(forward) else forward
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


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


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
            raise Refusal("harness.loss_not_tensor", type=type(loss).__name__)
        if loss.numel() != 1:
            raise Refusal("harness.loss_not_scalar", shape=list(loss.shape))
        stage = PROBE_RAISED  # backward() of a loss that reaches no parameter raises: as little use as a crash
        loss.backward()
        grads = {path: (None if p.grad is None else _tensor_data(p.grad, 1 << 16)) for path, p in params.items()}
        worked = any(g is not None for g in grads.values())
        return (PROBE_WORKED if worked else PROBE_REACHED_NOTHING,
                {"grads": grads, "loss": _number(loss.detach().reshape(-1)[0].item())})
    except BaseException as exc:
        return stage, {"error": _said(exc)}


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
    path_notes: list[dict] = []
    try:
        _redirect_data_paths(plan.get("files"), path_notes)
    except Exception as exc:  # the data is still there under its own names
        setup_errors.append(f"data paths: {type(exc).__name__}: {str(exc)[:200]}")
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
    namer = LeafNamer(namespace, list(plan.get("params", [])), plan.get("param_shapes"),
                      strict=plan.get("names") == "strict")
    trained = TrainedNames(namer)
    recorder = GradientRecorder(trained,
                                int(plan.get("max_trace_steps", PLAN_MAX_TRACE_STEPS)),
                                int(plan.get("max_tensor_elements", PLAN_MAX_TENSOR_ELEMENTS)),
                                _batch_finder(plan, filename, setup_errors), filename)
    recorder.install()
    by_hand = HandGradientRecorder(namespace, plan, filename, recorder.batches,
                                   top_level_statements(source) if plan.get("hand_gradient") else None, namer)

    def recorded(run: dict) -> dict:
        """The outcome's start: how the run ended and what both recorders hold (stopped first: the probes
        call the student's functions, the gradient function too)."""
        recorder.enabled = False
        by_hand.uninstall()
        outcome = {"version": OUTCOME_VERSION, **run,
                   "backward_calls": recorder.calls, "runs": recorder.runs, "trace": recorder.steps,
                   "optimizer_steps": recorder.optimizer_steps, "optimizers": recorder.optimizers,
                   "clips": recorder.clips,
                   "trace_truncated": recorder.truncated,
                   "recorder_errors": (setup_errors + recorder.errors + by_hand.errors)[:5]}
        if by_hand.function:
            outcome.update(hand_calls=by_hand.calls, hand_trace=by_hand.steps, hand_truncated=by_hand.truncated)
        return outcome

    def _trained() -> tuple[dict, list[dict], int | None]:
        """What the training left of each parameter, its recorded steps and its last top-level line."""
        if by_hand.function and by_hand.calls:
            return by_hand.trained, by_hand.steps, by_hand.line
        last = {id(t) for t in recorder._previous}  # what the final backward() reached under each name
        return ({name: t for name, t in trained.tensors.items() if id(t) in last}, recorder.steps, recorder.line)

    def report(run: dict) -> None:
        outcome = recorded(run)
        if run["status"] not in ("syntax_error", "os_exit"):
            reading, name_notes, renames = names_by_role(namespace, plan, namer, filename, run["status"] == "ok")
            if run["status"] != "ok":  # a stop: which of the names the checks call the script has nowhere
                wanted = [_param_path(reading, p).split(".", 1)[0] for p in reading.get("params", [])]
                wanted += [reading.get("forward", "forward"), reading.get("loss", "loss")]
                wanted += [p["function"] for p in reading.get("function_probes") or []]
                reading["unbound"] = never_bound(source, [n for n in wanted if n not in namespace])
            renames = {**_named_after_training(namespace, reading, namer, trained.tensors), **renames}
            if renames:  # parameters settled only after the run: their steps and trained tensors take the spec's names
                recorder.steps[:] = renamed_steps(recorder.steps, renames)
                trained.tensors = {renames.get(k, k): v for k, v in trained.tensors.items()}
            outcome["trace"] = recorder.steps
            outcome["notes"] = (outcome.get("notes") or []) + path_notes + name_notes
            outcome["replaced"], outcome["recreated"] = _restore_trained(namespace, reading, *_trained(), source)
            outcome["final_params"] = _read_final_params(namespace, reading)
            outcome["predictions"] = _predictions(namespace, reading)
            outcome["batch_predictions"] = _batch_predictions(namespace, reading)  # before probes move the params
            outcome["probes"] = _probes(namespace, reading)
            outcome["function_probes"] = _function_probes(namespace, reading)
        writer.write(outcome)

    job_pid = os.getpid()

    def cpu_spent(signum, frame):
        # the soft CPU limit (worker/sandbox/rlimits.py): report what ran before the hard limit's SIGKILL; no
        # probe or prediction (they would run the student's code again, on no CPU time left)
        if os.getpid() != job_pid:
            _os_exit(CPU_LIMIT_EXIT)
        _flush()
        writer.write(recorded({"status": "cpu_limit"}))
        _os_exit(CPU_LIMIT_EXIT)

    signal.signal(signal.SIGXCPU, cpu_spent)

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
    by_hand.install()
    run = _run_script(source, filename, namespace)
    by_hand.uninstall()
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
