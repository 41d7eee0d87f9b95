"""The `grader` command: grade scripts offline, check assignment folders, run the service.

The wiring entry: the only module of grader that imports worker (the sandbox, the worker's grading, its Celery app).
"""
from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path

import click

from grader import cli_report
from grader.i18n import N_, gettext
from grader.messages import said
from grader.scoring import GradeResult
from grader.selfcheck import check_assignments
from grader.spec import SPEC_FILENAME, SpecError, SpecProblem, find_spec, load_spec
from grader.submissions import SubmissionError, Upload, accept_notebook, accept_script, script_name
from grader.notebook import cell_outputs, is_notebook_name
from grader.wording import points
from worker.grading import grade_upload, script_grader
from worker.sandbox import SandboxUnavailable, get_sandbox

EXIT_USAGE = 2
SANDBOXES = ["forkserver", "bwrap", "docker"]


class UsageProblem(click.ClickException):
    """A problem with what the user asked for: message on stderr, exit status 2, no traceback."""

    exit_code = EXIT_USAGE


class LazyGroup(click.Group):
    """A group some of whose commands live in other modules, imported when one of them is asked for: `grader
    grade` starts without the service's modules (SQLAlchemy, Redis, the settings: half a second of imports)."""

    def __init__(self, *args, lazy: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})  # command name -> "module:attribute"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy and name not in self.commands:
            module, attribute = self.lazy[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return super().get_command(ctx, name)


# The service's commands (database, users, workers, `grader up`) live in grader/service/, `grader submit` in
# grader/cli_submit.py.
SERVICE = "grader.service.commands"


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             lazy={"db": f"{SERVICE}:db_group", "users": f"{SERVICE}:users_group", "export": f"{SERVICE}:export_command",
                   "regrade": f"{SERVICE}:regrade", "reaper": f"{SERVICE}:reaper", "up": f"{SERVICE}:up",
                   "submit": "grader.cli_submit:submit"})
def main() -> None:
    """Backprop Grader: grade PyTorch back-propagation homework."""


def _collect(paths: tuple[str, ...]) -> list[Path]:
    """Files as given; a folder stands for every .py and .ipynb file under it (not Jupyter's checkpoints), in name
    order."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".py", ".ipynb")
                          and ".ipynb_checkpoints" not in p.parts)
        else:
            out.append(path)
    return out


def _read_upload(path: Path, lang: str = "en") -> Upload:
    """The script or notebook, checked as an upload is (grader.submissions: accept_script, accept_notebook)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageProblem(cli_report.cannot_read(lang, path, exc)) from None
    try:
        if is_notebook_name(path.name):
            return accept_notebook(data, script_name(path.name))
        return accept_script(data, script_name(path.name))
    except SubmissionError as exc:
        raise UsageProblem(f"{path}: {exc.render(lang)}") from None


def result_json(result: GradeResult, path: str | None, lang: str = "en") -> dict:
    """The `--json` contract: one object per graded file."""
    out = {
        "assignment": result.assignment,
        "status": result.status,
        "score": result.score,
        "max_score": result.max_score,
        "late_penalty": result.late_penalty,
        "checks": [{"id": c.id, "kind": c.kind, "passed": c.passed, "points": c.points, "max_points": c.max_points,
                    "message": c.message.render(lang), "code": c.message.code, "visibility": c.visibility,
                    **({"first_difference_at": place} if (place := cli_report.first_difference_place(
                        c.details.get("first"))) else {})}
                   for c in result.checks],
        "diagnoses": [{"code": d.code, "message": d.render(lang)} for d in result.diagnoses],
        "stdout": result.stdout,
    }
    if result.cell_starts is not None:  # a notebook: what each code cell printed
        out["cell_outputs"] = {str(cell): text for cell, text in cell_outputs(result.stdout, result.cell_starts).items()}
    if path is not None:
        out["path"] = path
    return out


def result_text(result: GradeResult, title: str, path: str, lang: str = "en") -> str:
    lines = [f"{path} — {title}", cli_report.score_line(lang, result.score, result.max_score, result.late_penalty)]
    for c in result.checks:
        mark, hidden = cli_report.check_mark(lang, c.passed), cli_report.hidden_note(lang, c.visibility)
        earned = f"{points(c.points):>6}/{points(c.max_points):<4}"
        lines.append(f"  {mark}  {c.id:<14} {earned} {c.message.render(lang)}{hidden}")
        place = cli_report.first_difference_place(c.details.get("first"))
        if place:
            lines.append("        " + cli_report.first_difference_line(lang, place))
    if result.diagnoses:
        lines.append(cli_report.diagnosis_heading(lang))
        lines += [f"  - {d.render(lang)}" for d in result.diagnoses]
    return "\n".join(lines)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--assignment", "assignment_id", required=True,
              help="Assignment id, e.g. backprop-quadratic, or the path of an assignment's folder.")
@click.option("--assignments-dir", default="assignments", show_default=True, type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file, one per line.")
@click.option("--sandbox", type=click.Choice(SANDBOXES), default="forkserver", show_default=True)
@cli_report.lang_option
def grade(paths: tuple[str, ...], assignment_id: str, assignments_dir: str, as_json: bool, sandbox: str,
          lang: str | None) -> None:
    """Grade one or more scripts or notebooks (or folders of them) against an assignment."""
    lang = lang or cli_report.language_from_env()
    try:
        spec = load_spec(_offline_spec(assignments_dir, assignment_id))
    except SpecError as exc:
        raise UsageProblem("\n".join(exc.text_lines(lang))) from None
    files = _collect(paths)
    if not files:
        raise UsageProblem(gettext(lang, N_("no .py or .ipynb files to grade")))
    try:
        box = get_sandbox(sandbox)
    except SandboxUnavailable as exc:
        raise UsageProblem(str(exc)) from None
    failed_inputs = 0
    show_bar = len(files) > 1 and sys.stderr.isatty() and not as_json
    try:
        progress = (click.progressbar(files, label=gettext(lang, N_("grading")), file=sys.stderr, show_pos=True)
                    if show_bar else _plain(files))
        with progress as items:
            outputs = []
            for path in items:
                try:
                    upload = _read_upload(path, lang)
                except UsageProblem as exc:
                    click.echo(gettext(lang, N_("error: %(message)s"), message=exc.message), err=True)
                    failed_inputs += 1
                    continue
                try:
                    result, _ = grade_upload(spec, upload.source, box, upload.filename, upload.notebook)
                except SandboxUnavailable as exc:  # the host, not the script: stop, say why
                    raise UsageProblem(gettext(lang, N_("the sandbox failed: %(error)s"), error=exc)) from None
                if as_json:
                    click.echo(json.dumps(result_json(result, str(path), lang), ensure_ascii=False))
                else:
                    outputs.append(result_text(result, spec.title_in(lang), str(path), lang))
                    if not show_bar:
                        click.echo(outputs.pop() + "\n")
            for text in outputs:
                click.echo(text + "\n")
    finally:
        box.close()
    if failed_inputs:
        sys.exit(EXIT_USAGE)


def _offline_spec(assignments_dir: str, assignment: str) -> Path:
    """An instructor grading on their own machine may name the assignment's folder (or its spec file) instead
    of its id: `--assignment assignments/logistic-regression`. Only here: the service reads ids, never paths."""
    given = Path(assignment)
    if given.is_dir() and (given / SPEC_FILENAME).is_file():
        return given / SPEC_FILENAME
    if given.is_file() and given.name == SPEC_FILENAME:
        return given
    return find_spec(assignments_dir, assignment)


class _plain:
    """Stands in for click.progressbar when no bar is shown."""

    def __init__(self, items):
        self.items = items

    def __enter__(self):
        return self.items

    def __exit__(self, *exc):
        return False


@main.group(cls=LazyGroup, lazy={"load": f"{SERVICE}:assignments_load"})
def assignments() -> None:
    """Validate and self-check assignment folders."""


@assignments.command("check")
@click.argument("directory", type=click.Path())
@click.option("--sandbox", type=click.Choice(SANDBOXES), default="forkserver", show_default=True)
@cli_report.lang_option
def assignments_check(directory: str, sandbox: str, lang: str | None) -> None:
    """Validate every spec under DIRECTORY; grade each solution (full marks) and mistake (less, with its diagnosis)."""
    lang = lang or cli_report.language_from_env()
    if not Path(directory).is_dir():
        raise UsageProblem(SpecProblem(directory, None, None, said("spec.not_a_folder")).text(lang))
    try:
        box = get_sandbox(sandbox)
    except SandboxUnavailable as exc:
        raise UsageProblem(str(exc)) from None
    try:
        problems = check_assignments(Path(directory), script_grader(box), echo=click.echo, lang=lang)
    except SandboxUnavailable as exc:
        raise UsageProblem(gettext(lang, N_("the sandbox failed: %(error)s"), error=exc)) from None
    finally:
        box.close()
    if problems:
        for line in problems:
            click.echo(line, err=True)
        sys.exit(1)


@click.command("worker", context_settings={"ignore_unknown_options": True})
@click.option("--concurrency", "-c", type=int, default=None, help="Worker processes [env GRADER_WORKER_CONCURRENCY].")
@click.option("--loglevel", default="INFO", show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="The data folder of `grader up`: its grader.db [env GRADER_DATA_DIR].")
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker_command(concurrency: int | None, loglevel: str, data_dir: str | None, celery_args: tuple[str, ...]) -> None:
    """A Celery grading worker with our settings; extra arguments go to `celery worker`."""
    from grader.config import database_url_in
    from grader.service import commands as service_commands

    if data_dir is not None:  # the Celery app reads its settings from the environment when it is imported
        os.environ["GRADER_DATABASE_URL"] = database_url_in(data_dir)
    service_commands._config()  # report a bad setting before Celery starts
    # imported here, not above: the Celery app reads the settings when imported, which no other command needs
    from worker.celery_app import app, config

    argv = ["worker", f"--loglevel={loglevel}", "--queues=grading",
            f"--concurrency={concurrency or config.worker_concurrency}", *celery_args]
    app.worker_main(argv)
    sys.exit(0)


main.add_command(worker_command)


if __name__ == "__main__":
    main()
