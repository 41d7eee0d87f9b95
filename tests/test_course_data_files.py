"""Course data files as the course ships them: a spec gives its data under the names learners load
(`diabetes.csv.gz`, gzip as np.loadtxt reads it by its name; `../dataset/…`, `./data/…`), all the same
read-only content, and real scripts that load them run to the end in the real sandbox."""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from grader.plan import build_plan
from grader.spec import SpecError, load_spec
from worker.grading import grade_source

ROOT = Path(__file__).resolve().parent.parent
LECTURE7 = ROOT / "assignments" / "multiple-dimension-input"
COURSE_DATA = ROOT.parent / "shared" / "data" / "diabetes.csv.gz"  # the course's own file, for tests only
ALIASES = "[../dataset/diabetes.csv.gz, ./data/diabetes.csv]"


def course_spec(folder: Path, gz_bytes: bytes, aliases: str = ALIASES) -> Path:
    """Lecture 7's shipped spec with its data as `diabetes.csv.gz` (the given bytes) and the aliases."""
    folder.mkdir(exist_ok=True)
    (folder / "diabetes.csv.gz").write_bytes(gz_bytes)
    text = (LECTURE7 / "assignment.yaml").read_text(encoding="utf-8")
    old = "data: {csv: diabetes.csv.gz, x: [0, 8], y: [8, 9], aliases: [diabetes.csv, ../dataset/diabetes.csv.gz, ./data/diabetes.csv]}"
    assert old in text
    text = text.replace(old, f"data: {{csv: diabetes.csv.gz, x: [0, 8], y: [8, 9], aliases: {aliases}}}")
    (folder / "assignment.yaml").write_text(text, encoding="utf-8")
    return folder / "assignment.yaml"


def shipped_gz() -> bytes:
    return (LECTURE7 / "diabetes.csv.gz").read_bytes()


def shipped_csv() -> bytes:
    return gzip.decompress(shipped_gz())


def solution_loading(path: str, *, gz_by_hand: bool = False) -> str:
    source = (LECTURE7 / "solution.py").read_text(encoding="utf-8")
    old = "xy = np.loadtxt('diabetes.csv.gz', delimiter=',', dtype=np.float32)"
    assert old in source
    if gz_by_hand:
        new = f"import gzip\nwith gzip.open({path!r}, 'rt') as f:\n    xy = np.loadtxt(f, delimiter=',', dtype=np.float32)"
    else:
        new = f"xy = np.loadtxt({path!r}, delimiter=',', dtype=np.float32)"
    return source.replace(old, new)


def test_a_gzip_data_file_loads_as_its_text_and_the_plan_gives_every_alias(tmp_path):
    spec = load_spec(course_spec(tmp_path / LECTURE7.name, shipped_gz()))
    text = shipped_csv().decode("utf-8")
    assert spec.data.csv == "diabetes.csv.gz" and spec.data.text == text
    assert len(spec.data.x) == len(text.splitlines()) and len(spec.data.x[0]) == 8
    assert build_plan(spec)["files"] == {"diabetes.csv.gz": text, "../dataset/diabetes.csv.gz": text,
                                         "data/diabetes.csv": text}


@pytest.mark.parametrize("alias", ["/etc/passwd", "../../../up/d.csv", "data/../../../../d.csv", "..", "data/.hidden",
                                   "a b.csv"])
def test_an_alias_outside_the_working_tree_is_refused_with_its_line(tmp_path, alias):
    with pytest.raises(SpecError) as caught:
        load_spec(course_spec(tmp_path / LECTURE7.name, shipped_gz(), aliases=f"[{alias!r}]"))
    assert "data.aliases" in caught.value.lines[0] and "expected a relative path" in caught.value.lines[0]


def test_a_file_named_gz_that_is_not_gzip_is_refused(tmp_path):
    with pytest.raises(SpecError) as caught:
        load_spec(course_spec(tmp_path / LECTURE7.name, shipped_csv()))
    assert "diabetes.csv.gz is not a gzip file" in caught.value.lines[0]


def test_a_gzip_bomb_is_refused_at_the_size_cap(tmp_path):
    bomb = gzip.compress(b"0,0,0,0,0,0,0,0,1\n" * 200_000)  # 3.6 MB of rows in a few KB
    with pytest.raises(SpecError) as caught:
        load_spec(course_spec(tmp_path / LECTURE7.name, bomb))
    assert "diabetes.csv.gz is larger than 200 KB" in caught.value.lines[0]


@pytest.mark.parametrize("path, by_hand", [("diabetes.csv.gz", False), ("../dataset/diabetes.csv.gz", False),
                                           ("./data/diabetes.csv", False), ("diabetes.csv.gz", True)],
                         ids=["loadtxt-gz", "dotdot-dataset", "data-folder", "gzip-open"])
def test_the_course_script_loading_the_course_file_name_scores_full_marks(sandbox, tmp_path, path, by_hand):
    spec = load_spec(course_spec(tmp_path / LECTURE7.name, shipped_gz()))
    result, report = grade_source(spec, solution_loading(path, gz_by_hand=by_hand), sandbox)
    assert {c.id: c.message.render("en") for c in result.checks if not c.passed} == {}
    assert result.score == result.max_score


@pytest.mark.parametrize("path", [r".\dataset\diabetes.csv.gz", "D:/PyCharm/PyTorch深度学习实践/dataset/diabetes.csv.gz",
                                  "/content/drive/MyDrive/Diabetes.csv.gz", r"C:\Users\me\diabetes.csv"],
                         ids=["windows-relative", "windows-drive", "colab-absolute", "windows-csv"])
def test_a_path_on_the_learner_s_own_machine_reads_the_assignment_s_file_and_says_so(sandbox, tmp_path, path):
    spec = load_spec(course_spec(tmp_path / LECTURE7.name, shipped_gz()))
    result, report = grade_source(spec, solution_loading(path), sandbox)
    assert {c.id: c.message.render("en") for c in result.checks if not c.passed} == {}
    notes = [d.render("en") for d in result.diagnoses if d.code == "note.data_path_read_as"]
    ours = "diabetes.csv" if path.endswith(".csv") else "diabetes.csv.gz"
    assert notes == [f"Your script loads {path}, a path on your own computer: we read it as {ours}, the "
                     f"assignment's copy of the data, which is in your working directory."]


def test_a_missing_file_of_another_name_still_raises_and_writing_is_never_redirected(sandbox, tmp_path):
    spec = load_spec(course_spec(tmp_path / LECTURE7.name, shipped_gz()))
    source = (
        "try:\n"
        "    open('D:/out/diabetes.csv', 'w')\n"
        "except OSError as exc:\n"
        "    print('write', type(exc).__name__)\n"
        "open('D:/data/other.csv')\n"
    )
    result, report = grade_source(spec, source, sandbox)
    assert report.stdout.splitlines() == ["write FileNotFoundError"]
    assert report.outcome.status == "exception" and report.outcome.error.type == "FileNotFoundError"
    assert "note.data_path_read_as" not in {d.code for d in result.diagnoses}


def test_the_data_files_are_read_only_and_the_same_content(sandbox, tmp_path):
    spec = load_spec(course_spec(tmp_path / LECTURE7.name, shipped_gz()))
    source = (
        "import gzip, os\n"
        "a = gzip.open('diabetes.csv.gz').read()\n"
        "b = gzip.open('../dataset/diabetes.csv.gz').read()\n"
        "c = open('data/diabetes.csv', 'rb').read()\n"
        "print('same', a == b == c, len(a))\n"
        "try:\n"
        "    open('data/diabetes.csv', 'a').write('1')\n"
        "except OSError as exc:\n"
        "    print('refused', type(exc).__name__)\n"
    )
    _, report = grade_source(spec, source, sandbox)
    size = len(shipped_csv())
    assert report.stdout.splitlines() == [f"same True {size}", "refused PermissionError"]


@pytest.mark.skipif(not COURSE_DATA.is_file(), reason="the course's data files are not beside the repository")
def test_the_course_s_own_diabetes_csv_gz_loads_and_trains_to_the_end(sandbox, tmp_path):
    spec = load_spec(course_spec(tmp_path / LECTURE7.name, COURSE_DATA.read_bytes()))
    assert len(spec.data.x) == 759
    result, report = grade_source(spec, solution_loading("../dataset/diabetes.csv.gz"), sandbox)
    assert report.outcome.status == "ok" and report.outcome.backward_calls == spec.training.epochs
    runs = next(c for c in result.checks if c.id == "runs")
    assert runs.passed
