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
from pathlib import Path
from typing import Any

import streamlit as st

from metalearn_core.algorithms import ALGORITHMS, algorithm_names
from metalearn_core.compare import (
    MAX_LEARNERS,
    RESULT_FILE,
    Comparison,
    ComparisonPlan,
    build_result,
    parse_result_zip,
    read_result,
)
from metalearn_core.engine import RunConfig
from studio_ui.classroom import check_runs_budget
from studio_ui.data import sources_for
from studio_ui.serving import REPO_ROOT
from studio_ui.sessions import track_run
from studio_ui.train_settings import (
    algorithm_title,
    dataset_description,
    dataset_kind,
    dataset_names,
    dataset_title,
    needs_folder,
)

log = logging.getLogger("metalearn_studio.compare")

KEY = "compare_w_"  # widget keys
COMPARISON, BUILT_FROM, PLAYING, LOCK = (
    "compare_comparison", "compare_built_from", "compare_playing", "compare_lock",
)  # fmt: skip
RESULT, RESULT_FROM, MESSAGE, SCORE, INSPECT_SEED = (
    "compare_result", "compare_result_from", "compare_message", "compare_score",
    "compare_inspect_seed",
)  # fmt: skip
UPLOAD_KEY = "compare_upload"
PREPARED_DIR = REPO_ROOT / "comparisons"
EPISODES, SECONDS = "Episodes", "Seconds"
# the page's limits (the command line allows more)
MAX_PAGE_EPISODES = 20_000
MAX_PAGE_SECONDS = 600
MAX_PAGE_TEST_EPISODES = 1_000
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
TICK_SECONDS = 0.15  # training per redraw, shared by the learners
DEFAULT_LEARNERS = {"classification": ["protonet", "maml"], "regression": ["maml", "cnp"]}


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


def _number(label: str, name: str, low: int, high: int, default: int, **extra: Any) -> int:
    st.session_state.setdefault(KEY + name, default)
    return int(
        st.number_input(label, min_value=low, max_value=high, step=1, key=KEY + name, **extra)
    )


def _dataset_changed() -> None:
    kind = dataset_kind(st.session_state[KEY + "dataset"])
    st.session_state[KEY + "algos"] = list(DEFAULT_LEARNERS[kind])
    if kind == "regression":
        st.session_state[KEY + "n_way"] = 1
        st.session_state[KEY + "k_shot"] = 10
        st.session_state[KEY + "q_query"] = 10
    else:
        st.session_state[KEY + "n_way"] = 5
        st.session_state[KEY + "k_shot"] = 1
        st.session_state[KEY + "q_query"] = 5


def settings_widgets() -> dict[str, Any]:
    """The comparison's settings (sidebar); returns the chosen values, not yet checked."""
    datasets = dataset_names()
    st.session_state.setdefault(KEY + "dataset", datasets[0])
    dataset = st.selectbox("Data set", datasets, format_func=dataset_title,
                           key=KEY + "dataset", on_change=_dataset_changed)  # fmt: skip
    if description := dataset_description(dataset):
        st.caption(description)
    data_dir = None
    if needs_folder(dataset):
        data_dir = st.text_input("Data folder", key=KEY + "data_dir").strip() or None
    kind = dataset_kind(dataset)
    offered = algorithm_names(kind)
    st.session_state.setdefault(KEY + "algos", list(DEFAULT_LEARNERS[kind]))
    algos = st.multiselect(
        f"Learners (2 to {MAX_LEARNERS})",
        offered,
        format_func=algorithm_title,
        key=KEY + "algos",
        max_selections=MAX_LEARNERS,
        help="Learners of the data set's kind of task; they train on the same episodes",
    )
    regression = kind == "regression"
    c1, c2, c3 = st.columns(3)
    with c1:
        n_way = _number("N-way", "n_way", 1, 100, 1 if regression else 5, disabled=regression)
    with c2:
        k_shot = _number("K-shot", "k_shot", 1, 100, 10 if regression else 1)
    with c3:
        q_query = _number("Q-query", "q_query", 1, 100, 10 if regression else 5)
    seed = _number("Seed", "seed", 0, 2**31 - 1, 0)
    st.session_state.setdefault(KEY + "budget_kind", EPISODES)
    budget_kind = st.radio("Equal budget of", (EPISODES, SECONDS), key=KEY + "budget_kind",
                           horizontal=True)  # fmt: skip
    if budget_kind == EPISODES:
        budget = _number("Training episodes per learner", "episodes", 1, MAX_PAGE_EPISODES, 500)
    else:
        budget = _number("Training seconds per learner", "seconds", 1, MAX_PAGE_SECONDS, 30)
    st.session_state.setdefault(KEY + "recipes", True)
    recipes = st.checkbox("Recommended recipes", key=KEY + "recipes",
                          help="Each learner's best settings a benchmark found for a budget "
                          "(else the papers' defaults)")  # fmt: skip
    with st.expander("Scoring"):
        test_episodes = _number("Test episodes", "test_episodes", 10, MAX_PAGE_TEST_EPISODES, 600)
        extra_episodes = _number("Episodes per extra point", "extra_episodes", 5, 500, 100)
        validate_every = _number("Validate every (episodes, 0: never)", "validate_every", 0,
                                 MAX_PAGE_EPISODES, 100)  # fmt: skip
        val_episodes = _number("Validation episodes", "val_episodes", 1, 500, 50)
    return {
        "dataset": dataset, "data_dir": data_dir, "algos": list(algos), "n_way": n_way,
        "k_shot": k_shot, "q_query": q_query, "seed": seed, "budget_kind": budget_kind,
        "budget": budget, "recipes": bool(recipes), "test_episodes": test_episodes,
        "extra_episodes": extra_episodes, "validate_every": validate_every,
        "val_episodes": val_episodes,
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
        flash("error", f"These settings cannot run: {error}")


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
        flash("error", f"Reset failed, the comparison is kept: {error}")
        return
    flash("info", "The comparison was reset: every learner starts again from its seed.")


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
    show_result(result, "scored here, from the comparison above")


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
        flash("error", f"There is no prepared comparison {name!r}.")
        return
    _open(lambda: read_result(path), f"the prepared comparison {name}")


FOLDER_KEY = "compare_folder"


def open_folder() -> None:
    """The folder typed in ``FOLDER_KEY``: one written by ``compare --out`` on this server
    (a folder, never a file: the path comes from the browser)."""
    path_text = str(st.session_state.get(FOLDER_KEY) or "")
    folder = Path(path_text.strip()).expanduser()
    if not path_text.strip():
        flash("error", "Type the path of a folder written by compare --out.")
    elif not folder.is_dir():
        flash("error", f"{path_text.strip()!r} is not a folder on the server.")
    else:
        _open(lambda: read_result(folder), f"the folder {folder}")


def upload_changed() -> None:
    upload = st.session_state.get(UPLOAD_KEY)
    if upload is None:
        return
    if upload.size > MAX_UPLOAD_BYTES:
        flash("error", f"{upload.name} is larger than {MAX_UPLOAD_BYTES // 2**20} MB.")
        return
    _open(lambda: parse_result_zip(upload.getvalue(), upload.name), f"the uploaded {upload.name}")


def _open(read, where: str) -> None:
    try:
        result = read()
    except (ValueError, FileNotFoundError, OSError) as error:
        flash("error", f"Could not open {where}: {error}")
        return
    show_result(result, where)
    flash("success", f"Opened {where}.")
