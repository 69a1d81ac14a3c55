"""Train page through Streamlit's AppTest: Step, Reset, every offered combination, bad input.

Runs are tiny (2-way 1-shot, width 8, meta-batch 2, no validation) so the whole file
stays within seconds per test. The Play loop itself is covered by the browser test.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile

import pytest
import torch
from streamlit.testing.v1 import AppTest

from metalearn_core.algorithms import ALGORITHMS, algorithm_names
from metalearn_core.algorithms.internals import EmbeddingView
from studio_ui import train_session as session
from studio_ui.live_chart import shown_figures, trace_values
from studio_ui.run_presets import dataset_kind, dataset_names, needs_folder
from studio_ui.serving import REPO_ROOT
from studio_ui.train_settings import FOLDER_ZIP_KEY, KEY, hparam_key

TRAIN_PAGE = str(REPO_ROOT / "pages" / "train.py")
META_BATCH = 2


def offered_combinations() -> list[tuple[str, str]]:
    return [
        (dataset, algo)
        for dataset in dataset_names()
        if not needs_folder(dataset)  # those need a user's folder: see the test below
        for algo in algorithm_names(dataset_kind(dataset))
    ]


def metric(at: AppTest, label: str) -> str:
    for element in at.metric:
        if element.label == label:
            return element.value
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


def choose(at: AppTest, dataset: str, algo: str, **sizes: int) -> AppTest:
    """Pick a data set and algorithm with tiny settings; the untrained run follows them."""
    at.selectbox(key=KEY + "dataset").set_value(dataset).run()
    at.selectbox(key=KEY + "algo").set_value(algo).run()
    regression = dataset_kind(dataset) == "regression"
    values = {"k_shot": 2 if regression else 1, "q_query": 2, "width": 8, "val_every": 0}
    if not regression:
        values["n_way"] = 2
    values.update(sizes)
    for name, value in values.items():
        if not at.number_input(key=KEY + name).disabled:  # a learner with its own network
            at.number_input(key=KEY + name).set_value(value)
    meta_batch_key = hparam_key(algo, "meta_batch")
    if any(w.key == meta_batch_key for w in at.number_input):
        at.number_input(key=meta_batch_key).set_value(META_BATCH)
    return at.run()


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(TRAIN_PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def test_first_visit_offers_the_quick_demo(app):
    trainer = app.session_state[session.KEY].trainer
    assert (trainer.config.dataset, trainer.config.algo) == ("glyphs", "protonet")
    assert metric(app, "Episodes") == "0"
    assert app.button(key="train_play_pause").proto.type == "primary"


def test_another_kind_of_data_takes_its_episode_shape(app):
    app.selectbox(key=KEY + "dataset").set_value("sinusoid").run()
    shape = {name: app.number_input(key=KEY + name).value for name in ("k_shot", "q_query")}
    assert shape == {"k_shot": 10, "q_query": 10}  # the quick demo's sinusoid
    app.number_input(key=KEY + "k_shot").set_value(7).run()
    app.selectbox(key=KEY + "dataset").set_value("glyphs").run()
    assert app.number_input(key=KEY + "k_shot").value == 1
    app.number_input(key=KEY + "k_shot").set_value(3).run()
    app.selectbox(key=KEY + "dataset").set_value("blobs").run()  # same kind: kept
    assert app.number_input(key=KEY + "k_shot").value == 3
    assert not app.exception


def test_step_advances_by_one_meta_batch_and_reset_clears(app):
    choose(app, "glyphs", "maml")
    app.button(key="train_step").click().run()
    assert not app.exception and not app.error
    assert (metric(app, "Episodes"), metric(app, "Meta-iterations")) == (str(META_BATCH), "1")
    app.button(key="train_step").click().run()
    assert metric(app, "Episodes") == str(2 * META_BATCH)

    app.button(key="train_reset").click().run()  # a trained run: asks first
    assert "discards 4 episodes" in app.warning[0].value
    assert metric(app, "Episodes") == "4"
    app.button(key="train_confirm_no").click().run()
    assert metric(app, "Episodes") == "4"
    app.button(key="train_reset").click().run()
    app.button(key="train_step").click().run()  # a step while the question is open
    assert "discards 6 episodes of training (3 meta-iterations)" in app.warning[0].value
    app.button(key="train_confirm_yes").click().run()
    assert (metric(app, "Episodes"), metric(app, "Meta-iterations")) == ("0", "0")
    assert app.session_state[session.KEY].trainer.config.algo == "maml"


@pytest.mark.parametrize(("dataset", "algo"), offered_combinations())
def test_every_offered_combination_steps(app, dataset, algo):
    choose(app, dataset, algo)
    assert not app.error, [e.value for e in app.error]
    trainer = app.session_state[session.KEY].trainer
    assert (trainer.config.dataset, trainer.config.algo) == (dataset, algo)
    app.button(key="train_step").click().run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    assert metric(app, "Meta-iterations") == "1"
    assert int(metric(app, "Episodes")) == trainer.meta_batch
    charts = shown_figures(app)
    # the transfer baseline's steps are pretraining mini-batches over all classes: named so
    name = "pretraining batch loss" if algo == "transfer" else "train loss"
    losses = [t for t in charts["train_curves"]["figure"]["data"] if t["name"] == name]
    assert len(trace_values(losses[0], "y")) == 1, "the curves do not show the one step taken"
    assert "train_inspect" in charts, "the inspector drew no episode"


def test_bad_input_shows_an_error_and_keeps_the_run(app):
    choose(app, "blobs", "protonet")
    app.button(key="train_step").click().run()
    trained = app.session_state[session.KEY].trainer
    app.number_input(key=KEY + "n_way").set_value(100).run()  # more ways than classes
    assert not app.exception
    assert any("n_way=100" in e.value for e in app.error), [e.value for e in app.error]
    assert app.session_state[session.KEY].trainer is trained
    assert metric(app, "Episodes") == str(META_BATCH)
    app.number_input(key=KEY + "n_way").set_value(2)
    app.number_input(key=KEY + "k_shot").set_value(100)
    app.number_input(key=KEY + "q_query").set_value(100)
    app.run()
    assert app.session_state[session.KEY].trainer is trained
    assert not app.exception
    # blobs draw 200 points per class, so 100 + 100 fits: the offer to start afresh shows
    assert app.button(key="train_new_run")


def test_k_plus_q_too_large_is_an_error(app):
    choose(app, "glyphs", "protonet", k_shot=100, q_query=100)
    assert not app.exception
    assert any("k_shot + q_query" in e.value for e in app.error), [e.value for e in app.error]


def test_changed_settings_on_a_trained_run_need_a_new_run(app):
    choose(app, "blobs", "protonet")
    app.button(key="train_step").click().run()
    app.number_input(key=KEY + "seed").set_value(7).run()
    assert app.session_state[session.KEY].trainer.config.seed == 0
    app.button(key="train_new_run").click().run()
    new = app.session_state[session.KEY].trainer
    assert (new.config.seed, new.iteration) == (7, 0)


def test_download_then_upload_restores_the_run(app):
    choose(app, "blobs", "protonet")
    for _ in range(3):
        app.button(key="train_step").click().run()
    trained = app.session_state[session.KEY].trainer
    data = app.session_state[session.KEY].export_bytes(trained)
    fresh = AppTest.from_file(TRAIN_PAGE, default_timeout=60).run()
    fresh.file_uploader(key=session.UPLOAD_KEY).set_value(("run.zip", data, "application/zip"))
    fresh.run()
    assert not fresh.exception and not fresh.error, [e.value for e in fresh.error]
    loaded = fresh.session_state[session.KEY].trainer
    assert (loaded.config.dataset, loaded.iteration) == ("blobs", 3)
    assert metric(fresh, "Episodes") == str(3 * META_BATCH)
    assert fresh.selectbox(key=KEY + "dataset").value == "blobs"  # widgets follow the run
    assert dataclasses.asdict(loaded.learner.hparams)["meta_batch"] == META_BATCH


def test_foreign_upload_is_an_error_and_keeps_the_run(app):
    app.button(key="train_step").click().run()
    trained = app.session_state[session.KEY].trainer
    app.file_uploader(key=session.UPLOAD_KEY).set_value(
        ("notes.zip", b"PK\x05\x06" + b"\x00" * 18, "application/zip")
    )
    app.run()
    assert not app.exception
    assert any("notes.zip is not a run" in e.value for e in app.error), [e.value for e in app.error]
    assert app.session_state[session.KEY].trainer is trained


def test_diverged_run_shows_why_and_disables_play(app):
    app.button(key="train_step").click().run()
    trainer = app.session_state[session.KEY].trainer
    trainer.divergence = "training diverged at step 2: the loss became nan. Lower outer_lr"
    app.run()
    assert any("diverged at step 2" in e.value for e in app.error)
    assert app.button(key="train_play_pause").disabled
    assert app.button(key="train_step").disabled


def test_leaving_the_page_keeps_the_run_paused():
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/train.py").run()
    at.button(key="train_step").click().run()
    trainer = at.session_state[session.KEY].trainer
    at.session_state[session.KEY].playing = True  # as if Play had been pressed
    at.switch_page("pages/home.py").run()
    assert at.title[0].value == "MetaLearn Studio"
    # AppTest runs page scripts without re-running app.py, which counts the session's
    # runs in a real server; count the Home run and the coming Train run as it would.
    at.session_state["app_runs"] = at.session_state["app_runs"] + 2
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert at.session_state[session.KEY].trainer is trainer
    assert at.session_state[session.KEY].playing is False
    assert metric(at, "Episodes") == "1"


def test_folder_data_set_offers_a_zip_upload_and_explains_what_it_needs(app):
    uploaders_before = len(app.get("file_uploader"))
    app.selectbox(key=KEY + "dataset").select("folder").run()
    assert not app.exception
    assert len(app.get("file_uploader")) == uploaders_before + 1  # the class-folders zip
    assert any("one sub-folder per class" in error.value for error in app.error)
    notes = io.BytesIO()
    with zipfile.ZipFile(notes, "w") as archive:
        archive.writestr("readme.txt", "no images here")
    app.file_uploader(key=FOLDER_ZIP_KEY).set_value(
        ("notes.zip", notes.getvalue(), "application/zip")
    ).run()
    errors = [error.value for error in app.error]
    assert any("the uploaded notes.zip holds no images" in e for e in errors), errors
    assert not any("metalearn_uploads" in e for e in errors)  # not the stored copy's path


def test_omniglot_reads_the_machines_folder_when_the_field_is_empty(app, machine_omniglot):
    choose(app, "omniglot", "protonet")
    assert app.text_input(key=KEY + "data_dir").value == ""
    assert any(str(machine_omniglot) in caption.value for caption in app.caption)
    app.button(key="train_step").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    trainer = app.session_state[session.KEY].trainer
    assert trainer.config.dataset == "omniglot" and metric(app, "Episodes") == str(META_BATCH)
    assert trainer.source("train").class_names[0] == "Latin/character01"


def test_omniglot_without_a_folder_says_where_to_name_one(app, monkeypatch):
    monkeypatch.delenv("METALEARN_OMNIGLOT_DIR", raising=False)
    choose(app, "omniglot", "protonet")
    assert any("METALEARN_OMNIGLOT_DIR" in error.value for error in app.error)


def test_the_run_line_names_the_episode_shape_of_its_kind(app):
    assert "5-way 1-shot, 5 queries per class" in app.caption[0].value
    choose(app, "sinusoid", "maml", k_shot=7, q_query=3)
    line = app.caption[0].value
    assert "7 support and 3 query points per task" in line and "way" not in line
    assert "**MAML** on **sinusoid**" in line


def test_a_validation_scored_over_several_ticks_shows_its_progress(app):
    choose(app, "glyphs", "protonet", val_every=1, val_episodes=5)
    trainer = app.session_state[session.KEY].trainer
    report = trainer.run_tick(max_seconds=0.0, split_validation=True)  # as the Play loop does
    assert report.iterations == 1 and trainer.validation_progress == (1, 5)
    app.run()
    assert any(m.label == "Validation (scoring 1/5)" for m in app.metric), app.metric
    waits = "Downloading first scores the validation in progress (4 of 5 episodes left)"
    assert any(waits in c.value for c in app.caption)
    app.button(key="train_step").click().run()  # completes it, then steps
    assert trainer.validation_progress is None and trainer.iteration == 2
    assert not any(waits[:40] in c.value for c in app.caption)
    assert trainer.history.validation_arrays()["iteration"].tolist() == [1, 2]
    assert "% ± " in metric(app, "Validation accuracy")


def _inspector_embedding(app: AppTest) -> dict:
    charts = shown_figures(app)
    for key, message in charts.items():
        names = [trace.get("name") for trace in message["figure"]["data"]]
        if key.startswith("train_inspect_") and "prototypes" in names:
            return message["figure"]
    raise AssertionError(f"no embedding chart among {sorted(charts)}")


def test_the_2d_embedding_box_is_off_where_no_embedding_is_drawn(app):
    choose(app, "glyphs", "protonet")
    app.checkbox(key=KEY + "embedding_2d").check().run()
    assert app.session_state[session.KEY].trainer.config.embedding_2d
    choose(app, "glyphs", "maml")  # MAML's inspector shows its inner loop, no embedding
    box = app.checkbox(key=KEY + "embedding_2d")
    assert box.disabled and "draws no embedding space for MAML" in box.help
    assert not app.session_state[session.KEY].trainer.config.embedding_2d


def test_the_inspector_draws_the_embedding_space_flat_or_projected(app):
    choose(app, "glyphs", "protonet", width=8)
    projected = _inspector_embedding(app)
    assert projected["layout"]["xaxis"]["title"]["text"].startswith("PC 1 (")
    assert "nearest prototype" not in [t.get("name") for t in projected["data"]]
    assert any("principal components" in c.value for c in app.caption)

    app.checkbox(key=KEY + "embedding_2d").check().run()
    trainer = app.session_state[session.KEY].trainer
    assert trainer.config.embedding_2d and trainer.learner.spec.embedding_2d
    flat = _inspector_embedding(app)
    assert flat["layout"]["xaxis"]["title"]["text"] == "embedding 1"
    regions, stars, *_ = flat["data"]  # the stars under the support diamonds
    assert (regions["name"], stars["name"]) == ("nearest prototype", "prototypes")
    prototypes = (
        app.session_state[session.KEY].trainer.inspect(seed=0)[1].find(EmbeddingView).prototypes
    )
    assert trace_values(stars, "x") == pytest.approx(prototypes[:, 0].tolist(), abs=1e-6)
    assert any("region each prototype wins" in c.value for c in app.caption)


@pytest.mark.parametrize("algo", sorted(ALGORITHMS))
def test_the_sidebar_says_what_each_algorithm_does(app, algo):
    summary = ALGORITHMS[algo].summary
    assert summary and len(summary) < 300  # two sentences a student reads while choosing
    choose(app, "glyphs" if "classification" in ALGORITHMS[algo].task_kinds else "sinusoid", algo)
    assert summary in [caption.value for caption in app.sidebar.caption]


def test_matching_networks_learn_their_attention_scale_in_the_quick_demo_only(app):
    choose(app, "glyphs", "matchingnet")
    learned = app.checkbox(key=hparam_key("matchingnet", "learn_attention_scale"))
    assert learned.value  # the quick demo: the paper's flat attention learns slowly
    assert app.session_state[session.KEY].trainer.learner.learned_scale is not None
    assert any("attention scale (similarities × scale" in c.value for c in app.caption)
    sidebar = [c.value for c in app.sidebar.caption]
    assert any("learn_attention_scale = True (paper: False)" in c for c in sidebar), sidebar

    next(b for b in app.button if b.label == "Paper settings").click().run()
    assert not app.checkbox(key=hparam_key("matchingnet", "learn_attention_scale")).value
    assert app.session_state[session.KEY].trainer.learner.learned_scale is None
    assert "The papers' defaults." in [c.value for c in app.sidebar.caption]


def test_the_quick_demo_gives_the_sequence_learner_the_slots_it_uses(app):
    choose(app, "glyphs", "snail")
    slots = app.number_input(key=hparam_key("snail", "max_n_way"))
    assert (
        slots.value == 5 and app.session_state[session.KEY].trainer.learner.hparams.max_n_way == 5
    )
    app.number_input(key=KEY + "n_way").set_value(8).run()  # more ways than slots
    assert not app.exception
    assert any("train one with max_n_way >= 8" in e.value for e in app.error), app.error
    app.number_input(key=hparam_key("snail", "max_n_way")).set_value(8).run()
    assert not app.error and app.session_state[session.KEY].trainer.config.n_way == 8

    next(b for b in app.button if b.label == "Paper settings").click().run()
    assert app.number_input(key=hparam_key("snail", "max_n_way")).value == 20


def test_a_learner_with_its_own_network_takes_no_width(app):
    choose(app, "sinusoid", "cnp")
    width = app.number_input(key=KEY + "width")
    assert width.disabled and "sizes its own network" in width.help
    assert app.session_state[session.KEY].trainer.config.width is None
    assert not app.error
    choose(app, "sinusoid", "maml")
    assert not app.number_input(key=KEY + "width").disabled
    assert app.session_state[session.KEY].trainer.config.width == 8


def test_the_inspector_says_when_a_run_has_stopped_being_finite(app):
    choose(app, "glyphs", "protonet")
    app.number_input(key=hparam_key("protonet", "outer_lr")).set_value(1e30).run()
    app.button(key="train_step").click().run()  # finite loss, weights beyond float range
    assert not app.exception
    assert any("no longer finite numbers" in w.value for w in app.warning), app.warning


def test_each_hyperparameter_says_what_it_is(app):
    choose(app, "glyphs", "maml")
    inner_lr = app.number_input(key=hparam_key("maml", "inner_lr"))
    assert inner_lr.help.startswith("α: the inner SGD step size")
    strategy = app.selectbox(key=hparam_key("maml", "strategy"))
    assert "vmap" in strategy.help
    choose(app, "glyphs", "protonet")
    distance = app.selectbox(key=hparam_key("protonet", "distance"))
    assert distance.options == ["euclidean", "cosine"] and "squared" in distance.help
    distance.set_value("cosine").run()
    assert app.session_state[session.KEY].trainer.learner.hparams.distance == "cosine"


def test_the_update_rule_panel_follows_the_chosen_algorithm(app):
    assert app.expander[0].label == "How Prototypical Networks learns: the update rule"
    assert "c_n = \\frac{1}{K}" in app.latex[0].value
    choose(app, "glyphs", "maml")
    assert app.expander[0].label == "How MAML learns: the update rule"
    assert len(app.latex) == 3 and "\\phi_i^{(s+1)}" in app.latex[0].value
    assert app.expander[0].markdown[0].value.startswith("Inner loop")


def test_the_quick_demo_tests_reptile_with_fewer_steps_on_images_only(app):
    def test_steps(kind: str) -> int:
        return app.number_input(key=hparam_key("reptile", "inner_steps_test")).value

    choose(app, "glyphs", "reptile")
    assert test_steps("classification") == 20  # quick: validation no longer outlasts training
    choose(app, "sinusoid", "reptile")
    assert test_steps("regression") == 32  # the sinusoid's own default, as trained
    choose(app, "glyphs", "reptile")
    next(b for b in app.button if b.label == "Paper settings").click().run()
    assert test_steps("classification") == 50
    assert app.session_state[session.KEY].trainer.learner.hparams.inner_steps_test == 50


def _first_batch(trainer):
    """The meta-batch the run's next step trains on, drawn without moving its sampler."""
    state = trainer.sampler.get_state()
    batch = trainer.sampler.sample_batch(trainer.meta_batch)
    trainer.sampler.set_state(state)
    return batch


def test_a_command_line_run_with_its_own_image_size_resets_onto_the_same_data(app, tmp_path):
    from metalearn_core.cli import main
    from metalearn_core.engine import RunConfig, Trainer, export_run_zip

    run = tmp_path / "cli-run"
    assert main(["train", "--algo", "protonet", "--dataset", "glyphs", "--image-size", "20",
                 "--rotations", "--n-way", "2", "--k-shot", "1", "--q-query", "2", "--width", "8",
                 "--val-every", "0", "--set", "meta_batch=2", "--episodes", "4", "--threads", "1",
                 "--no-progress", "--out", str(run)]) == 0  # fmt: skip
    cli_losses = Trainer.load(run, device="cpu").history.train_arrays()["loss"].tolist()
    assert len(cli_losses) == 2

    app.file_uploader(key=session.UPLOAD_KEY).set_value(
        ("cli-run.zip", export_run_zip(run), "application/zip")
    ).run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    state = app.session_state[session.KEY]
    assert state.trainer.iteration == 2
    # the form shows the run's settings, the hidden ones included: nothing to start afresh
    assert not any(b.key == "train_new_run" for b in app.button)
    assert any("image_size = 20" in c.value for c in app.sidebar.caption)

    app.button(key="train_reset").click().run()
    app.button(key="train_confirm_yes").click().run()
    assert not app.exception and not app.error
    fresh = state.trainer
    assert fresh.iteration == 0 and metric(app, "Episodes") == "0"
    data = fresh.config.data_settings()
    assert (data.dataset, data.image_size, data.rotations) == ("glyphs", 20, True)
    assert fresh.source("train").input_shape == (1, 20, 20)

    # the same first episodes as the command line's run, opened from its own config
    saved = RunConfig.from_json((run / "config.json").read_text()).replace(device="cpu")
    expected, got = _first_batch(Trainer(saved)), _first_batch(fresh)
    for name in ("support_x", "support_y", "query_x", "query_y"):
        assert torch.equal(getattr(got, name), getattr(expected, name)), name
    # and the same first losses as it trained
    for _ in range(2):
        app.button(key="train_step").click().run()
    assert fresh.history.train_arrays()["loss"].tolist() == pytest.approx(cli_losses, rel=1e-5)


def test_the_form_takes_its_limits_and_help_from_the_config(app):
    from metalearn_core.engine import RunConfig
    from metalearn_core.settings import settings_of

    limits = settings_of(RunConfig)
    for name in ("n_way", "k_shot", "q_query", "val_episodes", "val_every"):
        widget = app.number_input(key=KEY + name)
        assert (widget.min, widget.max) == (limits[name].low, limits[name].high), name
        assert widget.help == limits[name].help
    choose(app, "sinusoid", "cnp")
    hidden = app.number_input(key=hparam_key("cnp", "hidden"))
    assert hidden.max == 1024 and "width of every encoder" in hidden.help
    hidden.set_value(1024).run()
    assert state_config(app).hparams["hidden"] == 1024


def state_config(app: AppTest):
    return app.session_state[session.KEY].trainer.config


def test_a_run_with_sizes_past_the_servers_limits_is_refused_on_upload(app, tmp_path):
    from metalearn_core.engine import Trainer, export_run_zip
    from metalearn_core.engine.checkpoint import CHECKPOINT_FILE, read_checkpoint, write_checkpoint

    app.button(key="train_step").click().run()
    trained = app.session_state[session.KEY].trainer
    run = tmp_path / "big"
    Trainer(state_config(app).replace(val_every=0)).save(run)
    payload = read_checkpoint(run / CHECKPOINT_FILE)
    payload["config"]["val_episodes"] = 10**12  # what a crafted zip could ask for
    write_checkpoint(run / CHECKPOINT_FILE, payload)
    data = export_run_zip(run)
    app.file_uploader(key=session.UPLOAD_KEY).set_value(("big.zip", data, "application/zip"))
    app.run()
    assert not app.exception
    errors = [e.value for e in app.error]
    # the field is named by its label, as the settings form shows it
    assert any("big.zip is not a run" in e and "Validation episodes=" in e for e in errors), errors
    assert app.session_state[session.KEY].trainer is trained


def test_a_run_whose_seed_a_browser_cannot_hold_is_refused_not_shown_as_another(app, tmp_path):
    from metalearn_core.engine import Trainer, export_run_zip

    trained = app.session_state[session.KEY].trainer
    run = Trainer(state_config(app).replace(seed=2**60, val_every=0)).save(tmp_path / "seed")
    app.file_uploader(key=session.UPLOAD_KEY).set_value(
        ("seed.zip", export_run_zip(run), "application/zip")
    ).run()
    assert not app.exception
    errors = [e.value for e in app.error]
    assert any("seed=1152921504606846976 is larger than this page can show" in e for e in errors)
    assert app.session_state[session.KEY].trainer is trained
