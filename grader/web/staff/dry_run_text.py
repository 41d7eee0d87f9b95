"""A dry run's result in the instructor's language: each file's problem said from the result's fields, the
other problem lines (a lost or failed run) translated where our code wrote them. Spec errors stay English,
as on the spec pages."""
from __future__ import annotations

from grader.i18n import N_, StoredTexts
from grader.web.staff import bp
from grader.web.text import _, current_lang, feedback

# what the worker (worker/tasks.py), the reaper (grader/service/reaper.py) and manage.py store as a problem
RUN_PROBLEMS = StoredTexts(
    N_("no worker finished this dry run within {n} minutes (a worker was lost, or none is running); run it again"),
    N_("the sandbox failed: {error}"),
    N_("The queue did not answer: no worker can run the dry run now. Try again in a moment."),
)


def file_problems(f: dict) -> list[str]:
    """Why one file of the dry run is not as it should be (grader.selfcheck.check_sources' rules); nothing
    when it is. A result this code cannot read is shown as the worker wrote it."""
    if f.get("ok"):
        return []
    score, max_score = f.get("score"), f.get("max_score")
    if f.get("kind") == "solution":
        if score is None:
            return [_("Missing: every assignment ships a solution that scores full marks.")]
        if "failing" in f:
            return [_("It scored %(score)s of %(max)s; the solution must score full marks.",
                      score="%g" % score, max="%g" % max_score)] + [
                f"{c.get('id', '')}: {feedback(c.get('code', ''), c.get('params'))}" for c in f["failing"]]
    elif f.get("kind") == "mistake":
        if f.get("expected") is None:
            return [_("Its first comment line must name the code it expects (# expect: mistake.x).")]
        if score is not None and max_score is not None and score >= max_score:
            return [_("It scored full marks, but it is a mistake (%(code)s).", code=f["expected"])]
        if f.get("expected") not in (f.get("got") or []):
            return [_("Expected %(code)s; the grader found %(found)s.", code=f["expected"],
                      found=", ".join(f.get("got") or []) or _("no diagnosis"))]
    return [f["problem"]] if f.get("problem") else []


@bp.app_template_global()
def dry_run_problems(result: dict) -> tuple[dict[str, list[str]], list[str]]:
    """(each file's problems by name, the problems not about one file) in the viewer's language."""
    files = result.get("files") or []
    own = {f.get("problem") for f in files if f.get("problem")}
    by_file = {f.get("name", ""): file_problems(f) for f in files}
    lang = current_lang()
    return by_file, [RUN_PROBLEMS.translate(p, lang) for p in result.get("problems") or [] if p not in own]
