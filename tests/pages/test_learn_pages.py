"""The Learn pages through AppTest, run via app.py's navigation, in both languages."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from studio_ui import learn
from studio_ui.serving import REPO_ROOT

LEARN_PAGES = {
    "pages/learn_why.py": ("Why meta-learning", "为什么需要元学习"),
    "pages/learn_families.py": ("Families and neighbours", "三大范式与相关领域"),
    "pages/learn_maml.py": ("MAML, first-order MAML and Reptile", "MAML、一阶 MAML 与 Reptile"),
    "pages/learn_matching.py": ("Matching Networks", "匹配网络"),
    "pages/learn_prototypes.py": ("Prototypical Networks", "原型网络"),
}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def _short_lessons(monkeypatch):
    # The pages' own budgets are sized for a classroom server; a test needs the behaviour only.
    monkeypatch.setattr(learn, "LESSON_META_STEPS", 3)
    monkeypatch.setattr(learn, "GAN_DEFAULT_STEPS", 0)
    monkeypatch.setattr(learn, "GAN_META_ITERATIONS", 2)


def open_page(page: str, language: str = "en") -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=180)
    at.query_params["lang"] = language
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def chart(at: AppTest, key: str) -> dict:
    """The figure of the plotly chart with user key ``key``, as plotly JSON."""
    found = [c for c in at.get("plotly_chart") if c.proto.id.endswith(key)]
    assert len(found) == 1, f"no chart {key!r}"
    return json.loads(found[0].proto.spec)


def numbers(field) -> list[float]:
    """A trace's x or y: plotly writes arrays as base64 typed arrays, lists as they are."""
    if isinstance(field, dict):
        return np.frombuffer(base64.b64decode(field["bdata"]), dtype=field["dtype"]).tolist()
    return list(field)


@pytest.mark.parametrize("page", list(LEARN_PAGES))
@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_each_learn_page_renders_in_both_languages(page, language):
    at = open_page(page, language)
    english, chinese = LEARN_PAGES[page]
    assert at.title[0].value == (english if language == "en" else chinese)
    assert at.get("plotly_chart"), "a Learn page shows its formula at work"
    assert at.get("latex") or "pages/learn_families.py" == page or at.get("markdown")
    if language == "zh_CN":
        headers = [h.value for h in at.header] + [m.value for m in at.markdown[:1]]
        assert all(CJK.search(text) for text in headers if text), headers
    else:
        assert not CJK.search(at.title[0].value)


def test_moving_the_inner_learning_rate_moves_the_adapted_curve():
    at = open_page("pages/learn_maml.py")
    before = chart(at, "learn_maml_inner")["data"][2]
    assert before["name"] == "θ' (adapted)"
    at.slider(key="learn_maml_inner_lr").set_value(0.05).run()
    after = chart(at, "learn_maml_inner")["data"][2]
    assert after["y"] != before["y"]
    # the start θ and the true function do not move
    assert (
        chart(at, "learn_maml_inner")["data"][1]["y"]
        == chart(at, "learn_maml_inner")["data"][1]["y"]
    )
    at.slider(key="learn_maml_inner_lr").set_value(0.0).run()
    zero = chart(at, "learn_maml_inner")["data"]
    assert zero[2]["y"] == zero[1]["y"]  # α = 0: θ' = θ


def test_the_six_steps_are_stepped_through_with_the_current_one_highlighted():
    at = open_page("pages/learn_maml.py")
    steps_list = next(m.value for m in at.markdown if m.value.startswith("1. "))
    assert "1. **▶ Initialise" in steps_list
    titles = []
    for step in range(1, 7):
        at.select_slider(key="learn_maml_step").set_value(step).run()
        assert not at.exception
        steps_list = next(m.value for m in at.markdown if m.value.startswith("1. "))
        assert f"{step}. **▶" in steps_list and steps_list.count("▶") == 1
        titles.append(chart(at, "learn_maml_walk")["layout"]["title"]["text"])
    assert len(set(titles)) == 6 and titles[3].startswith("Step 4: L_M = ")


def test_maml_first_order_maml_and_reptile_are_compared_on_the_same_task():
    at = open_page("pages/learn_maml.py")
    curves = chart(at, "learn_maml_compare_curves")["data"]
    assert [c["name"] for c in curves[:4]] == [
        "true function",
        "MAML",
        "first-order MAML",
        "Reptile",
    ]
    table = at.dataframe[0].value
    assert list(table.iloc[:, 0]) == ["MAML", "first-order MAML", "Reptile"]


def test_matching_attention_cosine_and_softmax_follow_the_query():
    at = open_page("pages/learn_matching.py")
    bars = chart(at, "learn_matching_bars")["data"]
    cosine, softmax = numbers(bars[0]["y"]), numbers(bars[1]["y"])
    assert sum(softmax) == pytest.approx(1.0) and min(cosine) < 0
    at.slider(key="learn_matching_angle").set_value(180).run()
    moved = numbers(chart(at, "learn_matching_bars")["data"][0]["y"])
    assert moved != pytest.approx(cosine)
    at.slider(key="learn_matching_length").set_value(0.5).run()
    # a cosine sees only the direction
    assert numbers(chart(at, "learn_matching_bars")["data"][0]["y"]) == pytest.approx(moved)


def test_a_prototype_follows_its_support_points():
    at = open_page("pages/learn_prototypes.py")
    stars = chart(at, "learn_prototypes_plane")["data"][2]
    assert stars["name"] == "prototype" and numbers(stars["x"])[0] == pytest.approx(-1.5)
    at.slider(key="learn_prototypes_x0").set_value(1.0).run()
    stars = chart(at, "learn_prototypes_plane")["data"][2]
    assert numbers(stars["x"])[0] == pytest.approx(0.0)  # mean of 1.0 and -1.0
    assert any("Added" in i.value for i in at.info), "the section finished from the paper is marked"


def test_the_gan_trains_when_its_steps_move():
    at = open_page("pages/learn_why.py")
    verdict = chart(at, "learn_why_gan_verdict")["data"]
    assert numbers(verdict[0]["x"]) == [0]  # step 0 only
    at.slider(key="learn_why_gan_steps").set_value(50).run()
    verdict = chart(at, "learn_why_gan_verdict")["data"]
    assert numbers(verdict[0]["x"]) == [0, 50]
    assert all(0 < v < 1 for v in numbers(verdict[0]["y"]) + numbers(verdict[1]["y"]))


def test_the_episode_follows_n_way():
    at = open_page("pages/learn_families.py")
    at.slider(key="learn_families_n_way").set_value(3).run()
    assert (
        "3-way 1-shot: 3 support examples"
        in chart(at, "learn_families_episode")["layout"]["title"]["text"]
    )


def test_switching_language_keeps_the_pages_state_and_changes_its_text():
    at = open_page("pages/learn_maml.py")
    at.slider(key="learn_maml_inner_lr").set_value(0.035).run()
    at.select_slider(key="learn_maml_step").set_value(4).run()
    english_curve = chart(at, "learn_maml_inner")["data"][2]["y"]
    at.sidebar.radio(key="lang_switch").set_value("zh_CN").run()
    assert not at.exception
    assert at.title[0].value == "MAML、一阶 MAML 与 Reptile"
    assert at.slider(key="learn_maml_inner_lr").value == pytest.approx(0.035)
    assert at.select_slider(key="learn_maml_step").value == 4
    assert chart(at, "learn_maml_inner")["data"][2]["y"] == english_curve
    assert chart(at, "learn_maml_inner")["data"][2]["name"] == "θ'(适应后)"
    assert at.query_params["lang"] == ["zh_CN"] or at.query_params["lang"] == "zh_CN"
    # and back, on another page: the language stays the session's
    at.switch_page("pages/learn_matching.py").run()
    assert at.title[0].value == "匹配网络"


def test_home_and_the_navigation_in_chinese():
    at = open_page("pages/home.py", "zh_CN")
    cards = [m.value for m in at.markdown if m.value.startswith("#### ")]
    assert "#### 训练" in cards and "#### 5 · 原型网络" in cards
    assert [s.value for s in at.subheader][-1] == "学习"
    assert all(CJK.search(link.proto.label) for link in at.get("page_link"))


def test_a_hostile_lang_parameter_opens_english_with_a_note():
    at = open_page("pages/home.py", "x" * 5000)
    assert at.session_state["lang"] == "en"
    assert any("Unknown language" in c.value for c in at.sidebar.caption)


def test_the_few_shot_gan_adapts_step_by_step_from_both_starts():
    at = open_page("pages/learn_families.py")
    meta = chart(at, "learn_families_gan_meta")["data"]
    scratch = chart(at, "learn_families_gan_scratch")["data"]
    assert [t["name"] for t in meta] == ["the 32 examples", "generated"]
    assert numbers(meta[0]["x"]) == numbers(scratch[0]["x"])  # the same K examples
    assert numbers(meta[1]["x"]) != numbers(scratch[1]["x"])
    assert sum("modes covered" in m.label for m in at.metric) == 2
    at.slider(key="learn_families_gan_step").set_value(0).run()
    assert numbers(chart(at, "learn_families_gan_meta")["data"][1]["x"]) != numbers(meta[1]["x"])
    assert "step 0" in chart(at, "learn_families_gan_meta")["layout"]["title"]["text"]
