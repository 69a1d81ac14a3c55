"""Prototypical Networks: logits against the formula, cosine option, learning on blobs,
other N, statelessness and checkpoints."""

from __future__ import annotations

import copy

import pytest
import torch

from metalearn_core.algorithms import make_learner
from metalearn_core.algorithms.internals import EmbeddingView, PrototypeDistances
from metalearn_core.algorithms.protonet import ProtoNetHyperparameters, prototype_logits
from metalearn_core.data import EpisodeSampler, load_task_source
from metalearn_core.spec import ProblemSpec

IMAGES = ProblemSpec("classification", (1, 8, 8), n_way=5, width=8)


def test_logits_are_minus_squared_euclidean_distances_to_class_means():
    support = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [0.0, 2.0]])
    support_y = torch.tensor([0, 0, 1, 1])
    query = torch.tensor([[1.0, 1.0], [3.0, 3.0]])
    logits, prototypes, distances = prototype_logits(support, support_y, query, 2)
    # class means (1, 0) and (0, 3); by hand: |(1,1)-(1,0)|^2 = 1, |(1,1)-(0,3)|^2 = 5, ...
    torch.testing.assert_close(prototypes, torch.tensor([[1.0, 0.0], [0.0, 3.0]]))
    torch.testing.assert_close(distances, torch.tensor([[1.0, 5.0], [13.0, 9.0]]))
    torch.testing.assert_close(logits, -distances)


def test_cosine_distance_is_one_minus_cosine_to_the_means():
    support = torch.tensor([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0]])
    support_y = torch.tensor([0, 0, 1])
    query = torch.tensor([[1.0, 1.0]])
    logits, _, distances = prototype_logits(support, support_y, query, 2, "cosine")
    expected = 1 - torch.tensor([[1 / 2**0.5, 1 / 2**0.5]])
    torch.testing.assert_close(distances, expected)
    torch.testing.assert_close(logits, -expected)


def test_adapt_internals_are_consistent_with_the_embeddings(tiny):
    learner = make_learner("protonet", IMAGES, seed=0)
    episode = EpisodeSampler(tiny.image_source(), 3, 2, 4, seed=0).sample()
    adaptation = learner.adapt(episode)
    view, distances = adaptation.find(EmbeddingView), adaptation.find(PrototypeDistances)
    assert view.support.shape == (6, learner.model.embedding_dim)
    assert view.prototypes.shape == (3, learner.model.embedding_dim)
    torch.testing.assert_close(view.prototypes[1], view.support[2:4].mean(dim=0))
    by_hand = ((view.query[:, None] - view.prototypes[None]) ** 2).sum(-1)
    torch.testing.assert_close(distances.distances, by_hand, rtol=1e-4, atol=1e-4)
    assert view.region_distance == distances.distance == "euclidean"
    assert "squared Euclidean distance" in distances.caption
    assert adaptation.query_prediction.shape == (12, 3)


def test_adapt_leaves_batch_norm_statistics_and_weights_untouched(tiny):
    learner = make_learner("protonet", IMAGES, seed=0)
    learner.train()
    sampler = EpisodeSampler(tiny.image_source(), 5, 1, 3, seed=0)
    state = copy.deepcopy(learner.state_dict())  # state_dict may share live tensors
    first = learner.adapt(sampler.sample())
    learner.adapt(sampler.sample())
    for name, value in learner.model.state_dict().items():
        assert torch.equal(value, state["model"][name]), name
    del first


def test_protonet_reaches_90_percent_on_5_way_1_shot_blobs():
    spec = ProblemSpec("classification", (2,), n_way=5, backbone="mlp")
    learner = make_learner("protonet", spec, seed=0)
    train = EpisodeSampler(load_task_source("blobs", "train", seed=0), 5, 1, 15, seed=0)
    for _ in range(300):
        learner.meta_train_step(train.sample_batch(1))
    learner.eval()
    val = EpisodeSampler(load_task_source("blobs", "val", seed=0), 5, 1, 15, seed=1)
    accuracy = sum(learner.adapt(val.sample()).query_accuracy for _ in range(100)) / 100
    assert accuracy >= 0.90


def test_lr_halves_on_schedule_and_checkpoints_round_trip(tiny):
    learner = make_learner("protonet", IMAGES, {"lr_halve_every": 2}, seed=0)
    sampler = EpisodeSampler(tiny.image_source(), 5, 1, 2, seed=0)
    for _ in range(4):
        learner.meta_train_step(sampler.sample_batch(1))
    assert learner.optimizer.param_groups[0]["lr"] == pytest.approx(1e-3 / 4)
    copy = make_learner("protonet", IMAGES, {"lr_halve_every": 2}, seed=5)
    copy.load_state_dict(learner.state_dict())
    batch = sampler.sample_batch(1)
    assert copy.meta_train_step(batch).loss == learner.meta_train_step(batch).loss
    assert copy.optimizer.param_groups[0]["lr"] == learner.optimizer.param_groups[0]["lr"]


def test_bad_distance_raises_naming_the_choices():
    with pytest.raises(ValueError, match="distance=.manhattan. is invalid: must be one of"):
        ProtoNetHyperparameters(distance="manhattan")
    with pytest.raises(ValueError, match="lr_halve_every"):
        ProtoNetHyperparameters(lr_halve_every=-1)


def test_probe_points_are_scored_like_queries_in_eval_mode(tiny):
    learner = make_learner("protonet", IMAGES, seed=0)
    learner.eval()  # running batch-norm statistics: each image embedded on its own
    episode = EpisodeSampler(tiny.image_source(), 4, 2, 3, seed=2).sample()
    adaptation = learner.adapt(episode, probe_x=episode.query_x)
    torch.testing.assert_close(adaptation.probe_prediction, adaptation.query_prediction)
