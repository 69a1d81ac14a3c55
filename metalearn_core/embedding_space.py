"""The embedding space of a learner: many held-out examples, embedded, projected, measured.

What the Embedding space page shows, computed without streamlit:

1. ``draw_examples``: up to ``MAX_POINTS`` examples of up to ``MAX_CLASSES`` held-out
   classes, as one episode (K support and Q query examples per class), reproducibly from a
   seed. A "chosen episode" is the run's own N-way K-shot shape; "many classes" is a wide one.
2. ``embed``: each example's embedding in the learner's space. Metric learners (Prototypical
   and Matching Networks, the transfer baseline) give their backbone's output; MAML,
   first-order MAML and Reptile give the penultimate features (the body's output) at the
   meta-parameters, and ``inner_steps_before_after`` gives the same examples' features
   before and after the test-time inner steps. ``embed_learners`` does it for any mapping
   name -> learner (the initial and trained network of a run, or the learners of a
   comparison), always on the same examples.
3. ``space_metrics``: silhouette score, nearest-prototype accuracy of the queries shown, and
   the ratio of between-class to within-class distance, measured in the embedding space
   itself (a projection distorts distances; t-SNE's and UMAP's more than PCA's).
4. ``project``: to 2-D by PCA (default), t-SNE (scikit-learn) or UMAP (``umap-learn``,
   optional); a 2-D embedding layer is drawn as it is. The prototypes of the picture are
   the class means of the plotted support points: exactly the projected prototypes for PCA
   and the 2-D layer (both linear), the class's centre in the picture for t-SNE and UMAP.

Example:
    >>> episode = draw_examples(trainer.source("val"), n_classes=20, k_shot=5, q_query=5)
    >>> spaces = embed_learners({"initial": trainer.initial_learner(),
    ...                          "trained": trainer.learner}, episode)
    >>> space_metrics(spaces["trained"]).silhouette
    >>> project(spaces["trained"], "tsne", perplexity=30, seed=0).support   # (N*K, 2)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from metalearn_core.algorithms.base import MetaLearner
from metalearn_core.algorithms.functional import (
    DISTANCES,
    class_means,
    embed_without_side_effects,
    pairwise_distance,
)
from metalearn_core.data.episodes import Episode, EpisodeSampler, TaskSource
from metalearn_core.figures.embeddings import principal_plane

MAX_POINTS = 500  # examples per picture: t-SNE of 500 points stays within seconds on a CPU
MAX_CLASSES = 50
PROJECTIONS = ("pca", "tsne", "umap")
PROJECTION_TITLES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
TSNE_PERPLEXITY = 30.0  # scikit-learn's default (van der Maaten & Hinton, 2008: 5 to 50)
MAX_PERPLEXITY = 100.0
UMAP_NEIGHBOURS = 15  # umap-learn's default
UMAP_INSTALL = "pip install umap-learn"
# learners whose penultimate features are a body at the meta-parameters, adapted per task
INNER_LOOP_LEARNERS = ("maml", "fomaml", "reptile")


# ----------------------------------------------------------------------------- examples


def _check_count(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return value


def draw_examples(
    source: TaskSource, n_classes: int, k_shot: int, q_query: int, seed: int = 0
) -> Episode:
    """``n_classes`` classes of ``source`` with ``k_shot`` support and ``q_query`` query
    examples each, drawn from ``seed`` (the same seed gives the same examples).

    Raises:
        ValueError: a regression source, more than ``MAX_CLASSES`` classes or ``MAX_POINTS``
            examples, or more classes or examples per class than the split holds.
    """
    if source.task_kind != "classification":
        raise ValueError(
            f"{source.describe()} is a regression data set: it has no classes to embed"
        )
    _check_count("classes", n_classes, 2, MAX_CLASSES)
    _check_count("support examples per class", k_shot, 1, MAX_POINTS)
    _check_count("query examples per class", q_query, 1, MAX_POINTS)
    _check_count("seed", seed, 0, 2**63 - 1)
    points = n_classes * (k_shot + q_query)
    if points > MAX_POINTS:
        raise ValueError(
            f"{n_classes} classes x ({k_shot} support + {q_query} query) = {points} points, "
            f"more than the {MAX_POINTS} a picture may hold; take fewer classes or examples"
        )
    try:
        source.check_episode_shape(n_classes, k_shot, q_query)
    except ValueError as error:
        raise ValueError(f"the data holds fewer examples than asked: {error}") from None
    return EpisodeSampler(source, n_classes, k_shot, q_query, seed).sample()


# ----------------------------------------------------------------------------- embeddings


@dataclass(frozen=True)
class EmbeddedEpisode:
    """One episode's examples in one embedding space.

    support: (N*K, D), query: (N*Q, D), float64 on the CPU; labels (N*K,), (N*Q,) in 0..N-1;
    ``distance`` is the learner's own ("euclidean", squared, or "cosine").
    """

    support: torch.Tensor
    support_y: torch.Tensor
    query: torch.Tensor
    query_y: torch.Tensor
    n_way: int
    distance: str

    @property
    def dim(self) -> int:
        return int(self.support.shape[1])

    @property
    def prototypes(self) -> torch.Tensor:
        """Class means of the support embeddings: (N, D)."""
        return class_means(self.support, self.support_y, self.n_way)

    @property
    def nearest(self) -> torch.Tensor:
        """Each query's nearest prototype under the learner's distance: (N*Q,)."""
        return pairwise_distance(self.query, self.prototypes, self.distance).argmin(dim=1)


def embedding_unavailable(learner: MetaLearner) -> str | None:
    """Why ``learner`` has no embedding to draw, or None when it has one."""
    if learner.spec.task_kind != "classification":
        return "the embedding space is drawn for classification runs; this one is regression"
    if _backbone(learner) is None and learner.name not in INNER_LOOP_LEARNERS:
        return (
            f"{learner.title} reads the whole support set at once: it has no embedding of "
            "single examples to draw (choose a metric learner, MAML, first-order MAML or Reptile)"
        )
    return None


def _backbone(learner: MetaLearner) -> nn.Module | None:
    """The metric learners' embedding network (before any per-task fine-tuning)."""
    if learner.name in ("protonet", "matchingnet"):
        return learner.model  # type: ignore[attr-defined]
    if learner.name == "transfer":
        return learner.backbone  # type: ignore[attr-defined]
    return None


def learner_distance(learner: MetaLearner) -> str:
    """The distance the learner classifies by: its ``distance`` setting, cosine for the
    transfer baseline (a cosine classifier), and squared Euclidean for the inner-loop
    learners (whose one-step head is a prototype-like linear classifier)."""
    if learner.name == "transfer":
        return "cosine"
    distance = getattr(learner.hparams, "distance", "euclidean")
    return distance if distance in DISTANCES else "euclidean"


def _in_eval_mode(learner: MetaLearner, compute: Callable[[], torch.Tensor]) -> torch.Tensor:
    """Run ``compute`` with the learner in evaluation mode, as the inspector does, and put it
    back in training mode (the trainer keeps it there) afterwards."""
    learner.eval()
    try:
        with torch.no_grad():
            return compute()
    finally:
        learner.train()


def _body_features(learner: MetaLearner, x: torch.Tensor, weights=None) -> torch.Tensor:
    """Penultimate features (M, D) of an inner-loop learner: its body under ``weights``
    (a dict named like ``net``'s parameters), or under the meta-parameters when None."""
    body = learner.net["body"]  # type: ignore[attr-defined]
    if weights is None:
        return embed_without_side_effects(body, x)
    body_weights = {name[5:]: w for name, w in weights.items() if name.startswith("body.")}
    return functional_call(body, body_weights, (x,))


def _embedded(learner: MetaLearner, episode: Episode, support, query) -> EmbeddedEpisode:
    support = support.detach().double().cpu().flatten(1)
    query = query.detach().double().cpu().flatten(1)
    if not (torch.isfinite(support).all() and torch.isfinite(query).all()):
        raise ValueError(
            f"{learner.title}'s embeddings are not all finite numbers (a diverging run?)"
        )
    return EmbeddedEpisode(
        support,
        episode.support_y.cpu(),
        query,
        episode.query_y.cpu(),
        episode.n_way,
        learner_distance(learner),
    )


def embed(learner: MetaLearner, episode: Episode) -> EmbeddedEpisode:
    """``episode``'s examples in the learner's embedding space.

    Support and query are embedded as the learner embeds them in an episode: one pass for
    the metric learners (evaluation mode), one batch each for the inner-loop learners (their
    batch norm normalises each set by its own statistics).

    Raises:
        ValueError: a learner without an embedding of single examples (``embedding_unavailable``).
    """
    reason = embedding_unavailable(learner)
    if reason is not None:
        raise ValueError(reason)
    episode = episode.to(learner.device)
    backbone = _backbone(learner)
    if backbone is not None:
        both = _in_eval_mode(
            learner,
            lambda: embed_without_side_effects(
                backbone, torch.cat([episode.support_x, episode.query_x])
            ),
        )
        n_support = episode.support_x.shape[0]
        return _embedded(learner, episode, both[:n_support], both[n_support:])
    support = _in_eval_mode(learner, lambda: _body_features(learner, episode.support_x))
    query = _in_eval_mode(learner, lambda: _body_features(learner, episode.query_x))
    return _embedded(learner, episode, support, query)


def embed_learners(
    learners: Mapping[str, MetaLearner], episode: Episode
) -> dict[str, EmbeddedEpisode]:
    """Every learner's embedding of the same ``episode``, by name (order kept)."""
    if not learners:
        raise ValueError("no learner to embed with")
    return {name: embed(learner, episode) for name, learner in learners.items()}


def inner_steps_before_after(
    learner: MetaLearner, episode: Episode
) -> tuple[EmbeddedEpisode, EmbeddedEpisode]:
    """The penultimate features of ``episode`` before and after the learner's test-time
    inner steps on its support set (MAML, first-order MAML, Reptile).

    MAML's classification head starts at zero, so its first inner step moves the head alone:
    with one test step the features are unchanged (the classifier is what adapts).

    Raises:
        ValueError: a learner without an inner loop.
    """
    if learner.name not in INNER_LOOP_LEARNERS:
        raise ValueError(
            f"{learner.title} adapts no weights per task: only MAML, first-order MAML and "
            "Reptile have features before and after inner steps"
        )
    before = embed(learner, episode)
    on_device = episode.to(learner.device)
    learner.eval()
    try:
        adapted = learner.adapted_weights(on_device)  # type: ignore[attr-defined]
        with torch.no_grad():
            support = _body_features(learner, on_device.support_x, adapted)
            query = _body_features(learner, on_device.query_x, adapted)
    finally:
        learner.train()
    return before, _embedded(learner, episode, support, query)


# ----------------------------------------------------------------------------- numbers


@dataclass(frozen=True)
class SpaceMetrics:
    """What the eye should see, in numbers (all in the embedding space, not the picture).

    silhouette: mean silhouette of every point by class, in [-1, 1] (1: tight, far apart).
    prototype_accuracy: share of the queries whose nearest support class mean is their class.
    separation: mean distance between class means / mean distance of a point to its class mean.
    """

    silhouette: float
    prototype_accuracy: float
    separation: float


def _plain_distance(a: torch.Tensor, b: torch.Tensor, distance: str) -> torch.Tensor:
    """Euclidean (not squared) or cosine distance, (M, D), (N, D) -> (M, N)."""
    if distance == "euclidean":
        return pairwise_distance(a, b, "euclidean").clamp_min(0).sqrt()
    return pairwise_distance(a, b, distance)


def space_metrics(space: EmbeddedEpisode) -> SpaceMetrics:
    """Silhouette score, nearest-prototype accuracy and between/within distance ratio.

    Silhouette (Rousseeuw, 1987) and the ratio use the Euclidean distance, or the cosine
    distance for a learner that compares by cosine; both count support and query points.
    """
    from sklearn.metrics import silhouette_score

    points = torch.cat([space.support, space.query])
    labels = torch.cat([space.support_y, space.query_y])
    metric = "cosine" if space.distance == "cosine" else "euclidean"
    distinct = int(labels.unique().numel())
    if 2 <= distinct <= len(labels) - 1:
        silhouette = float(silhouette_score(points.numpy(), labels.numpy(), metric=metric))
    else:
        silhouette = math.nan
    accuracy = (space.nearest == space.query_y).double().mean().item()
    means = class_means(points, labels, space.n_way)  # (N, D)
    between = _plain_distance(means, means, space.distance)
    pairs = space.n_way * (space.n_way - 1)
    mean_between = between.sum().item() / pairs if pairs else math.nan
    within = _plain_distance(points, means, space.distance).gather(1, labels[:, None])
    mean_within = within.mean().item()
    separation = mean_between / mean_within if mean_within > 0 else math.inf
    return SpaceMetrics(silhouette, accuracy, separation)


# ----------------------------------------------------------------------------- projection


@dataclass(frozen=True)
class Projection:
    """The picture's coordinates: support (N*K, 2), query (N*Q, 2), prototypes (N, 2).

    ``as_is``: a 2-D embedding drawn without projection (its regions can be shaded).
    ``variance_shares``: for PCA, the share of the variance along each axis (a page words
    its own axis titles from them, in its language).
    """

    support: torch.Tensor
    query: torch.Tensor
    prototypes: torch.Tensor
    axis_titles: tuple[str, str]
    method: str
    as_is: bool
    variance_shares: tuple[float, float] | None = None


def check_projection(method: str, points: int, perplexity: float = TSNE_PERPLEXITY) -> None:
    """Raise ValueError unless ``method`` can project ``points`` points (before computing)."""
    if method not in PROJECTIONS:
        raise ValueError(f"projection must be one of {PROJECTIONS}, got {method!r}")
    if points < 3:
        raise ValueError(f"a projection needs at least 3 points, got {points}")
    if method == "tsne":
        if (
            isinstance(perplexity, bool)
            or not isinstance(perplexity, int | float)
            or not 1 <= perplexity <= MAX_PERPLEXITY
        ):
            raise ValueError(
                f"t-SNE perplexity must be a number from 1 to {MAX_PERPLEXITY:g}, "
                f"got {perplexity!r}"
            )
        if perplexity >= points:
            raise ValueError(
                f"t-SNE perplexity {perplexity:g} must be below the number of points shown "
                f"({points}): lower it to at most {max(1, (points - 1) // 3)} (about a third of "
                "the points), or show more points"
            )
    if method == "umap":
        umap_module()


def umap_module():
    """umap-learn's module, or a ValueError that says how to install it."""
    try:
        import umap  # noqa: PLC0415 (optional, and slow to import: numba compiles)
    except ImportError:
        raise ValueError(
            f"UMAP needs the optional umap-learn package, which is not installed here: "
            f"`{UMAP_INSTALL}` (then restart the app). PCA and t-SNE work without it."
        ) from None
    return umap


def project(
    space: EmbeddedEpisode,
    method: str = "pca",
    *,
    perplexity: float = TSNE_PERPLEXITY,
    seed: int = 0,
) -> Projection:
    """``space``'s points in 2-D: as they are for a 2-D embedding, else by ``method``.

    The same ``method``, ``perplexity`` and ``seed`` give the same picture (t-SNE and UMAP
    are initialised from ``seed``); every projection is fitted on this space's own points.

    Raises:
        ValueError: an unknown method, a perplexity the points do not allow, UMAP missing.
    """
    points = torch.cat([space.support, space.query])  # (M, D)
    n_support = space.support.shape[0]
    if space.dim != 2:  # drawn as they are: no method's limits apply
        check_projection(method, points.shape[0], perplexity)
    elif method not in PROJECTIONS:
        raise ValueError(f"projection must be one of {PROJECTIONS}, got {method!r}")
    shares = None
    if space.dim == 2:
        flat, titles, as_is = points, ("embedding 1", "embedding 2"), True
    elif method == "pca":
        mean, directions, variance = principal_plane(points)
        flat = (points - mean) @ directions
        shares = tuple(float(s) for s in variance)
        titles = tuple(f"PC {i + 1} ({100 * s:.0f}% of variance)" for i, s in enumerate(shares))
        as_is = False
    else:
        flat = torch.from_numpy(_nonlinear(points.numpy(), method, perplexity, seed))
        name = PROJECTION_TITLES[method]
        titles, as_is = (f"{name} 1", f"{name} 2"), False
    flat = flat.double()
    support, query = flat[:n_support], flat[n_support:]
    prototypes = class_means(support, space.support_y, space.n_way)
    return Projection(support, query, prototypes, titles, method, as_is, shares)  # type: ignore[arg-type]


def _nonlinear(points: np.ndarray, method: str, perplexity: float, seed: int) -> np.ndarray:
    """t-SNE or UMAP of ``points`` (M, D) -> (M, 2), seeded, on torch's thread count.

    scikit-learn's t-SNE otherwise starts an OpenMP thread per core: on a shared server
    those threads wait for each other (measured: 10x the CPU time of one thread, and 7x
    the wall-clock time, on a busy 2-core machine; BENCHMARKS.md).
    """
    from threadpoolctl import threadpool_limits

    seed = seed % 2**32  # both take a numpy seed
    with threadpool_limits(limits=torch.get_num_threads()):
        if method == "tsne":
            from sklearn.manifold import TSNE

            return TSNE(
                n_components=2, perplexity=float(perplexity), init="pca", random_state=seed
            ).fit_transform(points)
        umap = umap_module()
        neighbours = min(UMAP_NEIGHBOURS, points.shape[0] - 1)
        return umap.UMAP(
            n_components=2, n_neighbors=neighbours, random_state=seed, n_jobs=1
        ).fit_transform(points)
