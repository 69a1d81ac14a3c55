"""Attentive sequence learner: set invariance, attention bookkeeping, any N, learning."""

from __future__ import annotations

import copy

import pytest
import torch

from metalearn_core.algorithms.internals import AttentionView
from metalearn_core.algorithms.snail import SNAILHyperparameters, SNAILLearner
from metalearn_core.data import load_task_source
from metalearn_core.data.episodes import Episode, EpisodeBatch, EpisodeSampler
from metalearn_core.spec import ProblemSpec

POINTS = ProblemSpec("classification", (2,), 3, backbone="mlp")
IMAGES = ProblemSpec("classification", (1, 8, 8), 3, backbone="conv4", width=8)
SMALL = {"d_model": 16, "heads": 2, "layers": 2, "max_n_way": 6}


def make_learner(spec: ProblemSpec, seed: int = 0, **changes) -> SNAILLearner:
    torch.manual_seed(seed)
    return SNAILLearner(spec, SNAILHyperparameters(**(SMALL | changes)))


def random_episode(
    spec: ProblemSpec, n_way: int, k_shot: int, q_query: int, seed: int = 0
) -> Episode:
    generator = torch.Generator().manual_seed(seed)
    support_x = torch.randn(n_way * k_shot, *spec.input_shape, generator=generator)
    query_x = torch.randn(n_way * q_query, *spec.input_shape, generator=generator)
    labels = torch.arange(n_way)
    return Episode(
        support_x, labels.repeat_interleave(k_shot), query_x, labels.repeat_interleave(q_query),
        n_way, k_shot, q_query,
    )  # fmt: skip


def shuffled_support(episode: Episode, seed: int) -> Episode:
    order = torch.randperm(len(episode.support_y), generator=torch.Generator().manual_seed(seed))
    return Episode(
        episode.support_x[order], episode.support_y[order], episode.query_x, episode.query_y,
        episode.n_way, episode.k_shot, episode.q_query,
    )  # fmt: skip


@pytest.mark.parametrize("spec", [POINTS, IMAGES], ids=["mlp", "conv4"])
def test_predictions_do_not_depend_on_the_order_of_the_support_set(spec):
    learner = make_learner(spec)
    episode = random_episode(spec, 3, 2, 2)
    a, b = learner.adapt(episode), learner.adapt(shuffled_support(episode, seed=1))
    torch.testing.assert_close(a.query_prediction, b.query_prediction, atol=1e-5, rtol=1e-5)
    # the attention moves with the support items it belongs to
    order = torch.randperm(6, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(
        a.find(AttentionView).attention[:, order], b.find(AttentionView).attention
    )


def test_each_query_is_answered_alone_queries_do_not_see_each_other():
    learner = make_learner(POINTS)
    episode = random_episode(POINTS, 3, 2, 2)
    together = learner.adapt(episode).query_prediction
    for j in range(len(episode.query_y)):
        alone = Episode(
            episode.support_x, episode.support_y, episode.query_x[j : j + 1],
            episode.query_y[j : j + 1], 3, 2, 1,
        )  # fmt: skip
        torch.testing.assert_close(learner.adapt(alone).query_prediction[0], together[j])


def test_attention_rows_are_distributions_and_class_attention_sums_them_by_label():
    learner = make_learner(POINTS)
    episode = random_episode(POINTS, 3, 2, 4)
    view = learner.adapt(episode).find(AttentionView)
    attention = view.attention
    assert attention.shape == (12, 6)
    assert view.per_layer.shape == (2, 12, 6)
    torch.testing.assert_close(attention.sum(1), torch.ones(12))
    for c in range(3):
        by_hand = sum(attention[:, i] for i in range(6) if episode.support_y[i] == c)
        torch.testing.assert_close(view.class_attention[:, c], by_hand)


@pytest.mark.parametrize("n_way", [2, 3, 6])
def test_reads_any_n_up_to_max_n_way_and_rejects_more(n_way):
    learner = make_learner(POINTS)  # trained N is 3
    out = learner.adapt(random_episode(POINTS, n_way, 1, 2))
    assert out.query_prediction.shape == (2 * n_way, n_way)
    with pytest.raises(ValueError, match=r"n_way=7 is larger than max_n_way=6"):
        learner.adapt(random_episode(POINTS, 7, 1, 2))


def test_adapt_leaves_weights_and_batch_norm_statistics_untouched():
    learner = make_learner(IMAGES)
    learner.train()  # training-mode batch norm would update running statistics
    before = copy.deepcopy(learner.network.state_dict())
    learner.adapt(random_episode(IMAGES, 3, 2, 2))
    for name, value in learner.network.state_dict().items():
        torch.testing.assert_close(value, before[name], msg=name)


def test_training_shuffles_labels_into_all_slots():
    """Label c of a training episode lands in a random slot, so more than N slots train."""
    learner = make_learner(POINTS, meta_batch=8)
    before = learner.network.label_slots.weight.detach().clone()  # (max_n_way + 1, d)
    batch = EpisodeBatch.stack([random_episode(POINTS, 3, 1, 2, seed=s) for s in range(8)])
    learner.meta_train_step(batch)
    moved = (learner.network.label_slots.weight - before).abs().sum(1) > 0
    assert int(moved[:6].sum()) > 3  # each episode has only labels 0..2
    assert bool(moved[6])  # the queries' "label unknown" slot


def learn(dataset: str, spec: ProblemSpec, steps: int, **changes) -> float:
    train = load_task_source(dataset, "train", seed=0)
    val = load_task_source(dataset, "val", seed=0)
    learner = make_learner(spec, **changes)
    sampler = EpisodeSampler(train, spec.n_way, 1, 5, seed=0)
    for _ in range(steps):
        learner.meta_train_step(sampler.sample_batch(learner.hparams.meta_batch))
    learner.eval()
    held_out = EpisodeSampler(val, spec.n_way, 1, 5, seed=1)
    return sum(learner.adapt(held_out.sample()).query_accuracy for _ in range(40)) / 40


def test_learns_blobs_above_chance():
    spec = ProblemSpec("classification", (2,), 5, backbone="mlp")
    accuracy = learn("blobs", spec, 200, d_model=32, meta_batch=8)
    assert accuracy > 0.5  # chance is 0.2


def test_learns_digits_above_chance():
    spec = ProblemSpec("classification", (1, 8, 8), 5, backbone="conv4", width=16)
    accuracy = learn("digits", spec, 200, d_model=32, meta_batch=4, outer_lr=3e-3)
    assert accuracy > 0.35  # chance is 0.2; 40 episodes x 25 queries


def test_state_dict_round_trip_continues_identically():
    first, second = make_learner(POINTS, seed=0), make_learner(POINTS, seed=1)
    batches = [
        EpisodeBatch.stack([random_episode(POINTS, 3, 1, 2, seed=10 * b + s) for s in range(2)])
        for b in range(3)
    ]
    first.meta_train_step(batches[0])
    second.load_state_dict(first.state_dict())  # live tensors: nothing may stay shared
    for batch in batches[1:]:  # same slot shuffle, same weights, same optimiser moments
        assert first.meta_train_step(batch).loss == second.meta_train_step(batch).loss


def test_rejects_regression_a_too_large_training_n_and_bad_heads():
    with pytest.raises(ValueError, match="classification"):
        SNAILLearner(ProblemSpec("regression", (1,), 1, backbone="mlp"))
    with pytest.raises(ValueError, match="n_way=30 is larger than max_n_way=20"):
        SNAILLearner(ProblemSpec("classification", (2,), 30, backbone="mlp"))
    with pytest.raises(ValueError, match="heads=3 must divide d_model=16"):
        SNAILHyperparameters(d_model=16, heads=3)
