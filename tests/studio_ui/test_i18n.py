"""The gettext catalogs: every string marked in the shown pages has a Chinese translation."""

from __future__ import annotations

import re
import shutil

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
        for text in message if isinstance(message, tuple) else (message,):
            found[text] = filename
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


def test_the_shown_pages_mark_their_strings(tmp_path):
    # A Learn page or Home with a literal st.title/st.header/st.markdown left unmarked would
    # escape the catalog test above: each such call's first argument must be a _() call.
    calls = re.compile(r"st\.(title|header|subheader|markdown|caption|info|warning)\(\s*\"([^\"]*)")
    brand = "MetaLearn Studio"  # the product's name, the same in both languages
    for path in [
        REPO_ROOT / "pages" / "home.py",
        *sorted((REPO_ROOT / "pages").glob("learn_*.py")),
    ]:
        text = path.read_text(encoding="utf-8")
        unmarked = [
            m.group(0)
            for m in calls.finditer(text)
            # words, not a brand or a separator such as "\n" joining translated lines
            if m.group(2) != brand and re.search("[A-Za-z]", re.sub(r"\\.", "", m.group(2)))
        ]
        assert not unmarked, f"{path.name}: {unmarked}"


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
