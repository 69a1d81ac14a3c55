"""The inspector's captions and marks say what each algorithm really does."""

from __future__ import annotations

import pytest
import torch

from metalearn_core.algorithms.base import Adaptation
from metalearn_core.data.episodes import Episode
from studio_ui.inspector import internals_figures, scalar_details


def _episode() -> Episode:
    images = torch.zeros(4, 1, 8, 8)
    labels = torch.tensor([0, 0, 1, 1])
    return Episode(images, labels, images, labels, n_way=2, k_shot=2, q_query=2)


def _attention_adaptation() -> Adaptation:
    # every query attends most to class 0, but the network predicts 1, 1, 0, 1
    attention = torch.tensor([[0.4, 0.3, 0.2, 0.1]] * 4)
    logits = torch.tensor([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    return Adaptation(logits, 0.5, 0.5, details={
        "attention": attention,
        "attention_per_layer": attention.unsqueeze(0),
        "class_attention": torch.tensor([[0.7, 0.3]] * 4),
    })  # fmt: skip


def test_snail_attention_marks_the_networks_own_prediction():
    ((caption, figure),) = internals_figures(_episode(), _attention_adaptation(), "snail")
    assert "last attention layer" in caption and "need not be" in caption
    assert list(figure.data[1].text) == ["✗", "✗", "✗", "✓"]  # logits, not the attention


def test_matching_networks_attention_caption_names_its_rule():
    adaptation = _attention_adaptation()
    adaptation.query_prediction = torch.tensor([[1.0, 0.0]] * 4)  # the summed attention
    ((caption, figure),) = internals_figures(_episode(), adaptation, "matchingnet")
    assert "most attention in total is the prediction" in caption
    assert list(figure.data[1].text) == ["✓", "✓", "✗", "✗"]


def test_step_zero_is_named_for_each_learner():
    adaptation = Adaptation(torch.zeros(4, 2), 0.7, 0.5, details={
        "inner_losses": [0.69, 0.5], "inner_accuracies": [0.5, 0.75],
    })  # fmt: skip
    captions = {
        algo: internals_figures(_episode(), adaptation, algo)[0][0]
        for algo in ("maml", "reptile", "transfer", "someone_elses")
    }
    assert "meta-learned initialisation" in captions["maml"] and "zero" in captions["maml"]
    assert "meta-learned initialisation" in captions["reptile"]
    assert "pretrained network" in captions["transfer"]
    assert "meta-learned" not in captions["transfer"]
    assert "before any step on the support set" in captions["someone_elses"]


def test_conditional_neural_process_shows_its_codes_and_readable_numbers():
    support_x = torch.tensor([[-1.0], [0.5], [2.0]])
    episode = Episode(support_x, torch.zeros(3, 1), support_x, torch.zeros(3, 1), 1, 3, 3)
    codes = torch.tensor([[1.0, -2.0], [0.0, 1.0], [2.0, 4.0]])
    adaptation = Adaptation(torch.zeros(3, 1), 0.1, None, details={
        "representation": codes.mean(0), "support_codes": codes,
        "query_std": torch.ones(3, 1), "query_nll": 0.7985348701477051,
    })  # fmt: skip
    ((caption, figure),) = internals_figures(episode, adaptation, "cnp")
    assert "mean r" in caption
    heat = figure.data[0]
    assert list(heat.y) == ["r1 (x=-1.0)", "r2 (x=0.5)", "r3 (x=2.0)", "r = mean"]
    assert heat.z[-1] == pytest.approx([1.0, 1.0]) and (heat.zmin, heat.zmax) == (-4.0, 4.0)
    assert scalar_details(adaptation) == {"query negative log-likelihood": "0.799"}
