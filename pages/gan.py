"""GAN Lab: watch a 2-D GAN learn, and a meta-learned GAN learn a new task from K examples.

Live mechanism: while playing, the end of the script runs a bounded loop of short
training ticks (about 80 ms each) and redraws after each: the counters through an
``st.empty()`` placeholder, the charts in place through ``studio_ui.live_chart``.
Any button press reruns the script, which stops the loop; the buttons' callbacks set
``st.session_state`` flags before the rerun starts, so Pause acts within one tick.
All state lives in this session's ``st.session_state`` under ``gan_`` keys, and every
random draw comes from the session's own generators (seeded by the Seed box).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import streamlit as st
import torch

from metalearn_core.docmath import update_rules
from metalearn_core.figures.gan import (
    coverage_figure,
    fewshot_points_figure,
    gan_lab_figure,
    image_grid_figure,
    loss_curves_figure,
    mode_counts_figure,
)
from metalearn_core.gan.fewshot import FewShotGAN, latent_walk
from metalearn_core.gan.fewshot_tasks import (
    ADAPT_LRS,
    DOMAIN_CONFIGS,
    ImageDomain,
    RingDomain,
    load_image_classes,
    score_table,
)
from metalearn_core.gan.losses import LOSS_TITLES, LOSSES, OBJECTIVES
from metalearn_core.gan.toy_data import TOY_DATASETS, make_toy_dataset
from metalearn_core.gan.toy_gan import (
    MAX_LEARNING_RATE,
    MAX_STEPS_PER_SIDE,
    PRESETS,
    ToyGAN,
    ToyGANConfig,
)
from studio_ui.formulas import formulas_expander
from studio_ui.live_chart import (
    CHART_CONFIG,
    STATIC_CHART_CONFIG,
    LiveChart,
    live_chart,
    show_figure,
)
from studio_ui.runtime import ensure_entrypoint

TICK_SECONDS = 0.08  # training per redraw while playing
DEFAULT_PLAY_TICKS = 1500  # a Play press runs at most this many ticks (about 2-3 minutes)
CURVES_EVERY = 5  # redraw the loss and coverage curves every this many ticks
VIEW_POINTS = 256
HEATMAP_RESOLUTION = 30
STRUCTURE = ("dataset", "loss", "pack", "batch_size", "seed")  # changing these starts over
LIVE = ("g_lr", "d_lr", "d_steps", "g_steps")  # changeable while training
FIELD_HEIGHT, CURVE_HEIGHT = 520, 260

# ----------------------------------------------------------------------------- state


def init_state() -> None:
    defaults = {
        "gan_model": None,
        "gan_playing": False,
        "gan_play_ticks": DEFAULT_PLAY_TICKS,
        "gan_message": None,
        "gan_fs_model": None,
        "gan_fs_models": {},
        "gan_fs_domain_name": None,
        "gan_fs_task_seed": 0,
        "gan_fs_trace": None,
        "gan_fs_trace_lrs": None,
    }
    for key, value in defaults.items():
        if key not in st.session_state:
            st.session_state[key] = value


def model() -> ToyGAN | None:
    return st.session_state["gan_model"]


def guarded(action) -> None:
    """Run a button's action; a bad setting becomes a message, never a stack trace."""
    try:
        action()
    except ValueError as error:
        st.session_state["gan_message"] = str(error)
        st.session_state["gan_playing"] = False


def step_discriminator() -> None:
    pause()  # a step is one update to look at: the loop must not run on past it
    guarded(lambda: model() and model().step_discriminator())


def step_generator() -> None:
    pause()
    guarded(lambda: model() and model().step_generator())


def step_both() -> None:
    pause()
    guarded(lambda: model() and model().step())


def play() -> None:
    st.session_state["gan_playing"] = True


def pause() -> None:
    st.session_state["gan_playing"] = False


def reset() -> None:
    st.session_state["gan_playing"] = False
    st.session_state["gan_model"] = None  # rebuilt from the settings on this rerun


def has_trained(gan: ToyGAN | None) -> bool:
    return gan is not None and (gan.steps > 0 or gan.d_updates > 0 or gan.g_updates > 0)


def apply_preset() -> None:
    config = PRESETS[st.session_state["gan_preset"]][1]
    for name in (*STRUCTURE, *LIVE):
        if name != "seed":
            st.session_state[f"gan_{name}"] = getattr(config, name)
    if not has_trained(model()):  # a trained GAN waits for "Start a new GAN"
        reset()


# ----------------------------------------------------------------------------- 2-D lab


def settings_ui() -> dict:
    """Widgets for the GAN's settings; returns the chosen values by config field."""
    defaults = PRESETS["pacgan"][1]
    for name in (*STRUCTURE, *LIVE):
        st.session_state.setdefault(f"gan_{name}", getattr(defaults, name))
    with st.expander("Settings", expanded=True):
        top = st.columns([2, 1])
        top[0].selectbox("Lesson preset", list(PRESETS), key="gan_preset",
                         format_func=lambda name: PRESETS[name][0])  # fmt: skip
        top[1].button("Load preset", on_click=apply_preset, key="gan_load_preset")
        data = st.columns(5)
        data[0].selectbox("Data", list(TOY_DATASETS), key="gan_dataset",
                          format_func=lambda name: make_toy_dataset(name).title)  # fmt: skip
        data[1].selectbox("Loss", LOSSES, key="gan_loss", format_func=LOSS_TITLES.get)
        data[2].number_input("Pack (m)", min_value=1, max_value=8, step=1, key="gan_pack",
                             help="PacGAN: the discriminator judges m samples at once")  # fmt: skip
        data[3].number_input("Batch", min_value=1, max_value=2048, step=16, key="gan_batch_size")
        data[4].number_input("Seed", min_value=0, step=1, key="gan_seed")
        live = st.columns(4)
        live[0].number_input("Generator lr", min_value=0.0, max_value=MAX_LEARNING_RATE,
                             step=1e-4, format="%.5f", key="gan_g_lr")  # fmt: skip
        live[1].number_input("Discriminator lr", min_value=0.0, max_value=MAX_LEARNING_RATE,
                             step=1e-4, format="%.5f", key="gan_d_lr")  # fmt: skip
        live[2].number_input("D steps per step", min_value=1, max_value=MAX_STEPS_PER_SIDE,
                             step=1, key="gan_d_steps")  # fmt: skip
        live[3].number_input("G steps per step", min_value=1, max_value=MAX_STEPS_PER_SIDE,
                             step=1, key="gan_g_steps")  # fmt: skip
        st.caption("Data, loss, pack, batch and seed make a new GAN (a trained one is kept "
                   "until you start the new one); learning rates and steps per side apply "
                   "at once, even while playing.")  # fmt: skip
    return {name: st.session_state[f"gan_{name}"] for name in (*STRUCTURE, *LIVE)}


def sync_model(values: dict) -> ToyGAN | None:
    """Build the GAN when the structure changed (or after Reset); apply live settings."""
    try:
        wanted = ToyGANConfig(**values)
    except (ValueError, TypeError) as error:
        st.error(f"Invalid setting: {error}", icon=":material/error:")
        st.session_state["gan_playing"] = False
        return None
    gan = model()
    changed = [n for n in STRUCTURE if gan and getattr(gan.config, n) != getattr(wanted, n)]
    if gan is None or (changed and not has_trained(gan)):
        gan = ToyGAN(wanted)
        st.session_state["gan_model"] = gan
        return gan
    if changed:  # never drop a trained GAN silently
        kept = ", ".join(f"{n.replace('_', ' ')} {getattr(gan.config, n)}" for n in changed)
        st.warning(
            f"The GAN below keeps its {gan.steps:,} steps and its own {kept}: the new "
            "settings make a new GAN.",
            icon=":material/info:",
        )
        st.button("Start a new GAN with these settings", on_click=reset, key="gan_new_run")
    gan.set_hyperparameters(**{n: getattr(wanted, n) for n in LIVE})
    return gan


def controls(gan: ToyGAN) -> None:
    columns = st.columns(5)
    disabled = gan.divergence is not None
    columns[0].button("Step D", on_click=step_discriminator, key="gan_step_d",
                      disabled=disabled, help="discriminator updates only")  # fmt: skip
    columns[1].button("Step G", on_click=step_generator, key="gan_step_g",
                      disabled=disabled, help="generator updates only")  # fmt: skip
    columns[2].button("Step both", on_click=step_both, key="gan_step_both", disabled=disabled)
    playing = st.session_state["gan_playing"]
    # One button whose label toggles: its fixed key keeps it in place in the browser (two
    # buttons would leave the old one on screen, greyed, while the loop runs).
    columns[3].button(
        "Pause" if playing else "Play",
        on_click=pause if playing else play,
        key="gan_play_pause",
        disabled=disabled and not playing,
        icon=":material/pause:" if playing else ":material/play_arrow:",
        type="secondary" if playing else "primary",
    )
    columns[4].button("Reset", on_click=reset, key="gan_reset", icon=":material/restart_alt:")


def view_options() -> dict[str, bool]:
    columns = st.columns(3)
    return {
        "heatmap": columns[0].checkbox("Discriminator heatmap", value=True, key="gan_show_heat"),
        "grid": columns[1].checkbox("Warped noise grid", value=True, key="gan_show_grid"),
        "arrows": columns[2].checkbox("Generator gradients", value=True, key="gan_show_arrows"),
    }


def draw_metrics(gan: ToyGAN) -> None:
    columns = st.columns(6)
    columns[0].metric("Steps", f"{gan.steps:,}")
    columns[1].metric("D loss", _fmt(gan.last_d_loss))
    columns[2].metric("G loss", _fmt(gan.last_g_loss))
    if gan.coverage_history:
        latest = gan.coverage_history[-1]
        columns[3].metric("Modes", f"{latest['modes']}/{len(gan.dataset.modes)}")
        columns[4].metric("High quality", f"{latest['high_quality']:.0%}")
        columns[5].metric("Reverse KL", f"{latest['reverse_kl']:.3f}")


def _fmt(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value:.3f}"


@dataclass(frozen=True)
class LabCharts:
    """The lab's charts, mounted once per script run and redrawn in place while playing."""

    field: LiveChart
    losses: LiveChart
    coverage: LiveChart | None


def mount_charts(gan: ToyGAN) -> LabCharts:
    field = live_chart("gan_field", height=FIELD_HEIGHT)
    left, right = st.columns(2)
    with left:
        losses = live_chart("gan_losses", height=CURVE_HEIGHT)
    coverage = None
    if gan.dataset.modes is not None:
        with right:
            coverage = live_chart("gan_coverage", height=CURVE_HEIGHT)
    return LabCharts(field, losses, coverage)


def draw_field(gan: ToyGAN, options: dict[str, bool], chart: LiveChart, config: dict) -> None:
    real = gan.dataset.sample(VIEW_POINTS, torch.Generator().manual_seed(gan.config.seed + 5))
    heat_label = "P(real)" if gan.config.loss == "nonsaturating" else "score"
    figure = gan_lab_figure(
        real,
        gan.sample(VIEW_POINTS),
        extent=gan.dataset.extent,
        heatmap=gan.discriminator_map(HEATMAP_RESOLUTION) if options["heatmap"] else None,
        heatmap_label=heat_label,
        grid_lines=gan.warped_noise_grid()
        if options["grid"] and gan.config.noise_dim >= 2
        else None,
        arrows=_arrows(gan) if options["arrows"] else None,
        modes=gan.dataset.modes,
        height=FIELD_HEIGHT,
    )
    show_figure(chart, figure, config=config)


def _arrows(gan: ToyGAN):
    field = gan.generator_gradients(64)
    return field.points, field.directions


def draw_curves(gan: ToyGAN, charts: LabCharts, config: dict) -> None:
    losses = loss_curves_figure(list(gan.history), height=CURVE_HEIGHT)
    show_figure(charts.losses, losses, config=config)
    if charts.coverage is not None:
        coverage = coverage_figure(
            list(gan.coverage_history), len(gan.dataset.modes), height=CURVE_HEIGHT
        )
        show_figure(charts.coverage, coverage, config=config)


def lab_section() -> None:
    st.markdown(
        "Real points (green) and generated points (purple) over the discriminator's "
        "verdict. Lines: the generator's image of a square grid of noise. Orange arrows: "
        "where the generator's next update pushes each generated point."
    )
    values = settings_ui()
    gan = sync_model(values)
    message = st.session_state.pop("gan_message", None)
    if message:
        st.error(message, icon=":material/error:")
    if gan is None:
        return
    if gan.divergence:
        st.warning(gan.divergence, icon=":material/warning:")
    loss = gan.config.loss  # its two objectives, from the core's docstring
    formulas_expander(f"What the two networks minimise: {LOSS_TITLES[loss]}", [OBJECTIVES[loss]])
    controls(gan)
    options = view_options()
    metrics_slot = st.empty()
    charts = mount_charts(gan)
    _redraw_all(gan, options, metrics_slot, charts, 0)
    if gan.dataset.modes is not None and gan.steps > 0:
        with st.expander("Samples per mode (the reverse-KL picture)"):
            coverage = gan.evaluate()
            st.plotly_chart(mode_counts_figure(coverage.counts, coverage.high_quality_counts),
                            key="gan_mode_counts", config=CHART_CONFIG)  # fmt: skip
    play_loop(gan, options, metrics_slot, charts)


def _redraw_all(gan, options, metrics_slot, charts: LabCharts, redraw: int) -> None:
    """Redraw after tick ``redraw`` (0: not playing; interactive charts then)."""
    config = STATIC_CHART_CONFIG if redraw else CHART_CONFIG
    with metrics_slot.container():
        draw_metrics(gan)
    draw_field(gan, options, charts.field, config)
    if redraw % CURVES_EVERY == 0:
        draw_curves(gan, charts, config)


def play_loop(gan, options, metrics_slot, charts: LabCharts) -> None:
    """Train in short ticks while playing; a rerun (any press) ends this loop early."""
    if not st.session_state["gan_playing"]:
        return
    for tick in range(1, int(st.session_state["gan_play_ticks"]) + 1):
        gan.train(10**9, max_seconds=TICK_SECONDS)
        _redraw_all(gan, options, metrics_slot, charts, tick)
        if gan.divergence is not None:
            break
    st.session_state["gan_playing"] = False
    st.rerun()


# ----------------------------------------------------------------------------- few-shot


@st.cache_resource(show_spinner="Loading images and training the judging classifier…")
def image_domain(name: str, k_shot: int) -> ImageDomain:
    # Shared read-only across sessions: the class images and the judging classifier.
    return ImageDomain(load_image_classes(name), k_shot)


def fewshot_domain(name: str):
    config = DOMAIN_CONFIGS[name]
    return RingDomain(config.k_shot) if name == "rings" else image_domain(name, config.k_shot)


def fewshot_model(name: str, seed: int, domain) -> FewShotGAN:
    """This session's few-shot GAN for a task set and seed: one per pair, so switching
    to another and back keeps what was meta-trained (untrained ones are not kept)."""
    models: dict[tuple[str, int], FewShotGAN] = st.session_state["gan_fs_models"]
    fs = models.get((name, seed))
    if fs is None:
        for key in [key for key, other in models.items() if other.iteration == 0]:
            del models[key]
        fs = models[(name, seed)] = FewShotGAN(
            DOMAIN_CONFIGS[name].replace(seed=seed), domain.draw_task
        )
    if st.session_state["gan_fs_model"] is not fs:
        st.session_state.update(gan_fs_model=fs, gan_fs_domain_name=name, gan_fs_trace=None)
    return fs


def fewshot_section() -> None:
    st.markdown(
        "Reptile over GAN tasks (FIGR): meta-train a generator and discriminator on many "
        "tasks, then adapt both on **K examples** of an unseen task. Left: the meta-learned "
        "start; right: the same GAN from scratch, after the same number of steps."
    )
    formulas_expander("How the few-shot GAN meta-learns: the update rule", update_rules(FewShotGAN))
    columns = st.columns([2, 1, 1])
    name = columns[0].radio("Tasks", list(DOMAIN_CONFIGS), horizontal=True,
                            key="gan_fs_domain")  # fmt: skip
    iterations = columns[1].number_input("Meta-iterations per press", min_value=1,
                                         max_value=2000, value=50, key="gan_fs_iterations")  # fmt: skip
    seed = columns[2].number_input("Seed", min_value=0, value=0, step=1, key="gan_fs_seed",
                                   help="Each task set and seed keeps its own meta-trained "
                                   "GAN in this session: switch, and come back to it")  # fmt: skip
    try:
        domain = fewshot_domain(name)
    except (ValueError, FileNotFoundError, ImportError) as error:
        st.error(f"Cannot load {name}: {error}", icon=":material/error:")
        return
    fs = fewshot_model(name, int(seed), domain)
    buttons = st.columns(3)
    if buttons[0].button("Meta-train", key="gan_fs_train", type="primary"):
        progress = st.progress(0.0, text="meta-training…")
        for done in range(int(iterations)):
            if not fs.meta_train_step():
                break
            progress.progress((done + 1) / iterations, text=f"iteration {fs.iteration}")
        st.session_state["gan_fs_trace"] = None
    if buttons[1].button("New unseen task", key="gan_fs_new_task"):
        st.session_state["gan_fs_task_seed"] += 1
        st.session_state["gan_fs_trace"] = None
    buttons[2].metric("Meta-iterations", fs.iteration)
    if fs.divergence:
        st.warning(fs.divergence, icon=":material/warning:")
    task = domain.held_out_tasks(1, seed=10_000 + st.session_state["gan_fs_task_seed"])[0]
    lr_columns = st.columns(2)
    lrs = sorted({fs.config.inner_lr, *ADAPT_LRS})
    meta_lr = lr_columns[0].select_slider("Adaptation learning rate, meta-learned", lrs,
                                          value=fs.config.inner_lr, key="gan_fs_meta_lr")  # fmt: skip
    scratch_lr = lr_columns[1].select_slider("Adaptation learning rate, from scratch", lrs,
                                             value=fs.config.inner_lr, key="gan_fs_scratch_lr")  # fmt: skip
    traces = st.session_state["gan_fs_trace"]
    if traces is None or st.session_state["gan_fs_trace_lrs"] != (meta_lr, scratch_lr):
        noise = fs.view_noise(256 if name == "rings" else 12, seed=1)
        traces = {
            "meta-learned start": fs.adapt(task.examples, view_noise=noise, seed=0, lr=meta_lr),
            "from scratch": fs.adapt(task.examples, view_noise=noise, seed=0, lr=scratch_lr,
                                     from_scratch=True),
        }  # fmt: skip
        st.session_state.update(gan_fs_trace=traces, gan_fs_trace_lrs=(meta_lr, scratch_lr))
    steps = fs.config.adapt_steps
    shown = st.slider("After adaptation step", 0, steps, steps, key="gan_fs_step")
    st.caption(f"Unseen task: {task.name}, K = {fs.config.k_shot} examples, {steps} GAN steps.")
    if name == "rings":
        panels = {title: trace.snapshots[shown] for title, trace in traces.items()}
        st.plotly_chart(fewshot_points_figure(task.examples, panels, modes=task.ring.modes),
                        key="gan_fs_points", config=CHART_CONFIG)  # fmt: skip
    else:
        side = domain.classes.side
        for title, trace in traces.items():
            strip = torch.stack(trace.snapshots[:: max(1, steps // 5)])[:, :8]  # (steps, 8, D)
            st.plotly_chart(
                image_grid_figure(strip.reshape(-1, side, side), 8, title=f"{title}: rows = steps",
                                  cell_pixels=36),
                key=f"gan_fs_grid_{title}", config=CHART_CONFIG,
            )  # fmt: skip
        st.plotly_chart(image_grid_figure(task.examples.reshape(-1, side, side), 10,
                                          title="The K examples", cell_pixels=36),
                        key="gan_fs_examples", config=CHART_CONFIG)  # fmt: skip
        walk_noise = fs.view_noise(2, seed=st.session_state["gan_fs_task_seed"] + 3)
        walk = latent_walk(traces["meta-learned start"].pair.generator, walk_noise[0],
                           walk_noise[1], steps=10)  # fmt: skip
        st.plotly_chart(image_grid_figure(walk.reshape(-1, side, side), 10,
                                          title="Latent walk (meta-learned, adapted)",
                                          cell_pixels=36),
                        key="gan_fs_walk", config=CHART_CONFIG)  # fmt: skip
    scores = {}
    sample_noise = fs.view_noise(domain.sample_count(), seed=2)
    for title, trace in traces.items():
        with torch.no_grad():
            scores[title] = domain.score(trace.pair.generator(sample_noise), task)
    number = st.column_config.NumberColumn(format="%.3f")
    st.dataframe(score_table(scores), key="gan_fs_scores", hide_index=True,
                 column_config={title: number for title in [*scores, "real images"]})  # fmt: skip


# ----------------------------------------------------------------------------- page

ensure_entrypoint()  # a first visit straight to /gan still goes through app.py
init_state()
st.title("GAN Lab")
section = st.radio("Section", ["2-D GAN", "Few-shot GAN"], horizontal=True,
                   key="gan_section", label_visibility="collapsed")  # fmt: skip
if section == "2-D GAN":
    lab_section()
else:
    fewshot_section()
