"""Links a teacher hands out (``studio_ui.links``), through AppTest: every setting of the
Train, Compare, GAN Lab and Few-shot GAN pages read from the URL into its widget and the
run it builds, the link the page shows opening the same setup, hostile URLs opening the
defaults with a note, ``hide=`` taking controls away, and setups applied for lessons.

AppTest runs cost seconds on a busy machine: each test opens a page once or twice, with
many settings at a time; the check that every declared setting survives its link's text
runs without a page.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from studio_ui import compare_session
from studio_ui.gan_session import LAB_KEY, fewshot_params, lab_params
from studio_ui.links import MAX_VALUE_LENGTH, PageParams, Param, page_params
from studio_ui.run_presets import algorithms_for
from studio_ui.serving import REPO_ROOT
from studio_ui.train_session import KEY as TRAIN_STATE
from studio_ui.train_settings import hparam_key, train_params

PAGES = {name: str(REPO_ROOT / "pages" / f"{name}.py") for name in
         ("train", "compare", "gan", "fewshot_gan")}  # fmt: skip


def page_with(page: str, query: dict[str, Any] | list[tuple[str, str]], **state: Any) -> AppTest:
    at = AppTest.from_file(PAGES[page], default_timeout=120)
    pairs = query.items() if isinstance(query, dict) else query
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:  # a key given twice is a list, as a browser sends it
        grouped.setdefault(name, []).append(value)
    for name, values in grouped.items():
        at.query_params[name] = values if len(values) > 1 else values[0]
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def shown_link(at: AppTest) -> str:
    (code,) = [c.value for c in at.code if "lang=" in c.value]
    return code


def link_query(link: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(link).query, keep_blank_values=True)


def widget(at: AppTest, key: str):
    """The widget keyed ``key``, whatever its kind."""
    for kind in ("number_input", "selectbox", "multiselect", "checkbox", "text_input",
                 "radio", "select_slider", "slider"):  # fmt: skip
        found = [w for w in getattr(at, kind) if w.key == key]
        if found:
            return found[0]
    raise AssertionError(f"no widget {key!r}")


def another_value(param: Param, values: dict[str, Any]) -> Any:
    """A valid value of ``param`` other than its default under ``values``."""
    default = param.default(values)
    if param.options is not None:
        offered = list(param.options(values))
        if param.items is not None:
            low = param.items[0]
            choice = [o for o in offered if o not in default][:1] + list(default)[: low - 1]
            return choice if len(choice) >= low else list(reversed(default))
        return next(o for o in offered if o != default)
    info = param.info
    if info.kind is bool:
        return not default
    if info.kind is int:
        high = min(x for x in (info.high, param.server_cap, 10**6) if x is not None)
        return default + 1 if default + 1 <= high else default - 1
    if info.kind is float:
        high = info.high if info.high is not None else math.inf
        doubled = default * 2 if default else 0.5
        return doubled if doubled <= high else default / 2
    return "some-folder"


def context_for(spec: PageParams, name: str) -> dict[str, Any]:
    """The defaults, with the algorithm (and a data set of its kind) whose setting
    ``name`` is, so that it applies."""
    asked: dict[str, list[str]] = {}
    if spec.page == "train" and "." in name:
        algo = name.split(".")[0]
        asked = {"dataset": ["blobs" if algo in algorithms_for("blobs") else "sinusoid"],
                 "algo": [algo]}  # fmt: skip
    if name.endswith("data_dir"):
        asked = {name.replace("data_dir", "dataset"): ["folder"]}
    if name == "cmp_seconds":
        asked = {"cmp_budget_kind": ["seconds"]}
    return spec.check_all(asked, parse=True)[0]


ALL_PAGES = [train_params, compare_session.compare_params, lab_params, fewshot_params]


@pytest.mark.parametrize("params", ALL_PAGES, ids=lambda f: f.__name__)
def test_every_setting_survives_its_links_text(params):
    spec = params()
    assert page_params(spec.page).by_name.keys() == spec.by_name.keys()
    for param in spec.params:
        values = context_for(spec, param.name)
        assert param.applies(values), param.name
        value = another_value(param, values)
        assert value != param.default(values), param.name
        assert param.parse(param.texts(value), values) == value, param.name
        assert param.parse(param.widget_texts(value), values) == value, param.name


def train_setup(algo: str, dataset: str) -> dict[str, Any]:
    """Every setting of the Train page that applies to ``algo`` on ``dataset``, each
    changed from its default."""
    spec = train_params()
    values = spec.check_all({"dataset": [dataset], "algo": [algo]}, parse=True)[0]
    setup = {"dataset": dataset, "algo": algo}
    for param in spec.params:
        if param.name in setup or not param.applies(values) or param.name == "data_dir":
            continue
        values[param.name] = setup[param.name] = another_value(param, values)
    setup["val_every"] = 0  # no validation: the runs stay quick
    if "width" in setup:
        setup["width"] = 8
    return setup


def as_query(spec: PageParams, setup: dict[str, Any]) -> list[tuple[str, str]]:
    return [(name, text) for name, value in setup.items()
            for text in spec.by_name[name].texts(value)]  # fmt: skip


@pytest.mark.parametrize(
    ("algo", "dataset"),
    [("maml", "blobs"), ("reptile", "blobs"), ("matchingnet", "blobs"), ("cnp", "sinusoid"),
     ("transfer", "blobs"), ("transfer", "sinusoid")],
)  # fmt: skip
def test_a_train_link_opens_its_setup_and_the_page_shows_the_same_link(algo, dataset):
    spec = train_params()
    setup = train_setup(algo, dataset)
    at = page_with("train", as_query(spec, setup))
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    for name, value in setup.items():
        assert widget(at, name).value == pytest.approx(value) if isinstance(value, float) \
            else widget(at, name).value == value, name  # fmt: skip
    config = at.session_state[TRAIN_STATE].trainer.config
    assert (config.dataset, config.algo, config.seed) == (dataset, algo, setup["seed"])
    for name in ("k_shot", "q_query", "val_episodes"):
        assert getattr(config, name) == setup[name], name
    for name, value in setup.items():
        if name.startswith(algo + "."):
            assert config.hparams[name.split(".")[1]] == pytest.approx(value), name
    link = shown_link(at)
    assert link.startswith("/train?")
    assert dict(link_query(link)) == {**dict(as_query(spec, setup)), "lang": "en"}


def test_a_changed_widget_is_in_the_link_and_the_link_opens_it():
    at = page_with("train", {})
    assert shown_link(at) == "/train?lang=en"  # the defaults: nothing to say
    at.selectbox(key="algo").set_value("maml").run()
    at.number_input(key="k_shot").set_value(3).run()
    at.number_input(key=hparam_key("maml", "inner_lr")).set_value(0.25).run()
    link = shown_link(at)
    assert link_query(link) == [("algo", "maml"), ("k_shot", "3"), ("maml.inner_lr", "0.25"),
                                ("lang", "en")]  # fmt: skip
    opened = page_with("train", link_query(link))
    assert shown_link(opened) == link
    config = opened.session_state[TRAIN_STATE].trainer.config
    assert (config.algo, config.k_shot, config.hparams["inner_lr"]) == ("maml", 3, 0.25)
    at.number_input(key="k_shot").set_value(1).run()  # back to the default: out of the link
    assert ("k_shot", "3") not in link_query(shown_link(at))


def test_a_hostile_train_url_opens_the_defaults_with_a_note():
    query = [
        ("bogus", "1"),  # unknown
        ("k_shot", "100000"),  # out of range
        ("n_way", "two"),  # wrong type
        ("q_query", "2.5"),  # not an integer
        ("seed", "1"), ("seed", "2"),  # repeated
        ("dataset", "x" * 10_000),  # very long
        ("algo", "cnp"),  # a regression learner on glyphs
        ("maml.inner_lr", "0.1"),  # the chosen learner is not MAML
        ("protonet.outer_lr", "nan"),
        ("width", "-3"),
        ("embedding_2d", "maybe"),
        ("hide", "seed," * 1000),  # a hide list past its cap hides nothing
    ]  # fmt: skip
    at = page_with("train", query)
    assert not at.exception and not at.error
    (note,) = [w.value for w in at.warning]
    for name in ("bogus", "k_shot", "n_way", "q_query", "seed", "dataset", "algo",
                 "maml.inner_lr", "protonet.outer_lr", "width", "embedding_2d"):  # fmt: skip
        assert f"{name}" in note, name
    assert "given 2 times" in note and f"longer than {MAX_VALUE_LENGTH} characters" in note
    assert "hide: longer than" in note and "seed" in {w.key for w in at.number_input}
    assert "must be an integer in 1..100" in note
    config = at.session_state[TRAIN_STATE].trainer.config
    assert (config.dataset, config.algo, config.k_shot, config.n_way, config.seed) == (
        "glyphs", "protonet", 1, 5, 0,
    )  # fmt: skip
    assert shown_link(at) == "/train?lang=en"


def test_a_server_limit_below_the_metadatas_refuses_a_link_past_it(monkeypatch, tmp_path):
    config = tmp_path / "classroom.toml"
    config.write_text("[classroom]\nmax_inner_steps = 3\n")
    monkeypatch.setenv("METALEARN_CLASSROOM_CONFIG", str(config))
    at = page_with("train", {"algo": "maml", "maml.inner_steps_test": "50"})
    (note,) = [w.value for w in at.warning]
    assert "maml.inner_steps_test: this server allows at most 3" in note
    assert widget(at, "algo").value == "maml"


def test_hide_takes_controls_away_and_their_link_values_still_apply():
    at = page_with("train", {"algo": "maml", "seed": "4", "inner_lr": "0.3",
                             "hide": "algo,seed,hparams,presets,nonsense"})  # fmt: skip
    assert not at.exception
    keys = {w.key for kind in ("selectbox", "number_input") for w in getattr(at, kind)}
    assert "algo" not in keys and "seed" not in keys and "dataset" in keys
    assert not any(k.startswith("maml.") for k in keys)
    assert not [b for b in at.button if b.label == "Quick demo"]
    assert "Hyperparameters" not in [e.label for e in at.expander]
    config = at.session_state[TRAIN_STATE].trainer.config
    assert (config.algo, config.seed, config.hparams["inner_lr"]) == ("maml", 4, 0.3)
    (note,) = [w.value for w in at.warning]
    assert "nonsense is not a control of this page" in note
    assert link_query(shown_link(at)) == [
        ("algo", "maml"), ("seed", "4"), ("maml.inner_lr", "0.3"), ("lang", "en"),
        ("hide", "algo,seed,hparams,presets"),
    ]  # fmt: skip


def test_a_compare_link_round_trips_and_hostile_learners_are_refused():
    spec = compare_session.compare_params()
    setup = {"cmp_dataset": "sinusoid", "cmp_algos": ["reptile", "maml", "cnp"],
             "cmp_k_shot": 4, "cmp_q_query": 3, "cmp_seed": 9, "cmp_budget_kind": "seconds",
             "cmp_seconds": 12, "cmp_recipes": False, "cmp_test_episodes": 20,
             "cmp_extra_episodes": 6, "cmp_validate_every": 7, "cmp_val_episodes": 4}  # fmt: skip
    at = page_with("compare", as_query(spec, setup))
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    for name, value in setup.items():
        assert widget(at, name).value == value, name
    plan = at.session_state[compare_session.COMPARISON].plan
    assert plan.algos == ("reptile", "maml", "cnp") and plan.seconds == 12.0
    assert (plan.base.dataset, plan.base.k_shot, plan.base.q_query) == ("sinusoid", 4, 3)
    assert (plan.test_episodes, plan.validate_every, plan.use_recipes) == (20, 7, False)
    link = shown_link(at)
    assert dict(link_query(link)) == {**dict(as_query(spec, setup)), "lang": "en"}
    assert shown_link(page_with("compare", link_query(link))) == link

    hostile = page_with("compare", [("cmp_algos", a) for a in
                                    ("maml", "protonet", "reptile", "fomaml", "matchingnet")]
                        + [("cmp_episodes", "0"), ("algos", "cnp,maml")])  # fmt: skip
    (note,) = [w.value for w in hostile.warning]
    assert "cmp_algos: choose 2 to 4" in note and "cmp_episodes: must be" in note
    assert hostile.session_state[compare_session.COMPARISON].plan.algos == ("protonet", "maml")
    kinds = page_with("compare", {"algos": "protonet,cnp", "hide": "scoring,seed"})
    (note,) = [w.value for w in kinds.warning]  # a name without the prefix is taken too
    assert "'cnp' is not offered here" in note
    shown = {w.key for w in kinds.number_input}
    assert "cmp_test_episodes" not in shown and "cmp_seed" not in shown and "cmp_k_shot" in shown
    assert "Scoring" not in [e.label for e in kinds.expander]
    assert kinds.session_state[compare_session.COMPARISON].plan.test_episodes == 600


def test_gan_lab_link_round_trips():
    spec = lab_params()
    values = spec.check_all({}, parse=True)[0]
    setup = {p.name: another_value(p, values) for p in spec.params}
    setup["gan_batch_size"] = 64  # a multiple of the pack
    setup["gan_pack"] = 4
    at = page_with("gan", as_query(spec, setup))
    assert not at.exception and not at.error, [e.value for e in at.error]
    for name, value in setup.items():
        assert widget(at, name).value == value, name
    config = at.session_state[LAB_KEY].model.config
    for name, value in setup.items():
        field = name.removeprefix("gan_")
        if hasattr(config, field):
            assert getattr(config, field) == value, name
    link = shown_link(at)
    assert dict(link_query(link)) == {**dict(as_query(spec, setup)), "lang": "en"}
    hidden = page_with("gan", {"loss": "wgan_gp", "hide": "loss,preset"})
    assert "gan_loss" not in {w.key for w in hidden.selectbox}
    assert "gan_preset" not in {w.key for w in hidden.selectbox}
    assert hidden.session_state[LAB_KEY].model.config.loss == "wgan_gp"


def test_fewshot_gan_link_round_trips():
    spec = fewshot_params()
    setup = {"fewshot_gan_iterations": 7, "fewshot_gan_seed": 3,
             "fewshot_gan_scratch_lr": 0.01, "fewshot_gan_step": 2}  # fmt: skip
    at = page_with("fewshot_gan", as_query(spec, setup))
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    for name, value in setup.items():
        assert widget(at, name).value == value, name
    assert dict(link_query(shown_link(at))) == {**dict(as_query(spec, setup)), "lang": "en"}


def test_a_setup_for_a_lesson_is_written_into_the_form_checked_like_a_link():
    def script():
        import streamlit as st

        from studio_ui.links import apply_setup
        from studio_ui.train_settings import open_settings, settings_form

        if "notes" not in st.session_state:
            st.session_state["notes"] = apply_setup(
                "train",
                {"dataset": "sinusoid", "algo": "maml", "k_shot": "7", "inner_lr": 0.5,
                 "seed": -1, "mystery": 3},
            )  # fmt: skip
        choice = settings_form(open_settings())
        st.session_state["config"] = choice.config

    at = AppTest.from_function(script, default_timeout=60).run()
    assert not at.exception
    config = at.session_state["config"]
    assert (config.dataset, config.algo, config.k_shot, config.seed) == ("sinusoid", "maml", 7, 0)
    assert config.hparams["inner_lr"] == 0.5
    notes = at.session_state["notes"]
    assert any(n.startswith("seed: must be") for n in notes)
    assert any("mystery is not a setting" in n for n in notes)
    with pytest.raises(ValueError, match="no page 'nowhere'"):
        page_params("nowhere")


def test_a_chinese_link_says_what_it_ignored_in_chinese_and_keeps_its_language():
    at = page_with("train", {"algo": "maml", "bogus": "1"}, lang="zh_CN")
    assert not at.exception
    (note,) = [w.value for w in at.warning]
    assert note.startswith("链接中的部分设置被忽略") and "bogus 不是本页的设置" in note
    assert widget(at, "algo").value == "maml"
    assert link_query(shown_link(at)) == [("algo", "maml"), ("lang", "zh_CN")]
