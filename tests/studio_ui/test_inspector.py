"""The inspector's captions and marks say what each algorithm really does, and come from
the learners' own records, never from the inspector knowing the algorithm's name."""

from __future__ import annotations

import pytest
import torch

from metalearn_core.algorithms import cnp, matchingnet, snail, transfer
from metalearn_core.algorithms.base import Adaptation
from metalearn_core.algorithms.internals import AttentionView, ContextCodes
from metalearn_core.data.episodes import Episode
from metalearn_core.engine import RunConfig, Trainer
from studio_ui.inspector import inspector_content, internals_figures, scalar_details


def _episode() -> Episode:
    images = torch.zeros(4, 1, 8, 8)
    labels = torch.tensor([0, 0, 1, 1])
    return Episode(images, labels, images, labels, n_way=2, k_shot=2, q_query=2)


def _attention_adaptation(caption: str) -> Adaptation:
    # every query attends most to class 0, but the network predicts 1, 1, 0, 1
    attention = torch.tensor([[0.4, 0.3, 0.2, 0.1]] * 4)
    logits = torch.tensor([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    return Adaptation(logits, 0.5, 0.5, internals=(AttentionView(
        attention=attention,
        per_layer=attention.unsqueeze(0),
        class_attention=torch.tensor([[0.7, 0.3]] * 4),
        caption=caption,
    ),))  # fmt: skip


def test_snail_attention_marks_the_networks_own_prediction():
    adaptation = _attention_adaptation(snail.ATTENTION_CAPTION)
    ((caption, figure),) = internals_figures(_episode(), adaptation)
    assert "last attention layer" in caption and "need not be" in caption
    assert list(figure.data[1].text) == ["✗", "✗", "✗", "✓"]  # logits, not the attention


def test_matching_networks_attention_caption_names_its_rule():
    adaptation = _attention_adaptation(matchingnet.ATTENTION_CAPTION)
    adaptation.query_prediction = torch.tensor([[1.0, 0.0]] * 4)  # the summed attention
    ((caption, figure),) = internals_figures(_episode(), adaptation)
    assert "most attention in total is the prediction" in caption
    assert list(figure.data[1].text) == ["✓", "✓", "✗", "✗"]


def _captions(algo: str, **settings) -> list[str]:
    config = RunConfig(dataset="blobs", algo=algo, n_way=3, k_shot=2, q_query=2, **settings)
    return [caption for caption, _ in inspector_content(Trainer(config), seed=0).extras]


def test_step_zero_is_named_by_each_learner():
    captions = {algo: _captions(algo) for algo in ("maml", "reptile", "transfer")}
    (maml,) = captions["maml"]
    assert "meta-learned initialisation" in maml and "zero" in maml
    (reptile,) = captions["reptile"]
    assert "meta-learned initialisation" in reptile
    embedding, steps = captions["transfer"]
    assert "embedding space" in embedding
    assert "pretrained network" in steps and "meta-learned" not in steps


@pytest.mark.parametrize(("distance", "name"), [
    ("euclidean", "squared Euclidean distance"), ("cosine", "cosine distance (1 − cos)"),
])  # fmt: skip
def test_prototypical_networks_name_their_distance_and_shade_its_regions(distance, name):
    embedding, distances = _captions("protonet", hparams={"distance": distance}, embedding_2d=True)
    assert f"Each query's {name} to each class prototype" in distances
    assert "2-D embedding space" in embedding and "region each prototype wins" in embedding


def test_conditional_neural_process_shows_its_codes_and_readable_numbers():
    support_x = torch.tensor([[-1.0], [0.5], [2.0]])
    episode = Episode(support_x, torch.zeros(3, 1), support_x, torch.zeros(3, 1), 1, 3, 3)
    codes = torch.tensor([[1.0, -2.0], [0.0, 1.0], [2.0, 4.0]])
    adaptation = Adaptation(torch.zeros(3, 1), 0.1, None, internals=(ContextCodes(
        support_codes=codes, representation=codes.mean(0), query_std=torch.ones(3, 1),
        query_nll=0.7985348701477051,
    ),))  # fmt: skip
    ((caption, figure),) = internals_figures(episode, adaptation)
    assert "mean r" in caption
    heat = figure.data[0]
    assert list(heat.y) == ["r1 (x=-1.0)", "r2 (x=0.5)", "r3 (x=2.0)", "r = mean"]
    assert heat.z[-1] == pytest.approx([1.0, 1.0]) and (heat.zmin, heat.zmax) == (-4.0, 4.0)
    assert scalar_details(adaptation) == {"query negative log-likelihood": "0.799"}


def test_the_conditional_neural_process_writes_its_own_caption():
    config = RunConfig(dataset="sinusoid", algo="cnp", n_way=1, k_shot=5, q_query=5)
    content = inspector_content(Trainer(config), seed=0)
    ((caption, _),) = content.extras
    assert caption == cnp.CODES_CAPTION
    assert "query negative log-likelihood" in content.scalars
    assert [t.name for t in content.main_figure.data][:2] == ["true function", "±2σ"]


def test_the_transfer_baseline_draws_its_fine_tuned_function_on_sinusoids():
    config = RunConfig(dataset="sinusoid", algo="transfer", n_way=1, k_shot=5, q_query=5)
    content = inspector_content(Trainer(config), seed=0)
    ((caption, curve),) = content.extras  # the fine-tuning curve: query MSE per step
    assert caption == transfer.REGRESSION_STEP_ZERO_CAPTION
    assert len(curve.data[0].y) == 11  # the pretrained network, then 10 SGD steps
    names = [t.name for t in content.main_figure.data]
    assert names[0] == "true function" and "step 0" in names and "step 10" in names
