"""Matching Networks' weights and Prototypical Networks' prototypes, against their formulas."""

from __future__ import annotations

import math

import pytest
import torch

from metalearn_core.lessons import metric

SUPPORT = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [1.0, 1.0]])
LABELS = torch.tensor([0, 0, 1, 1])


def test_cosine_is_the_dot_product_over_the_norms():
    query = torch.tensor([[2.0, 1.0]])
    cosines = metric.cosine_similarities(query, SUPPORT)
    for i, s in enumerate(SUPPORT):
        expected = float(query[0] @ s) / (float(query[0].norm()) * float(s.norm()))
        assert cosines[0, i].item() == pytest.approx(expected)
    # only the direction counts
    assert torch.allclose(metric.cosine_similarities(5 * query, SUPPORT), cosines)


def test_the_articles_prediction_sums_cosines_per_class_and_may_be_negative():
    query = torch.tensor([[-1.0, 0.0]])
    cosines = metric.cosine_similarities(query, SUPPORT)
    scores = metric.article_prediction(cosines, LABELS, 2)[0]
    assert scores[0].item() == pytest.approx(-1.0 + 0.0)
    assert scores[1].item() == pytest.approx(1.0 - 1 / math.sqrt(2))


def test_the_softmax_attention_is_a_distribution_that_sharpens_with_its_scale():
    cosines = metric.cosine_similarities(torch.tensor([[1.0, 0.2]]), SUPPORT)
    soft = metric.softmax_attention(cosines, 1.0)
    assert soft.sum().item() == pytest.approx(1.0) and (soft > 0).all()
    expected = torch.exp(cosines[0]) / torch.exp(cosines[0]).sum()
    assert torch.allclose(soft[0], expected)
    sharp = metric.softmax_attention(cosines, 100.0)
    assert sharp[0].argmax() == cosines[0].argmax() and sharp.max().item() > 0.99
    probabilities = metric.attention_prediction(soft, LABELS, 2)
    assert probabilities.sum().item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="scale"):
        metric.softmax_attention(cosines, 0.0)


def test_a_prototype_is_the_mean_of_its_class():
    centres = metric.prototypes(SUPPORT, LABELS, 2)
    assert torch.allclose(centres, torch.tensor([[0.5, 1.0], [-1.0, 0.5]]))
    with pytest.raises(ValueError, match="no support point"):
        metric.prototypes(SUPPORT, torch.tensor([0, 0, 0, 0]), 2)
    with pytest.raises(ValueError, match="labels"):
        metric.prototypes(SUPPORT, torch.tensor([0, 1, 2, 5]), 2)


def test_prototype_probabilities_equal_the_linear_form_of_the_paper():
    # −‖x − c_k‖² = −xᵀx + 2c_kᵀx − c_kᵀc_k: the softmax only sees weights 2c_k and bias −‖c_k‖².
    centres = metric.prototypes(SUPPORT, LABELS, 2)
    query = torch.tensor([[0.3, -0.7], [2.0, 2.0]])
    linear = (2 * query @ centres.T - (centres**2).sum(dim=1)).softmax(dim=-1)
    assert torch.allclose(metric.prototype_probabilities(query, centres), linear, atol=1e-6)


def test_the_region_grid_labels_each_cell_with_its_nearest_prototype():
    centres = torch.tensor([[-1.0, 0.0], [1.0, 0.0]])
    axis, grid = metric.nearest_prototype_grid(centres, extent=2.0, resolution=5)
    assert axis.tolist() == [-2.0, -1.0, 0.0, 1.0, 2.0]
    assert grid[:, 0].tolist() == [0] * 5 and grid[:, 4].tolist() == [1] * 5
    with pytest.raises(ValueError, match="resolution"):
        metric.nearest_prototype_grid(centres, 2.0, resolution=10_000)


def test_placed_prototypes_cover_only_the_classes_with_points():
    from metalearn_core.lessons.metric import placed_prototypes

    points = torch.tensor([[0.0, 0.0], [2.0, 2.0], [-1.0, 3.0]])
    classes, centres = placed_prototypes(points, torch.tensor([2, 2, 0]), n_way=3)
    assert classes.tolist() == [0, 2]
    assert centres.tolist() == [[-1.0, 3.0], [1.0, 1.0]]
    # a new point of class 2 moves its prototype, and only it
    more = torch.cat([points, torch.tensor([[4.0, -2.0]])])
    _, moved = placed_prototypes(more, torch.tensor([2, 2, 0, 2]), n_way=3)
    assert moved[0].tolist() == [-1.0, 3.0] and moved[1].tolist() == [2.0, 0.0]
    empty_classes, empty = placed_prototypes(
        torch.zeros(0, 2), torch.zeros(0, dtype=torch.int64), 3
    )
    assert len(empty_classes) == 0 and empty.shape == (0, 2)
    with pytest.raises(ValueError, match="0..2"):
        placed_prototypes(points, torch.tensor([0, 1, 3]), n_way=3)
