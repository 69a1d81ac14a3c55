"""MAML's and Reptile's ``adapted_weights``: the weights their ``adapt`` predicts with."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from metalearn_core.algorithms import make_learner
from metalearn_core.data.episodes import EpisodeSampler
from metalearn_core.spec import ProblemSpec
from tests.algorithms.conftest import random_image_source


@pytest.mark.parametrize(
    ("algo", "hparams"),
    [
        ("maml", {"inner_steps_test": 1}),
        ("maml", {"inner_steps_test": 3}),
        ("fomaml", {"inner_steps_test": 2}),
        ("reptile", {"inner_steps_test": 4}),
    ],
)
def test_adapted_weights_predict_what_adapt_predicts(algo, hparams):
    spec = ProblemSpec("classification", (1, 8, 8), n_way=3, width=4)
    learner = make_learner(algo, spec, hparams, seed=0)
    episode = EpisodeSampler(random_image_source(), 3, 2, 2, seed=0).sample()
    theta = {name: p.detach().clone() for name, p in learner.net.named_parameters()}
    weights = learner.adapted_weights(episode)
    body = {name[5:]: w for name, w in weights.items() if name.startswith("body.")}
    features = functional_call(learner.net["body"], body, (episode.query_x,))
    logits = F.linear(features, weights["head.weight"], weights["head.bias"])
    assert torch.allclose(logits, learner.adapt(episode).query_prediction, atol=1e-6)
    assert weights["head.weight"].shape == (3, 4) and not weights["head.weight"].requires_grad
    for name, p in learner.net.named_parameters():  # the meta-parameters are left as they were
        assert torch.equal(p, theta[name])
