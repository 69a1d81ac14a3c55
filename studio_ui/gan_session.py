"""The GAN pages' state: one object per page, under one session-state key each.

``LabSession`` (the 2-D GAN page) and ``FewShotSession`` (the few-shot GAN page) hold
the models, Play's flag and the action a button asked for. A button's callback calls a
method, which only records the request (``StepAction``, ``MetaTrainAction``); the page
script runs it after the settings are read, inside ``reported_errors``: the one place
where an exception becomes a message on the page and the session's model stays as it was.
Every random draw comes from the models' own generators, seeded by the pages' Seed boxes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import streamlit as st

from metalearn_core.figures.gan import GanWords
from metalearn_core.gan.fewshot import FewShotGAN
from metalearn_core.gan.fewshot_tasks import (
    ADAPT_LRS,
    DOMAIN_CONFIGS,
    ImageDomain,
    RingDomain,
    TaskComparison,
    compare_on_task,
    unseen_task,
)
from metalearn_core.gan.losses import LOSS_TITLES, LOSSES
from metalearn_core.gan.toy_data import TOY_DATASETS, make_toy_dataset
from metalearn_core.gan.toy_gan import (
    MAX_LEARNING_RATE,
    MAX_STEPS_PER_SIDE,
    PRESETS,
    ToyGAN,
    ToyGANConfig,
)
from metalearn_core.settings import SettingInfo
from studio_ui.classroom import check_runs_budget
from studio_ui.errors import describe_error
from studio_ui.i18n import N_, _, translated_words
from studio_ui.links import PageParams, Param, Values, register_page
from studio_ui.sessions import track_run

log = logging.getLogger("metalearn_studio.gan")

LAB_KEY = "gan_session"
FEWSHOT_KEY = "fewshot_gan_session"
LAB_PREFIX = "gan_"  # the 2-D page's widget keys: gan_<config field>
STRUCTURE = ("dataset", "loss", "pack", "batch_size", "seed")  # changing these starts over
LIVE = ("g_lr", "d_lr", "d_steps", "g_steps")  # changeable while training
# How a kept structure setting is named in the page's note (translated where shown)
STRUCTURE_NAMES = {
    "dataset": N_("data"),
    "loss": N_("loss"),
    "pack": N_("pack"),
    "batch_size": N_("batch size"),
    "seed": N_("seed"),
}
DEFAULT_PLAY_TICKS = 1500  # a Play press runs at most this many ticks (about 2-3 minutes)
PAGE_MAX_SEED = 2**31 - 1  # the Seed boxes' limit, as on the Train page
MAX_PRESS_ITERATIONS = 2000  # meta-iterations one Meta-train press may ask for
MAX_KEPT_FEWSHOT = 6  # meta-trained few-shot GANs one session keeps (one per task set and seed)
PAGE_MAX_BATCH = 2048  # the Batch box's limit (the core allows more, for the command line)
LAB_PAGE, FEWSHOT_PAGE = "gan", "fewshot_gan"
FEWSHOT_PREFIX = "fewshot_gan_"
SHARE = "share"  # hide=share takes a page's link box away


# ----------------------------------------------------------------------------- settings


def _number(name: str, kind: type, label: str, low: float, high: float, *, help: str = "",
            step: float | None = None, above: float | None = None) -> SettingInfo:  # fmt: skip
    return SettingInfo(name, kind, False, help, label, low=low, high=high, above=above,
                       step=step)  # fmt: skip


def _flag(name: str, label: str) -> SettingInfo:
    return SettingInfo(name, bool, False, "", label)


def _choice(name: str, label: str) -> SettingInfo:
    return SettingInfo(name, str, False, "", label)


def toy_dataset_title(name: str) -> str:
    return make_toy_dataset(name).title


PAGE_DEFAULTS = PRESETS["pacgan"][1]  # the lab opens on PacGAN's ring
LAB_SETTINGS = {
    "dataset": _choice("dataset", N_("Data")),
    "loss": _choice("loss", N_("Loss")),
    "pack": _number("pack", int, N_("Pack (m)"), 1, 8,
                    help=N_("PacGAN: the discriminator judges m samples at once")),
    "batch_size": _number("batch_size", int, N_("Batch"), 1, PAGE_MAX_BATCH, step=16),
    "seed": _number("seed", int, N_("Seed"), 0, PAGE_MAX_SEED),
    "g_lr": _number("g_lr", float, N_("Generator lr"), 0.0, MAX_LEARNING_RATE, step=1e-4,
                    above=0.0),
    "d_lr": _number("d_lr", float, N_("Discriminator lr"), 0.0, MAX_LEARNING_RATE, step=1e-4,
                    above=0.0),
    "d_steps": _number("d_steps", int, N_("D steps per step"), 1, MAX_STEPS_PER_SIDE),
    "g_steps": _number("g_steps", int, N_("G steps per step"), 1, MAX_STEPS_PER_SIDE),
}  # fmt: skip
VIEW_OPTIONS = {
    "show_heat": N_("Discriminator heatmap"),
    "show_grid": N_("Warped noise grid"),
    "show_arrows": N_("Generator gradients"),
}


def _lab_param(name: str) -> Param:
    info = LAB_SETTINGS[name]
    options = {"dataset": lambda values: list(TOY_DATASETS), "loss": lambda values: LOSSES}
    labels = {"dataset": toy_dataset_title, "loss": LOSS_TITLES.__getitem__}
    return Param(
        LAB_PREFIX + name,
        default=lambda values: getattr(PAGE_DEFAULTS, name),
        # the lab's widgets allow a learning rate of 0 (the GAN refuses it with a message)
        info=info,
        options=options.get(name),
        label=labels.get(name, str),
    )


def lab_params() -> PageParams:
    """The 2-D GAN page's settings, in the order drawn."""
    params = [_lab_param(name) for name in (*STRUCTURE, *LIVE)]
    params += [
        Param(LAB_PREFIX + name, default=lambda values: True, info=_flag(name, label))
        for name, label in VIEW_OPTIONS.items()
    ]
    return PageParams(LAB_PAGE, tuple(params), {"preset": (), SHARE: ()}, prefix=LAB_PREFIX)


def _rates(values: Values) -> list[float]:
    config = DOMAIN_CONFIGS[values[FEWSHOT_PREFIX + "domain"]]
    return sorted({config.inner_lr, *ADAPT_LRS})


def fewshot_params() -> PageParams:
    """The few-shot GAN page's settings, in the order drawn."""
    domain = FEWSHOT_PREFIX + "domain"
    params = [
        Param(domain, default=lambda values: next(iter(DOMAIN_CONFIGS)),
              info=_choice("domain", N_("Tasks")), options=lambda values: list(DOMAIN_CONFIGS)),
        Param(FEWSHOT_PREFIX + "iterations", default=lambda values: 50,
              info=_number("iterations", int, N_("Meta-iterations per press"), 1,
                           MAX_PRESS_ITERATIONS)),
        Param(FEWSHOT_PREFIX + "seed", default=lambda values: 0,
              info=_number("seed", int, N_("Seed"), 0, PAGE_MAX_SEED,
                           help=N_("Each task set and seed keeps its own meta-trained GAN in "
                                   "this session: switch, and come back to it"))),
        Param(FEWSHOT_PREFIX + "meta_lr", default=lambda v: DOMAIN_CONFIGS[v[domain]].inner_lr,
              info=_choice("meta_lr", N_("Adaptation learning rate, meta-learned")),
              options=_rates),
        Param(FEWSHOT_PREFIX + "scratch_lr",
              default=lambda v: DOMAIN_CONFIGS[v[domain]].inner_lr,
              info=_choice("scratch_lr", N_("Adaptation learning rate, from scratch")),
              options=_rates),
        Param(FEWSHOT_PREFIX + "step", default=lambda v: DOMAIN_CONFIGS[v[domain]].adapt_steps,
              info=_choice("step", N_("After adaptation step")),
              options=lambda v: list(range(DOMAIN_CONFIGS[v[domain]].adapt_steps + 1))),
    ]  # fmt: skip
    return PageParams(FEWSHOT_PAGE, tuple(params), {SHARE: ()}, prefix=FEWSHOT_PREFIX)


register_page(LAB_PAGE, lab_params)
register_page(FEWSHOT_PAGE, fewshot_params)

Side = Literal["discriminator", "generator", "both"]


@dataclass(frozen=True)
class StepAction:
    """Update one side of the 2-D GAN once (``d_steps`` / ``g_steps`` times), or both."""

    side: Side


@dataclass(frozen=True)
class MetaTrainAction:
    """Run this many Reptile iterations of the current few-shot GAN."""

    iterations: int


@contextmanager
def reported_errors(what: str, on_error: Callable[[], None] | None = None) -> Iterator[None]:
    """Show an exception raised in the block as a message on the page, never a traceback.

    ``what`` is shown as it is: the page passes it translated.
    Bad input (``ValueError``, ``FileNotFoundError``) shows its own message, which names
    the value and the limit; anything else is logged with its traceback and shown by its
    type alone (its text may name the server's files, as the server's config also keeps
    error details to the type).
    ``on_error`` runs after either (e.g. pause Play). Streamlit's own rerun and stop
    signals are not exceptions of this kind and pass through.
    """
    try:
        yield
    except (ValueError, FileNotFoundError) as error:
        st.error(
            _("{what}: {error}").format(what=what, error=describe_error(error)),
            icon=":material/error:",
        )
        if on_error is not None:
            on_error()
    except Exception as error:  # the page and the other students' sessions live on
        log.exception("%s failed", what)
        st.error(
            _(
                "{what} failed unexpectedly ({error}). What you had is kept; the server log "
                "has the details."
            ).format(what=what, error=type(error).__name__),
            icon=":material/error:",
        )
        if on_error is not None:
            on_error()


class LabSession:
    """The 2-D GAN page: its GAN, Play's state and the step a button asked for."""

    def __init__(self) -> None:
        self.model: ToyGAN | None = None
        self.playing = False
        self.play_ticks = DEFAULT_PLAY_TICKS
        self.pending: StepAction | None = None
        self.seen_run: int | None = None  # app.py's run count at this page's last run

    @classmethod
    def of(cls, state: MutableMapping[str, Any]) -> LabSession:
        """This browser session's lab, created on its first visit.

        A student who left while it played comes back to it paused: leaving ended the
        loop, and it should not start again by itself (app.py counts the session's runs;
        a jump of more than one means another page ran in between).
        """
        if LAB_KEY not in state:
            state[LAB_KEY] = cls()
        session = state[LAB_KEY]
        runs = state.get("app_runs")
        if runs is not None and session.seen_run is not None and runs - session.seen_run > 1:
            session.pause()
        session.seen_run = runs
        return session

    # ---- button callbacks -------------------------------------------------------------

    def step(self, side: Side) -> None:
        """A step is one update to look at: Play stops, then the step is taken."""
        self.playing = False
        self.pending = StepAction(side)

    def play(self) -> None:
        self.playing = True

    def pause(self) -> None:
        self.playing = False

    def reset(self) -> None:
        """Drop the GAN; the page builds a fresh one from its settings."""
        self.playing = False
        self.pending = None
        self.model = None

    def load_preset(self, name: str, widgets: MutableMapping[str, Any]) -> None:
        """Put preset ``name``'s settings (all but the seed) into the page's widgets.

        An untrained GAN is replaced at once; a trained one stays until the student
        starts the new one (``sync`` reports what differs).
        """
        config = PRESETS[name][1]
        for field in (*STRUCTURE, *LIVE):
            if field != "seed":
                widgets[LAB_PREFIX + field] = getattr(config, field)
        if not self.has_trained():
            self.reset()

    # ---- the page script ----------------------------------------------------------------

    def has_trained(self) -> bool:
        gan = self.model
        return gan is not None and (gan.steps > 0 or gan.d_updates > 0 or gan.g_updates > 0)

    def sync(self, wanted: ToyGANConfig) -> list[str]:
        """Make the GAN follow the settings ``wanted``.

        Builds it when there is none, or when its structure changed and it has not
        trained yet; applies the live settings (learning rates, steps per side) at once.
        Returns:
            The structure settings a trained GAN keeps although ``wanted`` differs, as
            ``"<name> <its value>"`` (empty when none): it is never dropped silently.
        """
        gan = self.model
        changed = [n for n in STRUCTURE if gan and getattr(gan.config, n) != getattr(wanted, n)]
        if gan is None or (changed and not self.has_trained()):
            check_runs_budget("gan", 1)
            self.model = track_run(ToyGAN(wanted))
            return []
        gan.set_hyperparameters(**{n: getattr(wanted, n) for n in LIVE})
        return [f"{_(STRUCTURE_NAMES[n])} {getattr(gan.config, n)}" for n in changed]

    def run_pending(self) -> None:
        """Take the step a button asked for (once), if any."""
        action, self.pending = self.pending, None
        if action is None or self.model is None:
            return
        gan = self.model
        take = {"discriminator": gan.step_discriminator, "generator": gan.step_generator,
                "both": gan.step}[action.side]  # fmt: skip
        take()


class FewShotSession:
    """The few-shot GAN page: a meta-trained GAN per task set and seed, the unseen task
    shown, and the comparison drawn for it (recomputed only when something it depends on
    changes)."""

    def __init__(self) -> None:
        self.models: dict[tuple[str, int], FewShotGAN] = {}  # least recently chosen first
        self.current: tuple[str, int] | None = None
        self.task_number = 0
        self.pending: MetaTrainAction | None = None
        self.notice: str | None = None  # said once, on the next run of the page
        self._comparison: tuple[tuple, TaskComparison] | None = None

    @classmethod
    def of(cls, state: MutableMapping[str, Any]) -> FewShotSession:
        if FEWSHOT_KEY not in state:
            state[FEWSHOT_KEY] = cls()
        return state[FEWSHOT_KEY]

    @property
    def model(self) -> FewShotGAN | None:
        return self.models.get(self.current) if self.current else None

    # ---- button callbacks -------------------------------------------------------------

    def meta_train(self, iterations: int) -> None:
        self.pending = MetaTrainAction(iterations)  # checked when run, where errors show

    def new_task(self) -> None:
        self.task_number += 1

    # ---- the page script ----------------------------------------------------------------

    def select(self, name: str, seed: int, domain: RingDomain | ImageDomain) -> FewShotGAN:
        """The few-shot GAN of task set ``name`` and ``seed``: the one meta-trained before
        in this session if any (so switching away and back keeps it), else a new one.

        Untrained GANs are not kept; of the trained ones the session keeps the
        ``MAX_KEPT_FEWSHOT`` chosen last, and says which one it let go.
        """
        key = (name, seed)
        fs = self.models.pop(key, None)
        for other in [k for k, m in self.models.items() if m.iteration == 0]:
            del self.models[other]
        if fs is None:
            check_runs_budget("fewshot_gan", 1)
            fs = track_run(FewShotGAN(DOMAIN_CONFIGS[name].replace(seed=seed), domain.draw_task))
        self.models[key] = fs  # the most recently chosen goes last
        self.current = key
        self._limit_kept()
        return fs

    def _limit_kept(self) -> None:
        """Let the least recently chosen trained GANs go, past ``MAX_KEPT_FEWSHOT``."""
        trained = [key for key, model in self.models.items() if model.iteration > 0]
        while len(trained) > MAX_KEPT_FEWSHOT:  # the current one is the last chosen: kept
            name, seed = trained.pop(0)
            dropped = self.models.pop((name, seed))
            self.notice = _(
                "This session keeps {most} meta-trained GANs: the one for {name}, seed "
                "{seed} ({iterations} meta-iterations) was let go."
            ).format(most=MAX_KEPT_FEWSHOT, name=name, seed=seed, iterations=dropped.iteration)

    def run_pending(self, progress: Callable[[int, int], None], turns: Any = None) -> None:
        """Run the meta-training a button asked for; ``progress(done, total)`` after each
        iteration. Stops early if meta-training diverges. ``turns`` (a
        ``training_slots.TrainerTurns``) holds one of the server's trainers for each
        iteration: the press waits in line like a Play loop, and takes turns with it."""
        action, self.pending = self.pending, None
        fs = self.model
        if action is None or fs is None:
            return
        if not 1 <= action.iterations <= MAX_PRESS_ITERATIONS:
            raise ValueError(
                _("meta-iterations per press must be between 1 and {most}, got {count}").format(
                    most=MAX_PRESS_ITERATIONS, count=action.iterations
                )
            )
        for done in range(1, action.iterations + 1):
            if turns is not None and not turns.wait():
                break
            if not fs.meta_train_step():
                break
            progress(done, action.iterations)
            if turns is not None:
                turns.done()
        self._limit_kept()

    @property
    def shown(self) -> TaskComparison | None:
        """The comparison drawn last (None before the first)."""
        return None if self._comparison is None else self._comparison[1]

    def comparison(
        self, domain: RingDomain | ImageDomain, meta_lr: float, scratch_lr: float
    ) -> TaskComparison:
        """Both starts adapted on the current unseen task and scored (cached)."""
        fs = self.model
        if fs is None:
            raise ValueError(_("choose a task set first"))
        key = (self.current, fs.iteration, self.task_number, meta_lr, scratch_lr)
        if self._comparison is None or self._comparison[0] != key:
            task = unseen_task(domain, self.task_number)
            result = compare_on_task(fs, domain, task, meta_lr=meta_lr, scratch_lr=scratch_lr)
            self._comparison = (key, result)
        return self._comparison[1]


def gan_labels() -> GanWords:
    """The GAN figures' words in the session's language."""
    return translated_words(GanWords())
