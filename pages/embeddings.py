"""Embedding space: many held-out examples in a learner's space, before and after learning.

Over the Train page's run: the initial network beside the trained one, on the same examples
and the same projection; for MAML, first-order MAML and Reptile also the features of the
same episode before and after the inner steps. Over a comparison (from the Compare page):
each learner's space. Beside every picture, the numbers that say what it shows.
"""

from __future__ import annotations

import logging

import streamlit as st
import torch

from metalearn_core import embedding_space as space_core
from metalearn_core.algorithms import ALGORITHMS
from metalearn_core.data.episodes import Episode
from metalearn_core.embedding_space import (
    INNER_LOOP_LEARNERS,
    MAX_CLASSES,
    MAX_PERPLEXITY,
    MAX_POINTS,
    PROJECTION_TITLES,
    TSNE_PERPLEXITY,
    EmbeddedEpisode,
)
from metalearn_core.figures.embedding_space import SpaceWords, image_art, space_figure
from studio_ui.embedding_space import (
    COMPARISON,
    TRAIN_RUN,
    Subject,
    cached,
    held_out_source,
    subjects,
)
from studio_ui.i18n import N_, _, ngettext, shown_as, translated_words
from studio_ui.live_chart import CHART_CONFIG
from studio_ui.runtime import ensure_entrypoint

log = logging.getLogger("metalearn_studio.embeddings")

KEY = "embed_"
# Widget values stay English (a language switch keeps the choice); shown translated.
CHOSEN, MANY = N_("A chosen episode"), N_("Many classes")
INITIAL_TRAINED = N_("Initial network and trained")
INNER_STEPS = N_("Before and after the inner steps")
SPLIT_TITLES = {"val": N_("validation"), "test": N_("test")}
MAX_SEED = 2**31 - 1
MANY_DEFAULT = 20  # classes first shown in "many classes" (with 5 + 5 examples: 200 points)


def _within(value: int, low: int, high: int) -> int:
    """A widget's first value inside its limits (a run may be wider than a picture)."""
    return max(low, min(int(value), high))


def examples_ui(subject: Subject) -> dict:
    """The examples to draw: split, classes, shots, queries and seed."""
    config = subject.first.config
    mode = st.radio(
        _("Examples"), (CHOSEN, MANY), format_func=shown_as((CHOSEN, MANY)), horizontal=True,
        key=KEY + "mode",
    )  # fmt: skip
    split = st.selectbox(
        _("Held-out classes from"), ("val", "test"), key=KEY + "split",
        format_func=shown_as(SPLIT_TITLES),
        help=_("Classes never seen in meta-training: the validation or the test split."),
    )  # fmt: skip
    columns = st.columns(4)
    chosen = mode == CHOSEN
    try:  # "many classes" starts with as many as the split holds, up to 20
        many = held_out_source(subject.first, split).num_classes
    except (AttributeError, OSError, ValueError):  # the draw below says what is wrong
        many = MANY_DEFAULT
    first_classes = (
        _within(config.n_way, 2, MAX_CLASSES) if chosen else _within(many, 2, MANY_DEFAULT)
    )
    n_classes = columns[0].number_input(
        _("Classes"), 2, MAX_CLASSES, first_classes,
        key=KEY + ("n_way" if chosen else "classes"),
    )  # fmt: skip
    k_shot = columns[1].number_input(
        _("Support per class"), 1, MAX_POINTS, _within(config.k_shot if chosen else 5, 1, MAX_POINTS),
        key=KEY + ("k_shot" if chosen else "support"),
    )  # fmt: skip
    q_query = columns[2].number_input(
        _("Queries per class"), 1, MAX_POINTS, _within(config.q_query if chosen else 5, 1, MAX_POINTS),
        key=KEY + ("q_query" if chosen else "queries"),
    )  # fmt: skip
    seed = columns[3].number_input(_("Episode seed"), 0, MAX_SEED, 0, key=KEY + "seed")
    return {
        "split": split,
        "n_classes": int(n_classes),
        "k_shot": int(k_shot),
        "q_query": int(q_query),
        "seed": int(seed),
    }


def projection_ui(flat: bool) -> tuple[str, float]:
    """The projection and t-SNE's perplexity; ``flat``: 2-D embeddings, drawn as they are."""
    columns = st.columns(2)
    method = columns[0].selectbox(
        _("Projection to 2-D"), tuple(PROJECTION_TITLES), format_func=PROJECTION_TITLES.get,
        key=KEY + "method", disabled=flat,
        help=_("A 2-D embedding layer is drawn as it is, with the region each prototype wins.")
        if flat
        else _(
            "PCA keeps distances along its two axes; t-SNE and UMAP keep neighbours. "
            "UMAP needs umap-learn; its first view in a server compiles for about a minute."
        ),
    )  # fmt: skip
    perplexity = TSNE_PERPLEXITY
    if method == "tsne":
        perplexity = columns[1].number_input(
            _("t-SNE perplexity"), 1.0, MAX_PERPLEXITY, TSNE_PERPLEXITY, step=5.0,
            key=KEY + "perplexity",
            help=_(
                "About how many neighbours each point keeps close; below the number of points."
            ),
        )  # fmt: skip
    return method, float(perplexity)


def examples_key(subject: Subject, examples: dict) -> tuple:
    """Identifies the examples: the data set and the choices above."""
    config = subject.first.config
    return (config.dataset, config.data_dir, config.data_seed, *examples.values())


def draw(subject: Subject, examples: dict) -> Episode:
    source = held_out_source(subject.first, examples["split"])
    sizes = {k: examples[k] for k in ("n_classes", "k_shot", "q_query", "seed")}
    return cached(
        ("examples", *examples_key(subject, examples)),
        lambda: space_core.draw_examples(source, **sizes),
    )


def spaces_for(
    subject: Subject, episode_key: tuple, episode: Episode, view: str
) -> dict[str, EmbeddedEpisode]:
    """The spaces to draw side by side, on the same examples, by name: a learner's, or
    ``initial`` / ``trained``, or ``before`` / ``after`` (worded by ``space_title``)."""
    key = ("spaces", subject.key(), episode_key, view)
    if subject.label == COMPARISON:
        learners = {name: t.learner for name, t in subject.trainers.items()}
        return cached(key, lambda: space_core.embed_learners(learners, episode))
    trainer = subject.first
    if view == INNER_STEPS:

        def before_after() -> dict[str, EmbeddedEpisode]:
            before, after = space_core.inner_steps_before_after(trainer.learner, episode)
            return {"before": before, "after": after}

        return cached(key, before_after)

    def initial_trained() -> dict[str, EmbeddedEpisode]:
        learners = {"initial": trainer.initial_learner(), "trained": trainer.learner}
        return space_core.embed_learners(learners, episode)

    return cached(key, initial_trained)


def space_title(name: str, subject: Subject) -> str:
    """A space's heading in the session's language (the names of ``spaces_for``)."""
    trainer = subject.first
    if subject.label == COMPARISON:  # a learner, by its algorithm's name
        return _(getattr(ALGORITHMS.get(name), "title", name))
    if name == "before":
        return _("before the inner steps")
    if name == "after":
        steps = trainer.learner.hparams.inner_steps_test
        return ngettext("after {n} inner step", "after {n} inner steps", steps).format(n=steps)
    if name == "initial":
        return _("initial network")
    return ngettext("trained ({n} step)", "trained ({n} steps)", trainer.iteration).format(
        n=f"{trainer.iteration:,}"
    )


def axis_titles(projection) -> tuple[str, str]:
    """The projection's axis titles in the session's language."""
    if projection.as_is:
        return _("embedding 1"), _("embedding 2")
    if projection.variance_shares is not None:
        first, second = (
            _("PC {n} ({share}% of variance)").format(n=n, share=f"{100 * share:.0f}")
            for n, share in enumerate(projection.variance_shares, start=1)
        )
        return first, second
    return projection.axis_titles


def space_labels() -> SpaceWords:
    """The figure's legend and hover words in the session's language."""
    return translated_words(SpaceWords())


def show_space(
    name: str, title: str, space, episode_key, subject_key, method, perplexity, seed, art, episode
) -> bool:
    """One picture and its numbers; whether the points were drawn as they are."""
    projection = cached(
        ("projection", subject_key, episode_key, name, method, perplexity, seed),
        lambda: space_core.project(space, method, perplexity=perplexity, seed=seed),
    )
    metrics = cached(
        ("metrics", subject_key, episode_key, name), lambda: space_core.space_metrics(space)
    )
    st.markdown(f"#### {title}")
    figure = space_figure(
        space, projection, class_names=episode.class_names, images=art,
        axis_titles=axis_titles(projection), words=space_labels(),
    )  # fmt: skip
    st.plotly_chart(figure, config=CHART_CONFIG, key=f"{KEY}chart_{name}")
    columns = st.columns(3)
    columns[0].metric(
        _("Silhouette"), f"{metrics.silhouette:.2f}",
        help=_(
            "Mean silhouette of all points by class, from -1 to 1: near 1, each point is "
            "much nearer its own class than any other."
        ),
    )  # fmt: skip
    columns[1].metric(
        _("Prototype accuracy"), f"{100 * metrics.prototype_accuracy:.0f}%",
        help=_(
            "Nearest-prototype accuracy: the share of the queries whose nearest support "
            "class mean (prototype) is their own class's."
        ),
    )  # fmt: skip
    columns[2].metric(
        _("Between / within"), f"{metrics.separation:.2f}",
        help=_(
            "Mean distance between class means over mean distance of a point to its class "
            "mean: the larger, the better separated."
        ),
    )  # fmt: skip
    return projection.as_is


# ----------------------------------------------------------------------------- the page

ensure_entrypoint()
st.title(_("Embedding space"))
st.markdown(
    _(
        "Where a learner puts examples of classes it has **never seen**. A metric learner "
        "(Prototypical or Matching Networks) should pull each class into a tight cluster far "
        "from the others; MAML and Reptile learn features that one or a few gradient steps "
        "can separate. Stars are the class prototypes (the mean of the class's support "
        "examples), diamonds the support examples, dots the queries, each joined to its "
        "nearest prototype (a black ✗ when that prototype is of another class). Hover over "
        "a point to see it."
    )
)

offered = subjects()
label = (
    st.radio(
        _("Look at"),
        tuple(offered),
        format_func=shown_as(tuple(offered)),
        horizontal=True,
        key=KEY + "subject",
    )  # fmt: skip
    if len(offered) > 1
    else next(iter(offered))
)
subject = offered[label]
if isinstance(subject, str):
    st.info(subject)
    st.page_link("pages/train.py", label=_("Open Train"), icon=":material/model_training:")
    st.stop()

unavailable = {
    name: reason
    for name, t in subject.trainers.items()
    if (reason := space_core.embedding_unavailable(t.learner))
}
if unavailable:
    drawable = {n: t for n, t in subject.trainers.items() if n not in unavailable}
    reasons = " ".join(
        _("{name}: {reason}.").format(name=name, reason=_(reason))
        for name, reason in unavailable.items()
    )
    if not drawable:
        st.info(_("Nothing to draw here. {reasons}").format(reasons=reasons))
        st.stop()
    st.info(_("Left out: {reasons}").format(reasons=reasons))
    subject = Subject(subject.label, drawable)

views = [INITIAL_TRAINED]
if label == TRAIN_RUN and subject.first.config.algo in INNER_LOOP_LEARNERS:
    views.append(INNER_STEPS)
if label != TRAIN_RUN:
    view = "learners"
elif len(views) > 1:
    view = st.radio(
        _("Side by side"), views, format_func=shown_as(views), horizontal=True, key=KEY + "view"
    )
else:
    view = INITIAL_TRAINED
examples = examples_ui(subject)
flat_embeddings = all(t.spec.embedding_2d for t in subject.trainers.values())
method, perplexity = projection_ui(flat_embeddings)
if flat_embeddings:
    method = "pca"  # unused: the points are drawn as they are

try:
    episode_key = examples_key(subject, examples)
    episode = draw(subject, examples)
    points = episode.support_x.shape[0] + episode.query_x.shape[0]
    space_core.check_projection(method, points, perplexity)
    with st.spinner(
        _("Embedding {points} examples and projecting them by {method}…").format(
            points=points, method=PROJECTION_TITLES[method]
        )
    ):
        spaces = spaces_for(subject, episode_key, episode, view)
        art = cached(
            ("art", *episode_key),
            lambda: image_art(torch.cat([episode.support_x, episode.query_x])),
        )
        columns = st.columns(min(len(spaces), 2))
        flat = True  # every picture drawn as it is (2-D embeddings)
        for index, (name, space) in enumerate(spaces.items()):
            with columns[index % len(columns)]:
                flat &= show_space(
                    name, space_title(name, subject), space, episode_key, subject.key(), method, perplexity,
                    examples["seed"], art, episode,
                )  # fmt: skip
except ValueError as error:
    st.error(_("Cannot draw these examples: {error}").format(error=error))
    st.stop()
except (OSError, RuntimeError) as error:  # a split that cannot be opened, a broken model
    log.exception("embedding space failed")
    st.error(
        _("Could not draw the embedding space ({error}).").format(
            error=f"{type(error).__name__}: {error}"
        )
    )
    st.stop()

if view == INNER_STEPS:
    before, after = spaces.values()
    if before.support.equal(after.support) and before.query.equal(after.query):
        st.info(
            _(
                "The features did not change: MAML's head starts at zero for every task, so "
                "its first inner step moves the head alone (the classifier adapts, the "
                "features stay). Train with inner_steps_test of 2 or more to see the body move."
            )
        )
st.caption(
    _(
        "{points} examples of {classes} held-out classes ({split} split), the same ones in "
        "every picture. The numbers are measured in the embedding space itself, not in the "
        "2-D picture"
    ).format(points=points, classes=examples["n_classes"], split=_(SPLIT_TITLES[examples["split"]]))
    + (
        _("; the 2-D embeddings are drawn as they are, each prototype's region shaded.")
        if flat
        else _("; each picture is its own space's first two principal components.")
        if method == "pca"
        else _(
            "; t-SNE and UMAP keep neighbours together but distort distances, and each "
            "picture is fitted on its own points with the same settings and seed."
        )
    )
)
