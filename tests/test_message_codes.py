"""Every message code the grader can store renders in every language, with every parameter its sentence needs;
nothing stored is English that a reader translates back; rows of older graders are rewritten into codes."""
from __future__ import annotations

import ast
import datetime as dt
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from grader.db import Database, upgrade
from grader.i18n import LANGUAGES
from grader.messages import (DEFAULTS, MESSAGES, TITLES, UnknownMessage, is_message, placeholders, render,
                             render_failure, said, title)
from grader.diagnosis import DIAGNOSED_NOTES
from grader.names import NAME_NOTES
from grader.outcome import HARNESS_CODES, OTHER_SIGNAL, SIGNAL_REASONS, RunNote

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(p for folder in ("grader", "worker") for p in (ROOT / folder).rglob("*.py"))
FAMILIES = ("runs", "gradients", "trace", "final_params", "predictions", "function", "accuracy", "check", "mistake",
            "note", "reason", "value", "signal", "outcome", "harness", "selfcheck", "dry_run", "failure", "names", "training",
            "spec")
CODE = re.compile(rf"^(?:{'|'.join(FAMILIES)})\.[a-z_]+$")
# calls whose first argument is a message code and whose other arguments (a dict, or keywords) are its parameters
MAKERS = {"Message", "said", "Refusal", "OutcomeError", "refused"}
OTHER_LANGUAGES = [lang for lang in LANGUAGES if lang != "en"]


def stored_codes() -> dict[str, list[str]]:
    """Every string in grader/ and worker/ shaped like a message code, with where it is written."""
    found: dict[str, list[str]] = {}
    for path in SOURCES:
        tree = ast.parse(path.read_text("utf-8"))
        pieces = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value)
                    and id(node) not in pieces and not node.value.endswith(".py")):
                found.setdefault(node.value, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    # run_notes: note.<code> (diagnose() says a DIAGNOSED_NOTES one as its mistake)
    for note in set(RunNote.model_fields["code"].annotation.__args__) - set(NAME_NOTES) - set(DIAGNOSED_NOTES):
        found.setdefault(f"note.{note}", []).append("grader/outcome.py RunNote")
    return found


def construction_sites() -> list[tuple[str, str, set[str] | None]]:
    """(where, code, parameter names given) for each Message(...)/said(...) call with a literal code; the
    names are None when they are not literal (a dict built elsewhere)."""
    sites = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name not in MAKERS or not isinstance(node.args[0].value, str):
                continue
            given: set[str] | None = {k.arg for k in node.keywords if k.arg}
            if any(k.arg is None for k in node.keywords):
                given = None  # **params
            if len(node.args) > 1:
                params = node.args[1]
                if isinstance(params, ast.Dict) and all(isinstance(k, ast.Constant) for k in params.keys):
                    given |= {k.value for k in params.keys}
                else:
                    given = None
            sites.append((f"{path.relative_to(ROOT)}:{node.lineno}", node.args[0].value, given))
    return sites


def sample(name: str):
    """A parameter value of the kind the code stores under this name."""
    if name in ("reason", "error"):
        return said("reason.no_result")
    if name in ("found", "at", "args"):
        return ["w", said("value.samples", n=60)]
    if name in ("shape", "index", "lines"):
        return [3, 2]
    return 2.5


def test_every_code_the_code_base_writes_is_a_message():
    unknown = {code: where for code, where in stored_codes().items() if code not in MESSAGES}
    assert not unknown, f"codes with no sentence in grader.messages.MESSAGES: {unknown}"


def test_every_message_is_one_the_code_base_writes():
    """A sentence no code writes any more is dead weight in both languages."""
    assert set(MESSAGES) - set(stored_codes()) == set()


def test_every_literal_message_is_given_the_parameters_its_sentence_needs():
    missing = []
    for where, code, given in construction_sites():
        if given is not None and code in MESSAGES:
            needed = placeholders(MESSAGES[code]) - set(DEFAULTS)
            if needed - given:
                missing.append((where, code, sorted(needed - given)))
    assert not missing, missing


def test_the_reasons_the_outcome_and_the_harness_write_are_messages():
    assert set(SIGNAL_REASONS.values()) | {OTHER_SIGNAL} | set(HARNESS_CODES) <= set(MESSAGES)


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
@pytest.mark.parametrize("code", sorted(c for c in MESSAGES if c.startswith("mistake.")))
def test_every_mistake_has_a_title_for_the_staff_pages_in_every_language(code, lang):
    """The dashboards name a diagnosis in a few words (grader.messages.title); a code without them showed raw."""
    assert code in TITLES
    shown = title(code, lang)
    assert shown and shown != code and "{" not in shown
    if lang != "en":
        assert shown != title(code, "en"), f"{code}'s title is English in {lang}"


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_message_renders_in_every_language(code, lang):
    params = {name: sample(name) for name in placeholders(MESSAGES[code])}
    shown = render(code, params, lang, strict=True)
    assert shown and not re.search(r"\{\w+\}", shown)
    if lang != "en":
        assert shown != render(code, params, "en", strict=True), f"{code} is English in {lang}"


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_strict_rendering_refuses_an_unknown_code_and_a_missing_parameter(lang):
    with pytest.raises(UnknownMessage):
        render("trace.no_such_code", {}, lang, strict=True)
    with pytest.raises(UnknownMessage):
        render("trace.too_short", {"got": 3}, lang, strict=True)
    with pytest.raises(UnknownMessage):
        render("gradients.unavailable", {"reason": said("reason.no_such_reason")}, lang, strict=True)
    # shown to a reader, a row of another grader version still says something
    assert "trace.no_such_code" in render("trace.no_such_code", {"n": 1}, lang)


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_a_failure_after_every_attempt_names_its_last_cause_in_the_same_language(lang):
    stored = {"attempts": 3, "cause": "failure.sandbox", "cause_params": {"worker": "w1", "detail": "no docker"}}
    shown = render_failure("failure.attempts", stored, lang)
    assert render("failure.sandbox", stored["cause_params"], lang, strict=True) in shown and "3" in shown


def test_a_message_inside_a_parameter_is_rendered_in_the_same_language():
    params = {"reason": said("harness.param_not_tensor", name="w", type="float")}
    assert render("gradients.unavailable", params, "en") == ("Your gradients could not be probed: 'w' is a float, "
                                                              "not a tensor")
    chinese = render("gradients.unavailable", params, "zh")
    assert "'w'" in chinese and "float" in chinese and "not a tensor" not in chinese


def test_no_code_path_that_renders_reads_english_back():
    """The old way (StoredTexts: regular expressions from English to a catalog entry) is gone for good."""
    for path in SOURCES:
        text = path.read_text("utf-8")
        assert "StoredTexts" not in text and "PARAM_TEXTS" not in text, path
    for module in ("grader/messages.py", "grader/wording.py", "grader/i18n.py", "grader/web/language.py",
                   "grader/cli_report.py"):
        assert not re.search(r"^import re$|^from re import", (ROOT / module).read_text("utf-8"), re.M), module


def literal_patterns() -> list[tuple[str, str]]:
    """(where, pattern) of every regular expression grader/ and worker/ write as a literal (re.compile, …)."""
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and getattr(node.func.value, "id", None) == "re" and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node.args[0].value))
    return found


def test_no_regular_expression_reads_one_of_our_sentences():
    """A pattern that finds something in a sentence of grader.messages reads English back (a reason's name
    picked out of its text): the code and its parameters say it already."""
    sentences = [render(code, {n: sample(n) for n in placeholders(MESSAGES[code])}, "en", strict=True)
                 for code in MESSAGES]
    sentences = [s for s in sentences if " " in s]  # one word ('aborted') fits any name pattern
    patterns = literal_patterns()
    assert len(patterns) > 10  # the walk finds them
    reading = [(where, pattern, s) for where, pattern in patterns for s in sentences if re.search(pattern, s)]
    assert not reading, reading


def test_the_harness_sends_codes_not_sentences():
    """worker/harness.py cannot import grader.messages: every reason it writes is one of HARNESS_CODES."""
    tree = ast.parse((ROOT / "worker" / "harness.py").read_text("utf-8"))
    written = {node.args[0].value for node in ast.walk(tree) if isinstance(node, ast.Call)
               and getattr(node.func, "id", None) == "Refusal" and node.args and isinstance(node.args[0], ast.Constant)}
    assert written == set(HARNESS_CODES)
    for node in ast.walk(tree):  # an error the outcome carries is a reason or the student's exception
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "error" and isinstance(value, ast.JoinedStr):
                    raise AssertionError(f"a sentence of ours in the outcome: {ast.unparse(value)}")


# ---------------------------------------------------------------------------------------------
# rows an older grader stored in English (migrations/versions/0009_feedback_codes.py)

NO_KEYBOARD = ("input() got no answer: the grader runs your script without anyone typing. Remove the input() calls "
               "(use fixed values) before you submit.")
LEGACY_CHECKS = [
    ("runs", "runs.killed", {"signal": 9, "reason": "killed: usually the memory or process limit"},
     {"reason": said("signal.killed")}),
    ("bad", "runs.bad_outcome", {"reason": "the outcome is not JSON (ValueError)"},
     {"reason": said("outcome.not_json", type="ValueError")}),
    ("keyboard", "runs.exception", {"type": "EOFError", "line": 4, "message": NO_KEYBOARD},
     {"message": said("harness.no_keyboard")}),
    ("own", "runs.exception", {"type": "Exception", "line": 2, "message": "aborted"}, {"message": "aborted"}),
    ("probe", "gradients.unavailable", {"reason": "the script defines no parameter named 'w'"},
     {"reason": said("harness.no_param", name="w")}),
    ("probe2", "gradients.probe_error", {"error": "TypeError: loss returned float, not a tensor"},
     {"error": said("harness.loss_not_tensor", type="float")}),
    ("student", "gradients.probe_error", {"error": "ZeroDivisionError: division by zero"},
     {"error": "ZeroDivisionError: division by zero"}),
    ("acc", "accuracy.error", {"error": "forward gave shape [3, 2] for 4 samples"},
     {"error": said("reason.output_shape", shape=[3, 2], n=4)}),
    ("fn", "function.mismatch", {"matched": 0, "probes": 2, "function": "grad", "returns": "gradient", "param": "w",
                                 "at": {"w": "random values"}, "args": ["60 samples", 1.0], "expected": 1.0,
                                 "got": 2.0},
     {"at": {"w": said("value.random")}, "args": [said("value.samples", n=60), 1.0]}),
]
LEGACY_DRY_RUN = {
    "ok": False,
    "problems": ["solution.py: scored 40.1/100, expected full marks (trace: ...)",
                 "no worker finished this dry run within 5 minutes (a worker was lost, or none is running); run it "
                 "again", "the sandbox failed: OSError: gone",
                 "The queue did not answer: no worker can run the dry run now. Try again in a moment.",
                 "assignment.yaml:7: training.lr: expected a number, got 'fast'"],
    "files": [{"name": "solution.py", "kind": "solution", "ok": False, "score": 40.1, "max_score": 100.0,
               "expected": None, "got": [], "problem": "solution.py: scored 40.1/100, expected full marks (trace: ...)",
               "failing": []},
              {"name": "mistakes/a.py", "kind": "mistake", "ok": False, "score": 40.0, "max_score": 100.0,
               "expected": "mistake.no_zero_grad", "got": [], "problem": "mistakes/a.py: expected ..., got no diagnosis",
               "failing": []},
              {"name": "mistakes/b.py", "kind": "mistake", "ok": True, "score": 40.0, "max_score": 100.0,
               "expected": "mistake.no_zero_grad", "got": ["mistake.no_zero_grad"], "problem": "", "failing": []}],
}


def test_the_migration_rewrites_english_rows_into_codes(sqlite_url):
    upgrade(sqlite_url, "0008")
    engine = sa.create_engine(sqlite_url)  # SQLite leaves foreign keys unchecked here: no submission needed
    now = dt.datetime(2026, 12, 1)
    with engine.begin() as conn:
        for position, (check_id, code, params, _) in enumerate(LEGACY_CHECKS):
            conn.execute(sa.text("INSERT INTO check_results (submission_id, check_id, position, kind, passed, points, "
                                 "max_points, visibility, message_code, message_params, details) VALUES (1, :id, :pos,"
                                 " 'x', 0, 0, 10, 'visible', :code, :params, :details)"),
                         {"id": check_id, "pos": position, "code": code, "params": json.dumps(params),
                          "details": json.dumps({"first": params})})
        conn.execute(sa.text("INSERT INTO dry_runs (id, assignment_id, spec_yaml, spec_hash, files, status, result, "
                             "created_at) VALUES (1, 'a', 'x', 'h', '{}', 'done', :result, :now)"),
                     {"result": json.dumps(LEGACY_DRY_RUN), "now": now})
    engine.dispose()
    upgrade(sqlite_url)
    db = Database(sqlite_url)
    with db.engine.connect() as conn:
        rows = {r.check_id: r for r in conn.execute(sa.text("SELECT * FROM check_results"))}
        result = json.loads(conn.execute(sa.text("SELECT result FROM dry_runs")).scalar_one())
    db.dispose()
    for check_id, code, params, changed in LEGACY_CHECKS:
        stored = json.loads(rows[check_id].message_params)
        assert stored == {**params, **changed}, check_id
        assert json.loads(rows[check_id].details)["first"] == stored
        for lang in LANGUAGES:
            render(code, stored, lang, strict=True)
    assert result["problems"] == [said("dry_run.lost", minutes=5), said("dry_run.sandbox_failed", error="OSError: gone"),
                                  said("dry_run.queue_unavailable")]
    assert result["spec_problems"] == [{"file": None, "line": None, "field": None,
                                        "message": "assignment.yaml:7: training.lr: expected a number, got 'fast'"}]
    problems = [f["problem"] for f in result["files"]]
    assert problems == [said("selfcheck.solution_not_full", score=40.1, max=100.0),
                        said("selfcheck.mistake_not_caught", code="mistake.no_zero_grad",
                             found=said("selfcheck.no_diagnosis")), None]
    assert all(is_message(p) for p in result["problems"] + problems[:2])


def test_plain_text_writes_a_score_one_way():
    """grader.wording.points: the CLI's reports, the staff's flashes, the histogram's bars and the CSVs."""
    from grader.wording import number, points

    assert [points(v) for v in (100.0, 40.1, 0, 33.33333333, 45.08)] == ["100", "40.1", "0", "33.3333", "45.08"]
    assert number(0.1234567) == "0.123457" and number(None) == "—"  # feedback's numbers: their own rule


# ---------------------------------------------------------------------------------------------
# a spec's problems (grader.spec): every record a refusal carries is a code, worded in each language

def broken_specs() -> list[str]:
    from test_spec import VALID, edit

    return [
        "id: [unclosed", "!!python/object:os.system x", "- a\n- b", "", "a: &x [*x]", "x: 1\nx: 2\n", "\x07",
        "a: " + "[" * 40 + "]" * 40, "d: 2026-02-30T00:00:00Z",
        edit(("lr: 0.01", "lr: fast"), ("epochs: 100", "epochs: -1"), ("title: \"Demo\"", "title: \"\"")),
        edit(("id: demo", "id: Demo!"), ("epochs: 100", "epochs: 1.5"), ("2026-12-10T23:59:00+08:00", "2026-12-10")),
        edit(("params: {w: 1.0}", "params: {w: 1.0, b: 0.0, x: 1, 'a b': [[1], [1, 2]]}"), ("lr: 0.01", "lr: 1000")),
        edit(('forward: "w * x"', 'forward: "w * q"'), ('loss: "(y_pred - y)**2"', 'loss: "(w - y)**2"')),
        edit(("  epochs: 100", "  epochs: 100\n  optimizer: adamw\n  momentum: 0.5\n  betas: [0.9, 1.5]")),
        edit(("  epochs: 100", "  epochs: 100\n  batch: 0")), edit(("  epochs: 100", "  epochs: 100\n  batch: some")),
        edit(("    kind: runs\n", "    kind: runs\n    inputs: [1.0]\n    probes: {seed: -1}\n    colour: red\n")),
        edit(("    inputs: [4.0]\n", "")), edit(("kind: predictions", "kind: accuracy")),
        edit(("  - id: prediction", "  - id: runs")), edit(("y: [2.0, 4.0, 6.0]", "y: [2.0, 4.0]")),
        edit(("y: [2.0, 4.0, 6.0]", "y: [2.0, 4.0, 1e999]")),
        edit(("data:\n  x: [1.0, 2.0, 3.0]\n  y: [2.0, 4.0, 6.0]", "data: {csv: ../d.csv, x: [3, 1], y: -1}")),
        edit(("data:\n  x: [1.0, 2.0, 3.0]\n  y: [2.0, 4.0, 6.0]", "data: {csv: d.csv, x: 0, y: 5, text: '1,2\\n3,x\\n'}")),
        edit(("data:\n  x: [1.0, 2.0, 3.0]\n  y: [2.0, 4.0, 6.0]", "data: {csv: d.csv, x: 0, y: 1}")),
        edit(('forward: "w * x"', 'forward: "w * x * 1e300"')), edit(("lr: 0.01", "lr: 10")),
        VALID + "translations: {fr: {title: Démo}}\nfunctions: {forward: f, loss: f}\n",
    ]


def test_every_problem_of_a_broken_spec_is_a_code_that_renders_in_every_language():
    from grader.spec import SpecError, check_spec, find_spec

    codes = set()
    for text in broken_specs():
        with pytest.raises(SpecError) as caught:
            check_spec(text, "assignment.yaml")
        for problem in caught.value.problems:
            assert is_message(problem.message) and problem.message["code"].startswith("spec."), problem
            codes.add(problem.message["code"])
            shown = {lang: render(problem.message["code"], problem.message["params"], lang, strict=True)
                     for lang in LANGUAGES}
            assert all(OTHER_LANGUAGES) and all(shown[lang] != shown["en"] for lang in OTHER_LANGUAGES), shown
            json.dumps(problem.as_dict())  # a dry run stores it
    with pytest.raises(SpecError) as caught:
        find_spec(ROOT / "assignments", "no-such-assignment")
    assert caught.value.problems[0].message["code"] == "spec.unknown_assignment"
    assert "backprop-linear" in caught.value.text_lines("zh")[0] and "未知的作业" in caught.value.text_lines("zh")[0]
    assert len(codes) > 30, sorted(codes)  # the corpus reaches the YAML, the schema, the data, names and the reference


def test_a_pydantic_error_without_a_code_of_its_own_keeps_pydantics_words():
    from grader.spec.problems import _message

    rare = {"type": "multiple_of", "loc": ("x",), "msg": "Input should be a multiple of 2", "input": 3,
            "ctx": {"multiple_of": 2}}
    assert _message(rare) == said("spec.invalid_value", problem="input should be a multiple of 2", got="3")
    assert render("spec.invalid_value", _message(rare)["params"], "en") == "input should be a multiple of 2, got 3"
    assert render("spec.invalid_value", _message(rare)["params"], "zh") == "input should be a multiple of 2，实际为 3"
