"""metalearn_core.embedding_space: examples, embeddings, numbers and projections."""

from __future__ import annotations

import math
import sys

import pytest
import torch

from metalearn_core import embedding_space as es
from metalearn_core.algorithms import make_learner
from metalearn_core.data import load_task_source
from metalearn_core.engine import RunConfig, Trainer
from metalearn_core.spec import ProblemSpec


@pytest.fixture(scope="module")
def glyphs_val():
    return load_task_source("glyphs", "val")


@pytest.fixture(scope="module")
def protonet_run():
    config = RunConfig(
        dataset="glyphs", algo="protonet", n_way=3, k_shot=1, q_query=2, width=8, val_every=0
    )
    trainer = Trainer(config)
    trainer.run_tick(max_iterations=3)
    return trainer


def _space(support, support_y, query, query_y, n_way, distance="euclidean"):
    t = torch.tensor
    return es.EmbeddedEpisode(
        t(support, dtype=torch.float64), t(support_y), t(query, dtype=torch.float64),
        t(query_y), n_way, distance,
    )  # fmt: skip


# ----------------------------------------------------------------------------- examples


def test_examples_are_drawn_reproducibly_class_by_class(glyphs_val):
    episode = es.draw_examples(glyphs_val, n_classes=50, k_shot=5, q_query=5, seed=3)
    assert episode.support_x.shape == (250, 1, 28, 28) and episode.query_x.shape[0] == 250
    assert episode.support_y.tolist() == [c for c in range(50) for _ in range(5)]
    again = es.draw_examples(glyphs_val, n_classes=50, k_shot=5, q_query=5, seed=3)
    assert torch.equal(episode.support_x, again.support_x)
    assert episode.class_names == again.class_names and len(set(episode.class_names)) == 50
    other = es.draw_examples(glyphs_val, n_classes=50, k_shot=5, q_query=5, seed=4)
    assert not torch.equal(episode.support_x, other.support_x)


def test_bad_example_choices_say_what_is_wrong(glyphs_val):
    with pytest.raises(ValueError, match=r"50 classes x \(5 support \+ 6 query\) = 550 points"):
        es.draw_examples(glyphs_val, 50, 5, 6)
    with pytest.raises(ValueError, match="classes must be a whole number from 2 to 50"):
        es.draw_examples(glyphs_val, 51, 1, 1)
    with pytest.raises(ValueError, match="the data holds fewer examples than asked.*20 examples"):
        es.draw_examples(glyphs_val, 10, 15, 10)  # glyphs have 20 examples per class
    with pytest.raises(ValueError, match="fewer examples than asked.*8 classes"):
        es.draw_examples(load_task_source("digits", "val"), 20, 1, 1)
    with pytest.raises(ValueError, match="regression data set"):
        es.draw_examples(load_task_source("sinusoid", "val"), 2, 1, 1)
    with pytest.raises(ValueError, match="support examples per class"):
        es.draw_examples(glyphs_val, 5, True, 1)


# ----------------------------------------------------------------------------- embeddings


def test_nearest_prototype_is_what_protonet_predicts(protonet_run, glyphs_val):
    episode = es.draw_examples(glyphs_val, 20, 3, 4, seed=1)
    space = es.embed(protonet_run.learner, episode)
    assert space.support.shape == (60, 8) and space.query.shape == (80, 8)  # 8 filters, 1x1
    learner = protonet_run.learner
    learner.eval()
    predicted = learner.adapt(episode).query_prediction.argmax(1)
    learner.train()
    assert torch.equal(space.nearest, predicted)
    assert learner.model.training  # the trainer's mode is given back


def test_initial_and_trained_embed_the_same_examples(protonet_run, glyphs_val):
    episode = es.draw_examples(glyphs_val, 5, 2, 2, seed=0)
    initial = protonet_run.initial_learner()
    spaces = es.embed_learners({"initial": initial, "trained": protonet_run.learner}, episode)
    assert list(spaces) == ["initial", "trained"]
    for name, learner in (("initial", initial), ("trained", protonet_run.learner)):
        alone = es.embed(learner, episode)
        assert torch.equal(spaces[name].support, alone.support)
        assert torch.equal(spaces[name].support_y, episode.support_y)
    assert not torch.allclose(spaces["initial"].support, spaces["trained"].support)
    with pytest.raises(ValueError, match="no learner"):
        es.embed_learners({}, episode)


def test_learners_without_an_embedding_are_refused(glyphs_val):
    spec = ProblemSpec("classification", (1, 28, 28), n_way=3, width=8)
    snail = make_learner("snail", spec)
    assert "no embedding of single examples" in es.embedding_unavailable(snail)
    with pytest.raises(ValueError, match="no embedding of single examples"):
        es.embed(snail, es.draw_examples(glyphs_val, 3, 1, 1))
    regression = make_learner("maml", ProblemSpec("regression", (1,), 1, backbone="mlp"))
    assert "regression" in es.embedding_unavailable(regression)
    protonet = make_learner("protonet", spec)
    with pytest.raises(ValueError, match="adapts no weights per task"):
        es.inner_steps_before_after(protonet, es.draw_examples(glyphs_val, 3, 1, 1))


@pytest.mark.parametrize(("algo", "steps", "moves"), [("maml", 1, False), ("maml", 2, True)])
def test_maml_features_move_only_after_the_first_inner_step(glyphs_val, algo, steps, moves):
    spec = ProblemSpec("classification", (1, 28, 28), n_way=3, width=8)
    learner = make_learner(algo, spec, {"inner_steps_test": steps})
    episode = es.draw_examples(glyphs_val, 3, 2, 2)
    before, after = es.inner_steps_before_after(learner, episode)
    assert torch.equal(before.support_y, after.support_y)
    # the zero head has no gradient for the body: step 1 moves the head alone
    assert (not torch.equal(before.support, after.support)) == moves
    assert torch.equal(before.support, es.embed(learner, episode).support)


# ----------------------------------------------------------------------------- numbers


def test_metrics_follow_their_formulas():
    # class 0 around (0, 1), class 1 around (10, 1); one query each, on its class mean
    space = _space([[0, 0], [0, 2], [10, 0], [10, 2]], [0, 0, 1, 1], [[0, 1], [10, 1]], [0, 1], 2)
    metrics = es.space_metrics(space)
    assert metrics.prototype_accuracy == 1.0
    # between: |c0 - c1| = 10; within: distances to the class mean 1, 1, 0 per class
    assert metrics.separation == pytest.approx(10 / (2 / 3))
    points = torch.tensor([[0, 0], [0, 2], [10, 0], [10, 2], [0, 1], [10, 1]], dtype=torch.float64)
    labels = torch.tensor([0, 0, 1, 1, 0, 1])
    distances = torch.cdist(points, points)
    silhouettes = []
    for i in range(6):
        same = (labels == labels[i]) & (torch.arange(6) != i)
        a = distances[i, same].mean()
        b = distances[i, labels != labels[i]].mean()
        silhouettes.append(((b - a) / max(a, b)).item())
    assert metrics.silhouette == pytest.approx(sum(silhouettes) / 6)


def test_a_query_nearer_another_class_counts_wrong():
    space = _space([[0, 0], [4, 0]], [0, 1], [[3, 0], [1, 0], [5, 0]], [0, 0, 1], 2)
    assert space.nearest.tolist() == [1, 0, 1]
    assert es.space_metrics(space).prototype_accuracy == pytest.approx(2 / 3)


def test_one_point_per_class_has_no_silhouette():
    metrics = es.space_metrics(_space([[0, 0], [4, 0]], [0, 1], [[0, 1], [4, 1]], [0, 1], 2))
    assert not math.isnan(metrics.silhouette)  # two points per class: defined
    lonely = es.EmbeddedEpisode(
        torch.zeros(2, 2, dtype=torch.float64), torch.tensor([0, 1]),
        torch.zeros(0, 2, dtype=torch.float64), torch.zeros(0, dtype=torch.long), 2, "euclidean",
    )  # fmt: skip
    assert math.isnan(es.space_metrics(lonely).silhouette)


# ----------------------------------------------------------------------------- projections


def _cloud(dim: int, seed: int = 0, classes: int = 4, per_class: int = 10):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, dim, generator=g, dtype=torch.float64) * 5
    labels = torch.arange(classes).repeat_interleave(per_class)
    points = centres[labels] + torch.randn(len(labels), dim, generator=g, dtype=torch.float64)
    half = per_class // 2
    support = torch.cat([points[labels == c][:half] for c in range(classes)])
    query = torch.cat([points[labels == c][half:] for c in range(classes)])
    y = torch.arange(classes).repeat_interleave(half)
    return es.EmbeddedEpisode(support, y, query, y.clone(), classes, "euclidean")


def test_a_two_dimensional_embedding_is_drawn_as_it_is():
    space = _cloud(2)
    projection = es.project(space, "tsne", perplexity=500)  # the method does not apply
    assert projection.as_is and projection.axis_titles == ("embedding 1", "embedding 2")
    assert torch.equal(projection.support, space.support)
    assert torch.allclose(projection.prototypes, space.prototypes)


def test_pca_prototypes_are_the_projected_class_means():
    space = _cloud(16)
    projection = es.project(space, "pca")
    assert not projection.as_is and projection.axis_titles[0].startswith("PC 1 (")
    assert projection.support.shape == (20, 2) and projection.query.shape == (20, 2)
    # PCA is linear: the mean of the projected points is the projected mean
    means = torch.stack([projection.support[space.support_y == c].mean(0) for c in range(4)])
    assert torch.allclose(projection.prototypes, means)


def test_tsne_is_seeded_and_keeps_clusters_apart():
    space = _cloud(16)
    first = es.project(space, "tsne", perplexity=5, seed=1)
    again = es.project(space, "tsne", perplexity=5, seed=1)
    assert torch.equal(first.support, again.support)
    assert first.axis_titles == ("t-SNE 1", "t-SNE 2")
    pictured = es.EmbeddedEpisode(
        first.support, space.support_y, first.query, space.query_y, 4, "euclidean"
    )
    assert es.space_metrics(pictured).prototype_accuracy == 1.0  # far-apart clusters stay apart


def test_bad_projection_choices_say_what_is_wrong(monkeypatch):
    space = _cloud(16, per_class=4)  # 16 points
    with pytest.raises(ValueError, match=r"perplexity 30 must be below the number of points.*16"):
        es.project(space, "tsne")
    with pytest.raises(ValueError, match="perplexity must be a number from 1 to 100"):
        es.project(space, "tsne", perplexity=0)
    with pytest.raises(ValueError, match="projection must be one of"):
        es.project(space, "isomap")
    monkeypatch.setitem(sys.modules, "umap", None)  # import umap raises ImportError
    with pytest.raises(ValueError, match="pip install umap-learn"):
        es.project(space, "umap")
