"""What the student hears about names: a spec name read as the student's own ("we read your w_1 as w1", a note
that costs nothing), a spec name several of the student's names fit equally (never guessed: they are listed),
a data file's path on the student's own machine read as the assignment's file (a note too), a function that reads
its arguments from globals called with them bound there (a note too), and parameters
the student's model trains that the assignment's model has not.

The harness matches names by role (worker/harness.py, LeafNamer and find_function) unless the spec says
`names: strict`; it reports each match as a run note, which is said here.
"""
from __future__ import annotations

from grader.messages import Message
from grader.outcome import Outcome
from grader.spec import AssignmentSpec

NAME_NOTES = ("name_read_as", "name_undecided", "loss_stand_in", "data_path_read_as", "arguments_read_as_globals")


def name_notes(outcome: Outcome) -> list[Message]:
    """The harness's name notes as messages, in the order it made them."""
    messages = []
    for note in outcome.notes:
        if note.code == "name_read_as":
            messages.append(Message("note.name_read_as", {"yours": note.yours, "ours": note.ours}))
        elif note.code == "loss_stand_in":
            messages.append(Message("note.loss_stand_in", {"ours": note.ours, "loss": note.yours}))
        elif note.code == "data_path_read_as":
            messages.append(Message("note.data_path_read_as", {"yours": note.yours, "ours": note.ours}))
        elif note.code == "arguments_read_as_globals":
            messages.append(Message("note.arguments_read_as_globals",
                                    {"function": note.ours, "names": ", ".join(note.candidates)}))
        elif note.code == "name_undecided":
            messages.append(Message("names.undecided", {"ours": note.ours, "candidates": ", ".join(note.candidates)}))
    return messages


def extra_params(spec: AssignmentSpec, outcome: Outcome) -> list[Message]:
    """Parameters of the student's model that the training reached and the spec has not: for a model object,
    paths inside an object the spec's own parameters live in (`model.linear4.weight`, an extra layer); for plain
    tensors, a global the same steps reach as the spec's parameters and the training updates (a bias b added to
    y = w·x). A tensor the script differentiates on the side is not called a parameter."""
    params = set(spec.model.params)
    heads = {name.split(".", 1)[0] for name in params if "." in name}
    steps = outcome.trace[:3]
    seen: dict[str, list[int]] = {}
    for step in steps:
        for name, grad in step.grads.items():
            if name in params or name.startswith("?"):
                continue
            if heads and "." in name and name.split(".", 1)[0] in heads:
                seen.setdefault(name, list(grad.shape) if grad is not None else [])
            elif not heads and "." not in name and params & set(step.grads) and _updated(steps, name):
                seen.setdefault(name, list(grad.shape) if grad is not None else [])
    if not seen:
        return []
    listed = ", ".join(f"{name} {shape}" for name, shape in sorted(seen.items()))
    return [Message("names.extra_params", {"params": listed})]


def _updated(steps: list, name: str) -> bool:
    """Whether the value of `name` changes between the recorded steps (the training updates it)."""
    values = [step.values[name].array() for step in steps if name in step.values]
    return any(v is not None and values[0] is not None and (v.shape != values[0].shape or (v != values[0]).any())
               for v in values[1:])
