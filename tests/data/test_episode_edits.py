"""Edited episodes: one support example swapped for another of its class, a query of one's own."""

from __future__ import annotations

import pytest
import torch

from metalearn_core.data.episode_edits import (
    SupportSwap,
    apply_swaps,
    support_index,
    swap_support_example,
    with_query_example,
)
from metalearn_core.data.episodes import ClassificationSource, EpisodeSampler


def numbered_source(classes: int = 4, per_class: int = 6) -> ClassificationSource:
    """Class c's example s is the constant image 10*c + s: every example is unique and
    tells which class it belongs to."""
    examples = [
        torch.full((per_class, 1, 3, 3), 10.0 * c).add(torch.arange(per_class).view(-1, 1, 1, 1))
        for c in range(classes)
    ]
    return ClassificationSource("numbers", "val", examples, [f"class{c}" for c in range(classes)])


@pytest.fixture
def source() -> ClassificationSource:
    return numbered_source()


@pytest.fixture
def episode(source):
    return EpisodeSampler(source, n_way=3, k_shot=2, q_query=2, seed=5).sample()


def test_swap_changes_only_the_chosen_support_example(source, episode):
    swapped = swap_support_example(episode, source, SupportSwap(label=1, shot=1, seed=0))
    row = support_index(episode, 1, 1)
    assert row == 3
    changed = (swapped.support_x != episode.support_x).flatten(1).any(dim=1)
    assert changed.tolist() == [i == row for i in range(6)]
    assert torch.equal(swapped.query_x, episode.query_x)
    assert torch.equal(swapped.support_y, episode.support_y)
    assert swapped.class_names == episode.class_names
    # the new example is of the same class and was nowhere in the episode
    value = swapped.support_x[row].flatten()[0].item()
    assert int(value // 10) == int(episode.support_x[row].flatten()[0].item() // 10)
    held = torch.cat([episode.support_x, episode.query_x]).flatten(1)[:, 0].tolist()
    assert value not in held


def test_swap_is_seeded(source, episode):
    swaps = [SupportSwap(0, 0, seed) for seed in range(12)]
    picks = [swap_support_example(episode, source, s).support_x[0, 0, 0, 0].item() for s in swaps]
    again = [swap_support_example(episode, source, s).support_x[0, 0, 0, 0].item() for s in swaps]
    assert picks == again
    assert len(set(picks)) == 2  # 6 examples, 4 in the episode: two to choose from


def test_apply_swaps_in_turn(source, episode):
    twice = apply_swaps(episode, source, (SupportSwap(2, 0, 1), SupportSwap(0, 1, 2)))
    changed = (twice.support_x != episode.support_x).flatten(1).any(dim=1)
    assert changed.tolist() == [False, True, False, False, True, False]


def test_swap_errors_name_the_problem(source, episode):
    with pytest.raises(ValueError, match="label must be a whole number in 0..2"):
        swap_support_example(episode, source, SupportSwap(3, 0, 0))
    with pytest.raises(ValueError, match="shot must be a whole number in 0..1"):
        swap_support_example(episode, source, SupportSwap(0, -1, 0))
    full = EpisodeSampler(numbered_source(per_class=4), 3, 2, 2, seed=0).sample()
    with pytest.raises(ValueError, match="no example outside the episode"):
        swap_support_example(full, numbered_source(per_class=4), SupportSwap(0, 0, 0))
    other = ClassificationSource("other", "val", [torch.zeros(6, 1, 3, 3)] * 3, ["a", "b", "c"])
    with pytest.raises(ValueError, match="is not in other/val"):
        swap_support_example(episode, other, SupportSwap(0, 0, 0))


def test_with_query_example_replaces_the_first_query(episode):
    example = torch.full((1, 3, 3), -1.0)
    edited = with_query_example(episode, example)
    assert torch.equal(edited.query_x[0], example)
    assert torch.equal(edited.query_x[1:], episode.query_x[1:])
    assert torch.equal(edited.support_x, episode.support_x)
    with pytest.raises(ValueError, match="input shape"):
        with_query_example(episode, torch.zeros(1, 4, 4))


def test_placed_support_points_replace_a_regression_support_set():
    from metalearn_core.data.episode_edits import with_support_set
    from metalearn_core.data.sinusoid import SinusoidSource

    episode = EpisodeSampler(SinusoidSource("val"), 1, 5, 4, seed=0).sample()
    points_x, points_y = torch.tensor([[-1.0], [2.0]]), torch.tensor([[0.5], [-3.0]])
    placed = with_support_set(episode, points_x, points_y)
    assert placed.k_shot == 2 and torch.equal(placed.support_y, points_y)
    assert (
        torch.equal(placed.query_x, episode.query_x) and placed.task_params == episode.task_params
    )
    with pytest.raises(ValueError, match="1 to 100"):
        with_support_set(episode, torch.zeros(0, 1), torch.zeros(0, 1))
    with pytest.raises(ValueError, match="finite"):
        with_support_set(episode, torch.tensor([[float("nan")]]), torch.zeros(1, 1))
    with pytest.raises(ValueError, match="targets"):
        with_support_set(episode, torch.zeros(2, 1), torch.zeros(2))
    classification = EpisodeSampler(numbered_source(), 3, 2, 2, seed=5).sample()
    with pytest.raises(ValueError, match="only a regression episode"):
        with_support_set(classification, torch.zeros(1, 1, 3, 3), torch.zeros(1, 1))


def test_placed_points_replace_the_support_of_their_classes_only():
    from metalearn_core.data.episode_edits import with_placed_support
    from metalearn_core.data.episodes import Episode

    support_x = torch.tensor(
        [[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.5, 5.0], [9.0, 0.0], [9.1, 0.0]]
    )
    episode = Episode(
        support_x, torch.tensor([0, 0, 1, 1, 2, 2]), torch.zeros(3, 2), torch.tensor([0, 1, 2]),
        n_way=3, k_shot=2, q_query=1,
    )  # fmt: skip
    placed = with_placed_support(
        episode, torch.tensor([[-1.0, 2.0], [3.0, 3.0], [3.0, 4.0]]), torch.tensor([2, 0, 0])
    )
    assert placed.support_y.tolist() == [0, 0, 1, 1, 2]  # still class by class
    assert placed.support_x.tolist() == [
        [3.0, 3.0],
        [3.0, 4.0],
        [5.0, 5.0],
        [5.5, 5.0],
        [-1.0, 2.0],
    ]
    assert torch.equal(placed.query_x, episode.query_x)
    with pytest.raises(ValueError, match="0..2"):
        with_placed_support(episode, torch.zeros(1, 2), torch.tensor([3]))
    with pytest.raises(ValueError, match="input shape"):
        with_placed_support(episode, torch.zeros(1, 3), torch.tensor([0]))
    with pytest.raises(ValueError, match="1 to 100"):
        with_placed_support(episode, torch.zeros(101, 2), torch.zeros(101, dtype=torch.int64))
