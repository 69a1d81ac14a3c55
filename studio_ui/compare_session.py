"""The Compare page's settings, per-session state and the actions its buttons trigger.

Each browser session holds its own ``Comparison`` (a ``Trainer`` per learner) in
``st.session_state``; the data splits come from the shared read-only cache. Every size a
student can choose has a limit here, below the core's (a classroom shares one server).

Session keys (all prefixed ``compare_``): ``compare_comparison`` (the Comparison or None),
``compare_built_from`` (the settings it was built from), ``compare_playing``,
``compare_lock`` (held while training or scoring), ``compare_result`` (a scored or opened
comparison's results) and ``compare_result_from`` (where they came from),
``compare_message`` (shown once), ``compare_score`` (a Score press waiting),
``compare_inspect_seed``.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import streamlit as st

from metalearn_core.algorithms import ALGORITHMS
from metalearn_core.compare import (
    MAX_LEARNERS,
    MIN_LEARNERS,
    RESULT_FILE,
    Comparison,
    ComparisonPlan,
    build_result,
    parse_result_zip,
    read_result,
)
from metalearn_core.engine import RunConfig
from metalearn_core.settings import setting, settings_of
from studio_ui.classroom import check_runs_budget
from studio_ui.data import sources_for
from studio_ui.errors import describe_error
from studio_ui.i18n import N_, _
from studio_ui.links import PageLink, PageParams, Param, Values, open_page, register_page
from studio_ui.run_presets import (
    QUICK_DEMO,
    algorithm_title,
    algorithms_for,
    dataset_description,
    dataset_kind,
    default_algorithm,
    preset_config,
)
from studio_ui.serving import REPO_ROOT
from studio_ui.sessions import track_run
from studio_ui.settings_form import (
    CONFIG_SETTINGS,
    draw,
    page_info,
    run_params,
    server_cap,
    share_box,
)

log = logging.getLogger("metalearn_studio.compare")

PAGE = "compare"
KEY = "cmp_"  # the page's widget keys, and the names of its settings in a link
COMPARISON, BUILT_FROM, PLAYING, LOCK = (
    "compare_comparison", "compare_built_from", "compare_playing", "compare_lock",
)  # fmt: skip
RESULT, RESULT_FROM, MESSAGE, SCORE, INSPECT_SEED = (
    "compare_result", "compare_result_from", "compare_message", "compare_score",
    "compare_inspect_seed",
)  # fmt: skip
UPLOAD_KEY = "compare_upload"
PREPARED_DIR = REPO_ROOT / "comparisons"
EPISODES, SECONDS = "episodes", "seconds"
# the page's limits (the command line allows more)
MAX_PAGE_EPISODES = 20_000
MAX_PAGE_SECONDS = 600
MAX_PAGE_TEST_EPISODES = 1_000
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
TICK_SECONDS = 0.15  # training per redraw, shared by the learners
DEFAULT_LEARNERS = {"classification": ["protonet", "maml"], "regression": ["maml", "cnp"]}
SCORING = (KEY + "test_episodes", KEY + "extra_episodes", KEY + "validate_every",
           KEY + "val_episodes")  # fmt: skip


def init_state() -> None:
    defaults: dict[str, Any] = {
        COMPARISON: None, BUILT_FROM: None, PLAYING: False, LOCK: threading.Lock(),
        RESULT: None, RESULT_FROM: None, MESSAGE: None, SCORE: False, INSPECT_SEED: 0,
    }  # fmt: skip
    for key, value in defaults.items():
        if key not in st.session_state:
            st.session_state[key] = value


def comparison() -> Comparison | None:
    return st.session_state[COMPARISON]


def flash(level: str, text: str) -> None:
    st.session_state[MESSAGE] = (level, text)


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class CompareSettings:
    """The Compare page's own settings (the data set, episode shape and seed are the
    Train form's, ``settings_form.run_params``): help and limits for its widgets and links."""

    budget_kind: Literal["episodes", "seconds"] = setting(
        EPISODES, label=N_("Equal budget of"), help=N_("Every learner trains for as long")
    )
    episodes: int = setting(
        500, label=N_("Training episodes per learner"), help=N_("The same for every learner"),
        low=1, high=MAX_PAGE_EPISODES,
    )  # fmt: skip
    seconds: int = setting(
        30, label=N_("Training seconds per learner"), help=N_("The same for every learner"),
        low=1, high=MAX_PAGE_SECONDS,
    )  # fmt: skip
    recipes: bool = setting(
        True, label=N_("Recommended recipes"),
        help=N_("Each learner's best settings a benchmark found for a budget "
                "(else the papers' defaults)"),
    )  # fmt: skip
    test_episodes: int = setting(
        600, label=N_("Test episodes"), help=N_("The same test episodes for every learner"),
        low=10, high=MAX_PAGE_TEST_EPISODES,
    )  # fmt: skip
    extra_episodes: int = setting(
        100, label=N_("Episodes per extra point"),
        help=N_("Test episodes per point at other shots, ways and inner steps"), low=5, high=500,
    )  # fmt: skip
    validate_every: int = setting(
        100, label=N_("Validate every (episodes, 0: never)"),
        help=N_("Every learner validates at the same episode counts"), low=0,
        high=MAX_PAGE_EPISODES,
    )  # fmt: skip


PAGE_SETTINGS = settings_of(CompareSettings)
BUDGET_TITLES = {EPISODES: N_("Episodes"), SECONDS: N_("Seconds")}


def _own(name: str, **extra: Any) -> Param:
    info = PAGE_SETTINGS[name]
    return Param(KEY + name, default=lambda values: getattr(CompareSettings(), name), info=info,
                 **extra)  # fmt: skip


def _first_algo(values: Values) -> str:
    return default_algorithm(values[KEY + "dataset"])


def compare_params() -> PageParams:
    """The Compare page's settings in the order its form draws them."""
    shared = run_params(KEY, algo_of=_first_algo)
    learners = Param(
        KEY + "algos",
        default=lambda values: list(DEFAULT_LEARNERS[dataset_kind(values[KEY + "dataset"])]),
        options=lambda values: algorithms_for(values[KEY + "dataset"]),
        label=algorithm_title,
        items=(MIN_LEARNERS, MAX_LEARNERS),
    )
    params = [
        shared["dataset"], shared["data_dir"], learners, shared["n_way"], shared["k_shot"],
        shared["q_query"], shared["seed"],
        _own("budget_kind", options=lambda values: (EPISODES, SECONDS),
             label=BUDGET_TITLES.__getitem__),
        _own("episodes", applies=lambda values: values[KEY + "budget_kind"] == EPISODES),
        _own("seconds", applies=lambda values: values[KEY + "budget_kind"] == SECONDS),
        _own("recipes"), _own("test_episodes"), _own("extra_episodes"), _own("validate_every"),
        Param(KEY + "val_episodes", default=lambda values: 50,
              info=page_info(CONFIG_SETTINGS["val_episodes"]),
              server_cap=server_cap("val_episodes")),
    ]  # fmt: skip
    return PageParams(PAGE, tuple(params), {"scoring": SCORING, "share": ()}, prefix=KEY)


register_page(PAGE, compare_params)


def _dataset_changed() -> None:
    """Another kind of task: its default learners and episode shape."""
    dataset = st.session_state[KEY + "dataset"]
    kind = dataset_kind(dataset)
    st.session_state[KEY + "algos"] = list(DEFAULT_LEARNERS[kind])
    shape = preset_config(QUICK_DEMO, dataset, default_algorithm(dataset))
    for name in ("n_way", "k_shot", "q_query"):
        st.session_state[KEY + name] = getattr(shape, name)


def open_settings() -> PageLink:
    """Call first on the page: a link's settings checked (a note on what was ignored)."""
    return open_page(compare_params())


def settings_widgets(link: PageLink | None = None) -> dict[str, Any]:
    """The comparison's settings (sidebar), the Train form's data set, episode shape and
    seed fields with learners of one kind instead of one algorithm; returns the chosen
    values, not yet checked."""
    link = link or open_settings()
    dataset = draw(link, KEY + "dataset", on_change=_dataset_changed)
    if not link.is_hidden(KEY + "dataset") and (description := dataset_description(dataset)):
        st.caption(_(description))
    data_dir = None
    if link.applies(KEY + "data_dir"):
        data_dir = draw(link, KEY + "data_dir", label=_("Data folder")).strip() or None
    algos = draw(
        link, KEY + "algos",
        label=_("Learners ({low} to {high})").format(low=MIN_LEARNERS, high=MAX_LEARNERS),
        help=_("Learners of the data set's kind of task; they train on the same episodes"),
    )  # fmt: skip
    regression = dataset_kind(dataset) == "regression"
    if regression:
        st.session_state[KEY + "n_way"] = 1
    shape = {}
    for column, name in zip(st.columns(3), ("n_way", "k_shot", "q_query"), strict=True):
        with column:
            shape[name] = draw(link, KEY + name, disabled=regression and name == "n_way")
    seed = draw(link, KEY + "seed")
    budget_kind = draw(link, KEY + "budget_kind", as_radio=True)
    budget = draw(link, KEY + ("episodes" if budget_kind == EPISODES else "seconds"))
    recipes = draw(link, KEY + "recipes")
    scoring = {}
    if link.is_hidden(*SCORING):
        scoring = {name: draw(link, name) for name in SCORING}
    else:
        with st.expander(_("Scoring")):
            scoring = {name: draw(link, name) for name in SCORING}
    share_box(link)
    return {
        "dataset": dataset, "data_dir": data_dir, "algos": list(algos),
        "n_way": 1 if regression else shape["n_way"], "k_shot": shape["k_shot"],
        "q_query": shape["q_query"], "seed": seed, "budget_kind": budget_kind,
        "budget": budget, "recipes": bool(recipes),
        **{name.removeprefix(KEY): value for name, value in scoring.items()},
    }  # fmt: skip


def plan_from_values(values: dict[str, Any]) -> ComparisonPlan:
    """The plan the settings describe; ``ValueError`` (a ComparisonError or ConfigError)
    with a clear message when they cannot run."""
    regression = dataset_kind(values["dataset"]) == "regression"
    algos = tuple(values["algos"])
    # the shared config names one learner of the kind only to be valid; each replaces it
    placeholder = algos[0] if algos and algos[0] in ALGORITHMS else "maml"
    base = RunConfig(
        dataset=values["dataset"], algo=placeholder, n_way=1 if regression else values["n_way"],
        k_shot=values["k_shot"], q_query=values["q_query"], seed=values["seed"],
        data_dir=values["data_dir"], val_episodes=values["val_episodes"],
    )  # fmt: skip
    episodes = values["budget"] if values["budget_kind"] == EPISODES else None
    return ComparisonPlan(
        algos=algos, base=base, episodes=episodes,
        seconds=None if episodes is not None else float(values["budget"]),
        seeds=(values["seed"],), test_episodes=values["test_episodes"],
        extra_episodes=values["extra_episodes"], validate_every=values["validate_every"],
        test_ways=() if regression else (5, 20), use_recipes=values["recipes"],
    )  # fmt: skip


def build_comparison(plan: ComparisonPlan) -> Comparison:
    """A comparison of ``plan`` on the shared data; ``RunsLimitExceeded`` (a ValueError)
    when its learners and the session's runs on other pages pass the server's limit."""
    check_runs_budget("compare", len(plan.algos))
    built = Comparison(plan, sources=sources_for(plan.base))  # shared by every learner
    for trainer in built.trainers.values():
        track_run(trainer)
    return built


def settings_key(values: dict[str, Any]) -> str:
    return json.dumps(values, sort_keys=True, default=repr)


def has_progress(current: Comparison | None) -> bool:
    return current is not None and any(t.iteration > 0 for t in current.trainers.values())


def adopt(values: dict[str, Any], plan: ComparisonPlan) -> None:
    """Build the comparison for ``values`` and make it the current one (the current one is
    replaced only once the new one is built)."""
    new = build_comparison(plan)
    st.session_state[COMPARISON] = new
    st.session_state[BUILT_FROM] = settings_key(values)
    st.session_state[PLAYING] = False


def start_new(values: dict[str, Any]) -> None:
    """The "Start a new comparison" button: discard the trained one."""
    try:
        adopt(values, plan_from_values(values))
    except (ValueError, FileNotFoundError) as error:
        flash("error", _("These settings cannot run: {error}").format(error=describe_error(error)))


# ----------------------------------------------------------------------------- actions


def play() -> None:
    st.session_state[PLAYING] = True


def pause() -> None:
    st.session_state[PLAYING] = False


def step() -> None:
    pause()
    current = comparison()
    if current is None:
        return
    with st.session_state[LOCK]:
        current.step()


def reset() -> None:
    pause()
    current = comparison()
    if current is None:
        return
    try:
        with st.session_state[LOCK]:
            st.session_state[COMPARISON] = build_comparison(current.plan)
    except (ValueError, FileNotFoundError) as error:  # e.g. a limit the teacher lowered
        flash("error", _("Reset failed, the comparison is kept: {error}").format(error=error))
        return
    flash("info", _("The comparison was reset: every learner starts again from its seed."))


def request_score() -> None:
    pause()
    st.session_state[SCORE] = True


def next_inspector_episode() -> None:
    st.session_state[INSPECT_SEED] += 1


def score_current() -> None:
    """Score every learner of the current comparison on the same test episodes."""
    current = comparison()
    if current is None:
        return
    with st.session_state[LOCK]:
        cells = current.score()
    result = build_result(current.plan, cells, command="the Compare page")
    show_result(result, _("scored here, from the comparison above"))


def show_result(result: dict[str, Any], where: str) -> None:
    st.session_state[RESULT] = result
    st.session_state[RESULT_FROM] = where


# ----------------------------------------------------------------------------- opening


def prepared_comparisons() -> dict[str, Path]:
    """The comparisons kept in the repository (``comparisons/NAME/comparison.json``)."""
    if not PREPARED_DIR.is_dir():
        return {}
    return {path.parent.name: path for path in sorted(PREPARED_DIR.glob(f"*/{RESULT_FILE}"))}


def open_prepared(name: str) -> None:
    path = prepared_comparisons().get(name)
    if path is None:
        flash("error", _("There is no prepared comparison {name}.").format(name=repr(name)))
        return
    _open(lambda: read_result(path), _("the prepared comparison {name}").format(name=name))


FOLDER_KEY = "compare_folder"


def open_folder() -> None:
    """The folder typed in ``FOLDER_KEY``: one written by ``compare --out`` on this server
    (a folder, never a file: the path comes from the browser)."""
    path_text = str(st.session_state.get(FOLDER_KEY) or "")
    folder = Path(path_text.strip()).expanduser()
    if not path_text.strip():
        flash("error", _("Type the path of a folder written by compare --out."))
    elif not folder.is_dir():
        flash(
            "error",
            _("{path} is not a folder on the server.").format(path=repr(path_text.strip())),
        )
    else:
        _open(lambda: read_result(folder), _("the folder {folder}").format(folder=folder))


def upload_changed() -> None:
    upload = st.session_state.get(UPLOAD_KEY)
    if upload is None:
        return
    if upload.size > MAX_UPLOAD_BYTES:
        flash(
            "error",
            _("{file} is larger than {megabytes} MB.").format(
                file=upload.name, megabytes=MAX_UPLOAD_BYTES // 2**20
            ),
        )
        return
    _open(
        lambda: parse_result_zip(upload.getvalue(), upload.name),
        _("the uploaded {file}").format(file=upload.name),
    )


def _open(read, where: str) -> None:
    try:
        result = read()
    except (ValueError, FileNotFoundError, OSError) as error:
        flash("error", _("Could not open {where}: {error}").format(where=where, error=error))
        return
    show_result(result, where)
    flash("success", _("Opened {where}.").format(where=where))
