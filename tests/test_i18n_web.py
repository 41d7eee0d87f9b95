"""The viewer's language on the pages, the API and the command line: chosen by the user's setting, then the
switch's cookie, then Accept-Language, then the course default; stored feedback rendered in it at display time."""
from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest

from grader.config import Config, ConfigError
from grader.models import User
from grader.service import accounts
from service_helpers import ASSIGNMENTS, grader_in_process
from web_helpers import add_graded, csrf_from, db_of, login, make_app, set_deadline, set_user

ZH_DIAGNOSIS = "你的梯度从未清零，因此会在各步之间累加"
EN_DIAGNOSIS = "Your gradients are never zeroed, so they accumulate across steps"
ZH_FIRST_DIFFERENCE = "第一处差异在第 2 步（第 1 轮，样本 2）：w1.grad 应为 22.88，你的结果是 24.88"


def text_of(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def lang_attr(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def switch(client, language: str, next_path: str = "/assignments", page: str = "/settings"):
    """Press the switch's button for `language` (the token comes from `page`: /login before logging in)."""
    token = csrf_from(client, page)
    return client.post("/language", data={"csrf_token": token, "language": language, "next": next_path})


def stored_language(app, name: str) -> str | None:
    with db_of(app).session() as session:
        return session.query(User).filter_by(username=name).one().language


# ---------------------------------------------------------------------------------------------
# choosing the language


def test_the_browser_language_picks_the_page_language(client):
    chinese = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert lang_attr(chinese) == "zh" and "登录" in text_of(chinese) and "Log in" not in text_of(chinese)
    english = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert lang_attr(english) == "en" and "Log in" in text_of(english)
    # a language we do not speak is passed over for the next one the browser accepts
    assert lang_attr(client.get("/login", headers={"Accept-Language": "fr-FR, zh;q=0.5"})) == "zh"


def test_the_course_default_applies_when_the_browser_asks_for_nothing_we_speak(template_db, tmp_path):
    import shutil

    path = tmp_path / "zh.db"
    shutil.copy(template_db, path)
    app = make_app(path, default_language="zh")
    try:
        c = app.test_client()
        assert lang_attr(c.get("/login")) == "zh"
        assert lang_attr(c.get("/login", headers={"Accept-Language": "de"})) == "zh"
        assert lang_attr(c.get("/login", headers={"Accept-Language": "en"})) == "en"
    finally:
        db_of(app).dispose()


def test_a_bad_course_default_is_refused_at_start():
    with pytest.raises(ConfigError, match="GRADER_DEFAULT_LANGUAGE"):
        Config.from_env({"GRADER_DEFAULT_LANGUAGE": "fr"})
    assert Config.from_env({"GRADER_DEFAULT_LANGUAGE": "zh"}).default_language == "zh"


def test_the_switch_before_logging_in_is_a_cookie_and_survives_the_login(client):
    response = switch(client, "zh", "/login", page="/login")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert "lang=zh" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]
    page = client.get("/login", headers={"Accept-Language": "en"})  # the switch beats the browser
    assert lang_attr(page) == "zh"
    login(client, "alice")
    assert "作业" in text_of(client.get("/assignments", headers={"Accept-Language": "en"}))


def test_the_switch_when_logged_in_is_remembered_on_the_account(app, client):
    login(client, "alice")
    switch(client, "zh")
    assert stored_language(app, "alice") == "zh"
    # another browser, English by its own settings: the account's choice wins
    other = app.test_client()
    login(other, "alice")
    page = other.get("/assignments", headers={"Accept-Language": "en-US"})
    assert lang_attr(page) == "zh" and "作业" in text_of(page)
    switch(other, "en")
    assert stored_language(app, "alice") == "en"
    assert lang_attr(client.get("/assignments", headers={"Accept-Language": "zh"})) == "en"


def test_the_switch_refuses_what_it_cannot_do(app, client):
    login(client, "alice")
    token = csrf_from(client, "/assignments")
    assert client.post("/language", data={"language": "zh", "next": "/"}).status_code == 400  # no CSRF token
    assert client.post("/language", data={"csrf_token": token, "language": "fr"}).status_code == 400
    assert client.post("/language", data={"csrf_token": token}).status_code == 400
    assert stored_language(app, "alice") is None
    away = client.post("/language", data={"csrf_token": token, "language": "zh", "next": "https://evil.example/"})
    assert away.status_code == 302 and away.headers["Location"] == "/assignments"
    assert client.get("/language").status_code == 405


def test_every_page_carries_the_switch_with_the_current_language_marked(app, client):
    sid = add_graded(app, "alice")
    anonymous = app.test_client().get("/login", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert 'id="lang-switch"' in anonymous
    login(client, "tina")
    for path in ("/assignments", "/settings", f"/submissions/{sid}", f"/submissions/{sid}/source",
                 "/staff/", "/staff/assignments/backprop-quadratic", f"/staff/submissions/{sid}", "/nowhere"):
        body = client.get(path, headers={"Accept-Language": "zh"}).get_data(as_text=True)
        switch_form = re.search(r'<form[^>]*id="lang-switch".*?</form>', body, re.S)
        assert switch_form, path
        assert re.search(r'value="zh"[^>]*aria-current="true"', switch_form.group(0)), path
        assert 'value="en"' in switch_form.group(0) and "简体中文" in switch_form.group(0), path


def test_the_settings_page_sets_and_clears_the_language(app, client):
    login(client, "alice")
    token = csrf_from(client, "/settings")
    saved = client.post("/settings", data={"csrf_token": token, "language": "zh", "timezone": ""},
                        follow_redirects=True)
    assert "设置已保存。" in text_of(saved)  # the confirmation is already in the new language
    assert stored_language(app, "alice") == "zh"
    token = csrf_from(client, "/settings")
    client.post("/settings", data={"csrf_token": token, "language": "", "timezone": ""})
    assert stored_language(app, "alice") is None
    assert lang_attr(client.get("/settings", headers={"Accept-Language": "en"})) == "en"
    token = csrf_from(client, "/settings")
    refused = client.post("/settings", data={"csrf_token": token, "language": "klingon", "timezone": ""})
    assert refused.status_code == 400 and stored_language(app, "alice") is None


# ---------------------------------------------------------------------------------------------
# stored feedback in the viewer's language


def test_one_submission_each_viewer_in_their_own_language(app, client):
    sid = add_graded(app, "alice")
    set_user(app, "alice", language="zh")
    set_user(app, "tina", language="en")
    login(client, "alice")
    student = text_of(client.get(f"/submissions/{sid}"))
    assert ZH_DIAGNOSIS in student and ZH_FIRST_DIFFERENCE in student and EN_DIAGNOSIS not in student
    assert "诊断" in student and "已评分" in student
    ta = app.test_client()
    login(ta, "tina")
    staff = text_of(ta.get(f"/staff/submissions/{sid}", headers={"Accept-Language": "zh"}))
    assert EN_DIAGNOSIS in staff and ZH_DIAGNOSIS not in staff
    # the live-status JSON speaks the same language as the page
    status = client.get(f"/submissions/{sid}/status").json
    assert status["status_label"] == "已评分" and ZH_DIAGNOSIS in html.unescape(status["html"])


def test_old_submissions_change_language_with_the_setting(app, client):
    sid = add_graded(app, "alice")
    login(client, "alice")
    assert EN_DIAGNOSIS in text_of(client.get(f"/submissions/{sid}"))
    switch(client, "zh")
    assert ZH_DIAGNOSIS in text_of(client.get(f"/submissions/{sid}"))
    history = text_of(client.get("/assignments/backprop-quadratic/history"))
    assert "40.1" in history and "历史" in history


def test_staff_pages_and_their_labels_in_chinese(app, client):
    add_graded(app, "alice")
    set_user(app, "tina", language="zh")
    login(client, "tina")
    dashboard = text_of(client.get("/staff/assignments/backprop-quadratic"))
    for word in ("学生", "最高分", "全部"):  # sort and filter labels are defined at import time, shown translated
        assert word in dashboard
    assert "Everyone" not in dashboard and "Best" not in dashboard
    audit = client.get("/staff/assignments/backprop-quadratic/audit")
    assert audit.status_code == 200 and lang_attr(audit) == "zh"


def test_error_pages_and_form_errors_in_chinese(app, client):
    missing = client.get("/nowhere", headers={"Accept-Language": "zh"})
    assert missing.status_code == 404 and "未找到" in text_of(missing)
    token = csrf_from(client, "/login")
    wrong = client.post("/login", data={"csrf_token": token, "username": "alice", "password": "nope"},
                        headers={"Accept-Language": "zh"})
    assert wrong.status_code == 400 and "用户名或密码错误。" in text_of(wrong)
    assert "用户名" in text_of(wrong) and "密码" in text_of(wrong)  # the form's labels, lazily translated


def test_deadlines_and_numbers_are_written_the_viewer_s_way(app, client):
    set_deadline(app, "backprop-quadratic", dt.datetime(2026, 12, 10, 15, 59, tzinfo=dt.timezone.utc))
    set_user(app, "alice", timezone="Asia/Shanghai", language="zh")
    login(client, "alice")
    assert "2026年12月10日 23:59 UTC+8" in text_of(client.get("/assignments"))
    set_user(app, "alice", timezone="America/New_York", language="en")
    assert "Dec 10, 2026 10:59 UTC−5" in text_of(client.get("/assignments"))


# ---------------------------------------------------------------------------------------------
# the API and the command line


def test_the_api_speaks_the_language_asked_for(app, client):
    sid = add_graded(app, "alice")
    with db_of(app).session() as session:
        token = accounts.issue_token(session, "alice")
    auth = {"Authorization": f"Bearer {token}"}

    def diagnosis(**kwargs) -> str:
        response = client.get(f"/api/submissions/{sid}", **kwargs)
        assert response.status_code == 200
        return response.json["diagnoses"][0]["message"]

    assert diagnosis(headers=auth).startswith(EN_DIAGNOSIS)
    assert diagnosis(headers={**auth, "Accept-Language": "zh-CN"}).startswith(ZH_DIAGNOSIS)
    assert diagnosis(headers={**auth, "Accept-Language": "zh-CN"}, query_string={"lang": "en"}).startswith(EN_DIAGNOSIS)
    set_user(app, "alice", language="zh")
    assert diagnosis(headers=auth).startswith(ZH_DIAGNOSIS)
    body = client.get(f"/api/submissions/{sid}", headers=auth).json
    assert body["diagnoses"][0]["code"] == "mistake.no_zero_grad"  # codes stay codes in every language


def _grader(sandbox):
    """`grader grade` in this process on the session's fork server, with no locale of the caller's."""
    def grade(*args, env=None):
        environment = {"LANG": None, "LC_ALL": None, "LC_MESSAGES": None, **(env or {})}
        return grader_in_process("grade", *args, env=environment, cwd=ASSIGNMENTS.parent, sandbox=sandbox)
    return grade


@pytest.mark.slow
def test_the_cli_reports_in_chinese_with_lang_or_the_locale(sandbox):
    _grade = _grader(sandbox)
    mistake = str(ASSIGNMENTS / "backprop-linear" / "mistakes" / "no_zero_grad.py")
    chinese = _grade(mistake, "--assignment", "backprop-linear", "--lang", "zh")
    assert chinese.returncode == 0, chinese.stderr
    assert "得分：" in chinese.stdout and "诊断：" in chinese.stdout and "你的梯度从未清零" in chinese.stdout
    assert "未通过  trace" in chinese.stdout and "Score" not in chinese.stdout
    by_locale = _grade(mistake, "--assignment", "backprop-linear", "--json", env={"LANG": "zh_CN.UTF-8"})
    report = json.loads(by_locale.stdout)
    assert report["diagnoses"][0]["message"].startswith("你的梯度从未清零")
    assert report["diagnoses"][0]["code"] == "mistake.no_zero_grad"
    # the order of the rules read from a refusal, which comes before any grading (no sandbox to start)
    english = _grade(mistake, "--assignment", "nope", "--lang", "en", env={"GRADER_LANGUAGE": "zh"})
    assert english.returncode == 2 and "unknown assignment 'nope'" in english.stderr
    as_locale = _grade(mistake, "--assignment", "nope", "--lang", "zh_CN.UTF-8")
    assert as_locale.returncode == 2 and "未知的作业 'nope'" in as_locale.stderr
    refused = _grade(mistake, "--assignment", "backprop-linear", "--lang", "fr")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr and "one of en, zh" in refused.stderr


def test_plots_are_labelled_in_the_viewer_s_language_and_cached_per_language(app, client):
    sid = add_graded(app, "alice")
    login(client, "alice")
    page = client.get(f"/submissions/{sid}").get_data(as_text=True)
    src = html.unescape(re.search(r'data-plot="loss".*?<a class="plot-file" href="([^"]+)"', page, re.S).group(1))
    assert "lang=en" in src  # the URL names the language, so a browser's cached English plot is not reused
    english = client.get(src).get_data(as_text=True)
    assert "Loss per step" in english and "yours" in english
    switch(client, "zh")
    page = client.get(f"/submissions/{sid}").get_data(as_text=True)
    src = html.unescape(re.search(r'data-plot="grad-w1".*?<a class="plot-file" href="([^"]+)"', page, re.S).group(1))
    assert "w1 的梯度（每步）" in page  # inline in the page too
    assert "lang=zh" in src
    chinese = client.get(src).get_data(as_text=True)
    assert "w1 的梯度（每步）" in chinese and "参考实现" in chinese and "Gradient of" not in chinese
    assert "损失（每步）" in client.get(src.replace("grad-w1", "loss")).get_data(as_text=True)


def test_an_assignment_s_title_and_description_in_the_viewer_s_language(app, client):
    """`translations: {zh: {title, description}}` in a spec: pages name the assignment in the viewer's
    language; a language the spec has no words for shows the spec's own."""
    add_graded(app, "alice")
    login(client, "alice")
    english = text_of(client.get("/assignments/backprop-quadratic"))
    assert "Back propagation: y = w1·x² + w2·x + b" in english and "Train the quadratic model" in english
    switch(client, "zh")
    for path in ("/assignments", "/assignments/backprop-quadratic", "/assignments/backprop-quadratic/history"):
        page = text_of(client.get(path))
        assert "反向传播：y = w1·x² + w2·x + b" in page, path
        assert "Back propagation: y = w1" not in page, path
    assert "用逐样本 SGD 训练二次模型" in text_of(client.get("/assignments/backprop-quadratic"))
    ta = app.test_client()
    login(ta, "tina")
    assert "Back propagation: y = w1·x² + w2·x + b" in text_of(ta.get("/staff/"))


def test_spec_translations_name_only_languages_the_grader_speaks():
    from grader.spec import SpecError, parse_spec

    text = (ASSIGNMENTS / "backprop-linear" / "assignment.yaml").read_text()
    spec = parse_spec(text, "a.yaml")
    assert spec.title_in("zh-CN") == "反向传播：y = w·x" and spec.title_in("en") == spec.title
    assert spec.description_in("fr") == spec.description
    with pytest.raises(SpecError, match=r"translations: 'fr' is not a language"):
        parse_spec(text.replace("translations:\n  zh:", "translations:\n  fr:"), "a.yaml")


def test_chinese_pages_write_full_width_colons_and_one_date_format_with_the_zone_as_an_offset(app, client):
    set_deadline(app, "backprop-quadratic", dt.datetime(2026, 12, 10, 15, 59, tzinfo=dt.timezone.utc))
    set_user(app, "alice", timezone="Asia/Shanghai", language="zh")
    login(client, "alice")
    sid = add_graded(app, "alice")
    page = text_of(client.get(f"/submissions/{sid}"))
    assert "状态：" in page and "得分：" in page and "状态:" not in page and "得分:" not in page
    deadline = text_of(client.get("/assignments/backprop-quadratic"))
    assert re.search(r"截止时间：\s*2026年12月10日 23:59 UTC\+8", deadline) and "CST" not in deadline
    set_user(app, "alice", timezone="Asia/Kolkata", language="en")
    assert re.search(r"Deadline:\s*Dec 10, 2026 21:29 UTC\+5:30", text_of(client.get("/assignments/backprop-quadratic")))
