"""The catalogs: every text the code and the templates show, and every feedback code, has a Chinese
translation that keeps its placeholders; the compiled catalog is the one on disk; no template shows a word
outside `_()`."""
from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from babel.support import Translations

from grader.messages import MESSAGES, render
from grader.i18n import LANGUAGES, TRANSLATIONS_DIR, normalize, translations

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "grader" / "web" / "templates"
OTHER_LANGUAGES = [lang for lang in LANGUAGES if lang != "en"]
PRINTF = re.compile(r"%\((\w+)\)[sd]|%%")
BRACE = re.compile(r"\{(\w+)\}")
# what a template may show outside _(): the product's name and format names, never a sentence
UNTRANSLATED_OK = {"Backprop Grader", "CSV", "v"}


def extracted() -> dict[str, tuple]:
    """msgid -> (msgid, plural) for everything the sources mark, extracted as `make translations` does."""
    method_map = [("**.py", "python"), ("web/templates/**.html", "jinja2")]
    found = {}
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT / "grader"), method_map):
        key = message[0] if isinstance(message, tuple) else message
        found[key] = message if isinstance(message, tuple) else (message,)
    return found


def catalog(lang: str):
    with open(TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f)


def placeholders(text: str) -> list[str]:
    return sorted(PRINTF.findall(text) + BRACE.findall(text))


@pytest.fixture(scope="module")
def source_ids():
    return extracted()


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_every_marked_text_has_a_translation(lang, source_ids):
    po = catalog(lang)
    missing, empty, fuzzy = [], [], []
    for key in source_ids:
        entry = po.get(key)
        if entry is None:
            missing.append(key)
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(s.strip() for s in strings):
            empty.append(key)
        if entry.fuzzy:
            fuzzy.append(key)
    assert not missing, f"not in the {lang} catalog (run `make translations`, then translate): {missing}"
    assert not empty, f"untranslated in {lang}: {empty}"
    assert not fuzzy, f"fuzzy (check and clear the flag) in {lang}: {fuzzy}"
    stale = [m.id for m in po if m.id and (m.id[0] if isinstance(m.id, tuple) else m.id) not in source_ids]
    assert not stale, f"{lang} catalog keeps texts the code no longer shows: {stale}"


def test_every_feedback_code_is_extracted(source_ids):
    """A feedback text not marked with N_() would be missed by `make translations` and stay English."""
    assert set(MESSAGES.values()) <= set(source_ids)


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_translations_keep_every_placeholder(lang):
    wrong = []
    for entry in catalog(lang):
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        expected = placeholders(ids[-1])
        for translated in strings:
            if placeholders(translated) != expected:
                wrong.append((ids[0], translated))
    assert not wrong, wrong


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_the_compiled_catalog_is_the_one_on_disk(lang):
    """`make install` compiles the .po files; a stale .mo would show old words."""
    compiled = Translations.load(str(TRANSLATIONS_DIR), [lang])
    assert isinstance(compiled, Translations), f"no compiled catalog for {lang}: run make install"
    for entry in catalog(lang):
        if entry.id and not isinstance(entry.id, tuple):
            assert compiled.gettext(entry.id) == entry.string, entry.id


@pytest.mark.parametrize("code", sorted(MESSAGES))
@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_every_feedback_code_renders_translated_with_its_parameters(code, lang):
    names = [field for _text, field, _spec, _conv in string.Formatter().parse(MESSAGES[code]) if field]
    params = {name: f"<{name}>" for name in names}
    english, translated = render(code, params, "en"), render(code, params, lang)
    assert translated != english, f"{code} shows English in {lang}"
    for name in names:  # every value the student needs (step, parameter, expected, got) is still there
        if name != "index":
            assert f"<{name}>" in translated, (code, name, translated)
    assert not re.search(r"[A-Za-z]{4,} [A-Za-z]{4,} [A-Za-z]{4,}", _without_code(translated, params)), translated


def _without_code(text: str, params: dict) -> str:
    """The translated sentence minus parameters and code (backward(), w.grad.zero_() ...), which stay English."""
    for value in params.values():
        text = text.replace(value, "")
    return re.sub(r"[\w.]+\([^)]*\)|[\w]+\.[\w.]+|[A-Za-z_]+=\S+", "", text)


def test_template_text_goes_through_the_catalog():
    shown = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", " ", text, flags=re.S)
        text = re.sub(r"<(script|style|code)\b.*?</\1>", " ", text, flags=re.S)  # code stays code
        for attr in re.finditer(r'\b(?:title|placeholder|aria-label|alt)="([^"]*)"', text):
            if re.search(r"[A-Za-z]{2}", attr.group(1)):
                shown.append((path.name, attr.group(0)))
        for chunk in re.split(r"<[^>]*>", text):
            for piece in re.split(r"[·:()\s]{2,}|\n", chunk):
                piece = piece.strip(" ·:()")
                if re.search(r"[A-Za-z]{1,}", piece) and piece not in UNTRANSLATED_OK:
                    shown.append((path.name, piece))
    assert not shown, f"text outside _() in templates: {shown}"


@pytest.mark.parametrize("tag, lang", [("zh", "zh"), ("zh-CN", "zh"), ("zh_Hans_CN", "zh"), ("ZH-tw", "zh"),
                                       ("en-GB", "en"), ("zh_CN.UTF-8", "zh"), ("fr", None), ("", None),
                                       (None, None), ("C.UTF-8", None)])
def test_language_tags_as_users_and_browsers_write_them(tag, lang):
    assert normalize(tag) == lang


def test_an_unknown_language_reads_as_english():
    assert translations("fr").gettext("Settings") == "Settings"
    assert render("runs.ok", {}, "fr") == MESSAGES["runs.ok"]


def test_feedback_accepts_the_tags_browsers_and_locales_write():
    chinese = render("runs.ok", {}, "zh")
    assert chinese != MESSAGES["runs.ok"]
    assert render("runs.ok", {}, "zh-CN") == render("runs.ok", {}, "zh_Hans_CN") == chinese
    assert render("runs.ok", {}, None) == MESSAGES["runs.ok"]


CJK = "\u4e00-\u9fff"
HALF_WIDTH_AFTER_CHINESE = re.compile(rf"(?<=[{CJK}])[,;:!?]|(?<=[{CJK}])\.(?![A-Za-z0-9])|[,;:](?=[{CJK}])")


@pytest.mark.parametrize("lang", [lang for lang in OTHER_LANGUAGES if lang.startswith("zh")])
def test_chinese_sentences_use_full_width_punctuation(lang):
    bad = [m.string for m in catalog(lang) if m.id and isinstance(m.string, str)
           and HALF_WIDTH_AFTER_CHINESE.search(m.string)]
    assert not bad, bad
