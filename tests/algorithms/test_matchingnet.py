"""Matching Networks: attention is a distribution over the support set and the prediction
is the attention-weighted one-hot labels; FCE; learning on blobs."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from metalearn_core.algorithms import make_learner
from metalearn_core.algorithms.internals import AttentionView, EmbeddingView
from metalearn_core.algorithms.matchingnet import (
    MatchingNetHyperparameters,
    attention_log_probabilities,
)
from metalearn_core.data import EpisodeSampler, load_task_source
from metalearn_core.spec import ProblemSpec

IMAGES = ProblemSpec("classification", (1, 8, 8), n_way=5, width=8)


def test_log_probabilities_sum_attention_within_each_class():
    logits = torch.log(torch.tensor([[1.0, 2.0, 3.0, 4.0]]))  # softmax: 0.1 0.2 0.3 0.4
    support_y = torch.tensor([1, 0, 1, 2])
    log_p, attention = attention_log_probabilities(logits, support_y, 3)
    torch.testing.assert_close(attention, torch.tensor([[0.1, 0.2, 0.3, 0.4]]))
    torch.testing.assert_close(log_p.exp(), torch.tensor([[0.2, 0.4, 0.4]]))


@pytest.mark.parametrize("learned", [False, True])
@pytest.mark.parametrize("fce", [False, True])
@pytest.mark.parametrize("distance", ["cosine", "euclidean"])
def test_attention_rows_sum_to_one_and_predict_weighted_one_hot_labels(
    tiny, fce, distance, learned
):
    hparams = {"full_context_embeddings": fce, "distance": distance}
    hparams["learn_attention_scale"] = learned
    learner = make_learner("matchingnet", IMAGES, hparams, seed=0)
    episode = EpisodeSampler(tiny.image_source(), 4, 2, 3, seed=0).sample()
    adaptation = learner.adapt(episode)
    attention = adaptation.find(AttentionView).attention
    assert attention.shape == (12, 8)
    torch.testing.assert_close(attention.sum(dim=1), torch.ones(12))
    weighted_labels = attention @ F.one_hot(episode.support_y, 4).float()  # (NQ, N)
    torch.testing.assert_close(adaptation.query_prediction.exp(), weighted_labels)
    # cosine attention by hand, from the returned (context) embeddings
    s, q = adaptation.find(EmbeddingView).support, adaptation.find(EmbeddingView).query
    if distance == "cosine":
        similarity = F.normalize(q, dim=1) @ F.normalize(s, dim=1).T
    else:
        similarity = -(torch.cdist(q, s) ** 2)
    torch.testing.assert_close(attention, similarity.softmax(dim=1), rtol=1e-4, atol=1e-5)
    # In eval mode (running batch-norm statistics) probes are classified exactly like queries.
    learner.eval()
    adaptation = learner.adapt(episode, probe_x=episode.query_x)
    torch.testing.assert_close(adaptation.probe_prediction, adaptation.query_prediction)


def test_matching_networks_reach_90_percent_on_5_way_1_shot_blobs():
    spec = ProblemSpec("classification", (2,), n_way=5, backbone="mlp")
    # A sharper softmax over cosine similarities trains much faster on 2-D blobs.
    learner = make_learner("matchingnet", spec, {"attention_scale": 10.0, "outer_lr": 3e-3}, seed=0)
    train = EpisodeSampler(load_task_source("blobs", "train", seed=0), 15, 1, 5, seed=0)
    for _ in range(300):
        learner.meta_train_step(train.sample_batch(1))
    learner.eval()
    val = EpisodeSampler(load_task_source("blobs", "val", seed=0), 5, 1, 15, seed=1)
    accuracy = sum(learner.adapt(val.sample()).query_accuracy for _ in range(100)) / 100
    assert accuracy >= 0.90


def test_checkpoint_round_trip_with_fce(tiny):
    hparams = {"full_context_embeddings": True}
    learner = make_learner("matchingnet", IMAGES, hparams, seed=0)
    sampler = EpisodeSampler(tiny.image_source(), 5, 1, 2, seed=0)
    learner.meta_train_step(sampler.sample_batch(2))
    copy = make_learner("matchingnet", IMAGES, hparams, seed=3)
    copy.load_state_dict(learner.state_dict())
    batch = sampler.sample_batch(2)
    assert copy.meta_train_step(batch).loss == learner.meta_train_step(batch).loss


def test_bad_hyperparameters_raise():
    with pytest.raises(ValueError, match="fce_steps"):
        MatchingNetHyperparameters(fce_steps=0)
    with pytest.raises(ValueError, match="distance"):
        MatchingNetHyperparameters(distance="dot")


def test_cosine_attention_at_scale_one_cannot_pass_its_ceiling(tiny):
    # ReLU features have cosines in [0, 1]: one support example gets at most e / (e + NK - 1)
    learner = make_learner("matchingnet", IMAGES, {}, seed=0)
    episode = EpisodeSampler(tiny.image_source(), 5, 1, 3, seed=0).sample()
    adaptation = learner.adapt(episode)
    ceiling = math.e / (math.e + 4)
    assert adaptation.find(AttentionView).attention.max() <= ceiling + 1e-6
    assert adaptation.query_loss >= -math.log(ceiling) - 1e-6
    assert adaptation.find(AttentionView).scale == 1.0


def test_learned_attention_scale_trains_saves_and_scales_the_softmax(tiny):
    hparams = {"learn_attention_scale": True, "attention_scale": 2.0, "outer_lr": 0.05}
    learner = make_learner("matchingnet", IMAGES, hparams, seed=0)
    sampler = EpisodeSampler(tiny.image_source(), 5, 1, 3, seed=0)
    episode = sampler.sample()
    assert learner.adapt(episode).find(AttentionView).scale == pytest.approx(2.0)
    for _ in range(3):
        learner.meta_train_step(sampler.sample_batch(2))
    adaptation = learner.adapt(episode)
    scale = adaptation.find(AttentionView).scale
    assert scale != pytest.approx(2.0)  # trained with the network
    support = adaptation.find(EmbeddingView).support
    query = adaptation.find(EmbeddingView).query
    expected = (scale * F.cosine_similarity(query[:, None], support[None], dim=-1)).softmax(-1)
    torch.testing.assert_close(adaptation.find(AttentionView).attention, expected)
    copy = make_learner("matchingnet", IMAGES, hparams, seed=3)
    copy.load_state_dict(learner.state_dict())
    assert copy.adapt(episode).find(AttentionView).scale == pytest.approx(scale)


def test_a_learned_scale_takes_the_loss_below_the_fixed_scales_floor():
    spec = ProblemSpec("classification", (2,), n_way=5, backbone="mlp")
    train = load_task_source("blobs", "train", seed=0)
    val = EpisodeSampler(load_task_source("blobs", "val", seed=0), 5, 1, 15, seed=1)
    episodes = [val.sample() for _ in range(50)]
    losses = {}
    for learned in (False, True):
        hparams = {"learn_attention_scale": learned, "outer_lr": 3e-3}
        learner = make_learner("matchingnet", spec, hparams, seed=0)
        sampler = EpisodeSampler(train, 15, 1, 5, seed=0)
        for _ in range(200):
            learner.meta_train_step(sampler.sample_batch(1))
        learner.eval()
        losses[learned] = sum(learner.adapt(e).query_loss for e in episodes) / len(episodes)
    assert losses[False] > -math.log(math.e / (math.e + 4)) - 1e-6
    assert losses[True] < 0.5 < losses[False]
