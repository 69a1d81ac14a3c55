"""The gettext catalogs: every string marked in the shown pages has a Chinese translation."""

from __future__ import annotations

import ast
import dataclasses
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from studio_ui import i18n
from studio_ui.serving import REPO_ROOT

PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def _extracted_messages() -> dict[str, str]:
    """msgid -> the file it comes from, extracted as babel.cfg says (``_``, ``ngettext``, ``N_``)."""
    with (REPO_ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, str] = {}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(REPO_ROOT), method_map, options_map, keywords=keywords
    ):
        # a plural's catalog entry is keyed by its singular form
        found[message[0] if isinstance(message, tuple) else message] = filename
    return found


def _catalog():
    po_path, _mo_path = i18n.catalog_paths("zh_CN")
    with po_path.open("rb") as source:
        return read_po(source, locale="zh_CN")


def test_every_string_marked_for_translation_has_a_chinese_translation():
    catalog = _catalog()
    extracted = _extracted_messages()
    assert "Why meta-learning" in extracted and "Home" in extracted  # the extraction works
    missing = sorted(
        f"{where}: {text!r}"
        for text, where in extracted.items()
        if catalog.get(text) is None or not catalog.get(text).string or catalog.get(text).fuzzy
    )
    assert not missing, "no Chinese translation (run pybabel update, see docs/i18n.md):\n" + (
        "\n".join(missing)
    )


def test_translations_keep_their_placeholders_and_are_chinese():
    for message in _catalog():
        if not message.id or not isinstance(message.id, str):
            continue
        assert sorted(PLACEHOLDER.findall(message.id)) == sorted(
            PLACEHOLDER.findall(message.string)
        ), message.id
    assert i18n.translations("zh_CN").gettext("Why meta-learning") == "为什么需要元学习"


# Streamlit calls whose first argument (or ``label=`` / ``help=`` ...) a student reads
SHOWN_CALLS = {
    "title", "header", "subheader", "markdown", "caption", "text", "info", "warning",
    "error", "success", "toast", "exception", "button", "download_button", "link_button",
    "page_link", "metric", "radio", "selectbox", "multiselect", "checkbox", "toggle",
    "number_input", "slider", "select_slider", "text_input", "text_area", "file_uploader",
    "expander", "popover", "tabs", "spinner", "progress", "form_submit_button", "status",
}  # fmt: skip
SHOWN_KEYWORDS = {"label", "help", "text", "placeholder", "caption"}
BRAND = "MetaLearn Studio"  # the product's name, the same in both languages
# Files that draw nothing a student reads in one language only: the language switch's own
# label is written in both languages (it must be readable whichever is shown).
BILINGUAL = {"i18n.py"}


def _words_in(node: ast.expr) -> str | None:
    """The literal text of a string or f-string argument, or None for anything else
    (a ``_()`` call, a name, a computed value)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value for part in node.values if isinstance(part, ast.Constant))
    if isinstance(node, ast.BinOp):  # "a" + "b", or "a" + _("b")
        return "".join(filter(None, (_words_in(node.left), _words_in(node.right))))
    if isinstance(node, ast.IfExp):
        return "".join(filter(None, (_words_in(node.body), _words_in(node.orelse))))
    return None


def _is_logger(node: ast.expr) -> bool:
    """``log.info(...)``, ``logger.exception(...)``: the server's log, not the page."""
    return isinstance(node, ast.Name) and node.id in {"log", "logger", "logging"}


def unmarked_strings(source: str) -> list[str]:
    """Literal English words passed to a shown Streamlit call: ``st.title("Train")``,
    ``columns[0].metric("Steps", ...)``, ``help="..."``, each with its line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr not in SHOWN_CALLS or _is_logger(node.func.value):
            continue
        arguments = [a for a in node.args[:1] if node.func.attr != "page_link"]
        arguments += [k.value for k in node.keywords if k.arg in SHOWN_KEYWORDS]
        for argument in arguments:
            words = _words_in(argument)
            # words, not a brand, a separator such as "\n", or a heading's "#### "
            if words and words != BRAND and re.search("[A-Za-z]{2}", words):
                found.append(f"line {argument.lineno}: {node.func.attr}({words[:60]!r})")
    return found


def test_the_unmarked_string_check_finds_bare_literals():
    source = (
        'st.title("Train")\ncolumns[0].metric("Steps", 3)\nst.button(_("Play"), help="why")\n'
        'st.markdown(f"#### {name}")\nst.info(f"Left out: {reasons}")\n'
    )
    assert [line.split(":")[0] for line in unmarked_strings(source)] == [
        "line 1", "line 2", "line 3", "line 5"
    ]  # fmt: skip


def shown_files() -> list[Path]:
    """Every page and every studio_ui module that draws what a student reads."""
    return [
        *sorted((REPO_ROOT / "app.py",)),
        *sorted((REPO_ROOT / "pages").glob("*.py")),
        *sorted(
            path for path in (REPO_ROOT / "studio_ui").rglob("*.py") if path.name not in BILINGUAL
        ),
    ]


def test_the_shown_pages_mark_their_strings():
    # A literal in a shown call would escape the catalog test above: every page and
    # helper passes _() (or a value already translated) to what a student reads.
    files = shown_files()
    assert {"train.py", "compare.py", "gan.py", "inspector.py"} <= {p.name for p in files}
    unmarked = {
        str(path.relative_to(REPO_ROOT)): found
        for path in files
        if (found := unmarked_strings(path.read_text(encoding="utf-8")))
    }
    assert not unmarked, "mark these with _() (docs/i18n.md):\n" + "\n".join(
        f"{path}: {line}" for path, lines in unmarked.items() for line in lines
    )


def test_a_stale_or_missing_mo_is_compiled_from_its_po(tmp_path, monkeypatch):
    locale = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, locale)
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    po_path, mo_path = i18n.catalog_paths("zh_CN")
    mo_path.unlink()
    assert i18n.compile_catalog_if_stale("zh_CN") == mo_path and mo_path.exists()
    stamp = mo_path.stat().st_mtime_ns
    assert i18n.compile_catalog_if_stale("zh_CN") == mo_path
    assert mo_path.stat().st_mtime_ns == stamp  # up to date: left alone


@pytest.mark.parametrize(
    ("value", "expected"),
    [("zh_CN", "zh_CN"), ("zh", "zh_CN"), ("ZH-CN", "zh_CN"), ("en", "en"), ("fr", None),
     ("zh_CN" * 100, None), (None, None), ("<script>", None)],
)  # fmt: skip
def test_the_lang_query_parameter_is_checked(value, expected):
    assert i18n.language_from_query(value) == expected


def test_outside_a_session_the_interface_is_english():
    assert i18n.current_language() == "en"
    assert i18n._("Why meta-learning") == "Why meta-learning"
    with pytest.raises(ValueError, match="unknown language"):
        i18n.translations("xx")


def test_the_core_words_dataclasses_are_extracted_and_translated():
    # Each figure's or reading's words: every English default is in the catalog, and a
    # comparison's reading worded in Chinese keeps its numbers.
    from metalearn_core.compare.results import ReadingWords, reading
    from metalearn_core.figures.embedding_space import SpaceWords
    from metalearn_core.figures.gan import GanWords
    from metalearn_core.figures.words import CurveWords, EpisodeWords

    chinese = i18n.translations("zh_CN")
    for words in (ReadingWords(), SpaceWords(), GanWords(), CurveWords(), EpisodeWords()):
        for field in dataclasses.fields(words):
            english = getattr(words, field.name)
            words_only = PLACEHOLDER.sub("", english)  # "q{index} · {label}" has no words
            assert chinese.gettext(english) != english or not re.search("[a-z]{3}", words_only), (
                type(words).__name__,
                field.name,
            )
    zh_words = ReadingWords(
        **{
            f.name: chinese.gettext(getattr(ReadingWords(), f.name))
            for f in dataclasses.fields(ReadingWords)
        }
    )
    row = {"ci95": 0.01, "seconds_per_episode": 0.002, "episodes": 10, "seconds": 1.0}
    result = {
        "metric": "accuracy",
        "learners": {
            "protonet": {"algo": "protonet", "accuracy": 0.8, **row},
            "maml": {"algo": "maml", "accuracy": 0.6, **row},
        },
    }
    text = reading(result, words=zh_words, title=lambda algo: chinese.gettext(algo.upper()))
    assert text.startswith("PROTONET在测试准确率上领先:80.0% ± 1.0%")
    assert "20.0 个百分点" in text and "不重叠" in text
