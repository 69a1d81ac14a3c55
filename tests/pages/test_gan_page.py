"""GAN Lab page (the 2-D GAN) through Streamlit's AppTest: step buttons, Play/Pause,
Reset, bad input, live settings, presets. Networks are the page's defaults (small MLPs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from studio_ui.gan_session import LAB_KEY, PAGE_MAX_SEED
from studio_ui.live_chart import shown_figures, trace_values
from studio_ui.serving import REPO_ROOT

GAN_PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "gan.py")


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(GAN_PAGE, default_timeout=120)
    app.session_state["gan_batch_size"] = 32  # small steps keep every test fast
    return app.run()


def lab(at: AppTest):
    return at.session_state[LAB_KEY]


def metric(at: AppTest, label: str) -> str:
    for element in at.metric:
        if element.label == label:
            return element.value
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


def test_page_opens_on_an_untrained_gan(at):
    assert not at.exception
    assert metric(at, "Steps") == "0"
    assert lab(at).model.config.pack == 2


def test_the_lab_draws_real_and_generated_points_and_the_curves(at):
    at.button(key="gan_step_d").click().run()
    charts = shown_figures(at)
    assert {"gan_field", "gan_losses"} <= set(charts)
    field = charts["gan_field"]["figure"]["data"]
    counts = {trace.get("name"): len(trace_values(trace, "x")) for trace in field}
    assert counts.get("real", 0) > 0 and counts.get("generated", 0) > 0, counts
    losses = charts["gan_losses"]["figure"]["data"]
    discriminator = [t for t in losses if t.get("name") == "discriminator"]
    assert len(trace_values(discriminator[0], "y")) == 1, "one step, one loss point"


def test_step_buttons_advance_the_counters(at):
    at.button(key="gan_step_d").click().run()
    gan = lab(at).model
    assert (gan.d_updates, gan.g_updates) == (1, 0)
    at.button(key="gan_step_g").click().run()
    assert (gan.d_updates, gan.g_updates) == (1, 1)
    at.button(key="gan_step_both").click().run()
    assert (gan.d_updates, gan.g_updates) == (2, 2)
    assert metric(at, "Steps") == "3"
    assert metric(at, "D loss") != "–"


def test_reset_clears_the_run(at):
    at.button(key="gan_step_both").click().run()
    at.button(key="gan_step_both").click().run()
    at.button(key="gan_reset").click().run()
    assert lab(at).model.steps == 0
    assert metric(at, "Steps") == "0"


def test_play_runs_a_bounded_loop_then_pause_state_returns(at):
    lab(at).play_ticks = 2
    at.button(key="gan_play_pause").click().run()
    assert lab(at).model.steps >= 2
    assert lab(at).playing is False  # the loop ended and reran the page
    assert at.button(key="gan_play_pause").label == "Play"  # offered again


def test_a_press_while_playing_stops_the_loop_before_it_trains():
    at = AppTest.from_file(GAN_PAGE, default_timeout=120)
    at.session_state["gan_batch_size"] = 32
    at.run()
    lab(at).playing = True
    lab(at).play_ticks = 10_000  # would run for minutes if not stopped
    # Reset's callback clears the playing flag before the rerun reaches the loop.
    at.button(key="gan_reset").click().run()
    assert lab(at).playing is False
    assert lab(at).model.steps == 0


def test_learning_rates_change_without_restarting(at):
    at.button(key="gan_step_both").click().run()
    gan = lab(at).model
    at.number_input(key="gan_d_lr").set_value(0.0002).run()
    assert lab(at).model is gan
    assert gan.d_optimizer.param_groups[0]["lr"] == pytest.approx(0.0002)
    assert gan.steps == 1


def test_bad_input_shows_an_error_not_a_trace(at):
    at.number_input(key="gan_pack").set_value(3).run()  # 32 is not a multiple of 3
    assert not at.exception
    assert "multiple of pack 3" in at.error[0].value
    at.number_input(key="gan_pack").set_value(2).run()
    at.number_input(key="gan_g_lr").set_value(0.0).run()
    assert "g_lr must be in" in at.error[0].value


def test_presets_load_the_mode_collapse_lesson(at):
    at.selectbox(key="gan_preset").set_value("mode_collapse").run()
    at.button(key="gan_load_preset").click().run()
    gan = lab(at).model
    assert (gan.config.pack, gan.config.g_steps) == (1, 5)


def test_the_objective_panel_shows_the_chosen_loss(at):
    def panel():
        return next(e for e in at.expander if e.label.startswith("What the two networks"))

    assert panel().label == "What the two networks minimise: Non-saturating"
    assert "\\log \\sigma(s(x))" in panel().latex[0].value
    at.selectbox(key="gan_loss").set_value("wgan_gp").run()
    assert panel().label.endswith("Wasserstein + gradient penalty")
    assert "\\nabla_{\\hat x} s(\\hat x)" in panel().latex[0].value


def test_a_trained_gan_is_kept_until_a_new_one_is_asked_for(at):
    at.button(key="gan_step_both").click().run()
    at.button(key="gan_step_both").click().run()
    trained = lab(at).model
    at.number_input(key="gan_seed").set_value(7).run()
    assert lab(at).model is trained and metric(at, "Steps") == "2"
    assert any("keeps its 2 steps and its own seed 0" in w.value for w in at.warning)
    at.selectbox(key="gan_preset").set_value("mode_collapse").run()
    at.button(key="gan_load_preset").click().run()  # a preset too asks first
    assert lab(at).model is trained
    at.button(key="gan_new_run").click().run()
    fresh = lab(at).model
    assert fresh is not trained and fresh.steps == 0
    assert (fresh.config.seed, fresh.config.pack) == (7, 1) and not at.warning


def test_a_step_pressed_while_playing_pauses_then_steps_once():
    at = AppTest.from_file(GAN_PAGE, default_timeout=120)
    at.session_state["gan_batch_size"] = 32
    at.run()
    lab(at).playing = True
    lab(at).play_ticks = 10_000  # minutes of playing, unless paused
    at.button(key="gan_step_d").click().run()
    gan = lab(at).model
    assert lab(at).playing is False
    assert (gan.d_updates, gan.g_updates) == (1, 0)


def test_the_page_is_the_2d_gan_alone_and_points_to_the_few_shot_page(at):
    assert at.title[0].value == "GAN Lab"
    assert "**Few-shot GAN** page" in at.markdown[0].value
    assert not [radio for radio in at.radio if radio.key == "gan_section"]


def test_every_number_box_has_a_limit_and_a_value_past_it_changes_nothing(at):
    limits = {box.key: box.max for box in at.number_input}
    assert None not in limits.values(), limits
    assert limits["gan_seed"] == PAGE_MAX_SEED and limits["gan_batch_size"] == 2048
    at.button(key="gan_step_both").click().run()
    trained = lab(at).model
    at.number_input(key="gan_seed").set_value(10**20).run()  # as a hostile browser might
    assert not at.exception and not at.error and not at.warning
    assert lab(at).model is trained and trained.config.seed == 0 and metric(at, "Steps") == "1"


def test_an_unexpected_failure_in_a_step_is_a_message_and_the_page_lives_on(at):
    gan = lab(at).model

    def broken_step():
        raise RuntimeError("simulated fault")

    gan.step = broken_step
    at.button(key="gan_step_both").click().run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert "The step failed unexpectedly (RuntimeError)" in error
    assert "simulated fault" not in error  # an unexpected error's text stays in the log
    assert lab(at).model is gan and metric(at, "Steps") == "0"
    at.button(key="gan_step_d").click().run()  # other buttons still work
    assert gan.d_updates == 1 and not at.error


def test_leaving_while_playing_comes_back_paused():
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120).run()
    app.switch_page("pages/gan.py").run()
    app.button(key="gan_step_both").click().run()
    gan = lab(app).model
    lab(app).playing = True  # as if Play had been pressed
    app.switch_page("pages/fewshot_gan.py").run()
    # AppTest runs page scripts without app.py, which counts the session's runs in a real
    # server: count the few-shot run and the coming lab run as it would.
    app.session_state["app_runs"] = app.session_state["app_runs"] + 2
    lab(app).play_ticks = 10_000  # minutes, if it played on
    app.switch_page("pages/gan.py").run()
    assert not app.exception
    assert lab(app).playing is False and lab(app).model is gan and gan.steps == 1
