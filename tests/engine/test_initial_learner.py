"""``Trainer.initial_learner``: the run's network before its first step, for any run."""

from __future__ import annotations

import torch

from metalearn_core.engine import RunConfig, Trainer


def _state(learner) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in learner.state_dict()["model"].items()}


def _equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_initial_network_is_the_one_before_training(tmp_path):
    config = RunConfig(
        dataset="blobs", algo="protonet", n_way=3, k_shot=1, q_query=2, val_every=0, seed=7
    )
    trainer = Trainer(config)
    before = _state(trainer.learner)
    trainer.run_tick(max_iterations=3)
    assert not _equal(_state(trainer.learner), before)  # training moved the weights
    initial = trainer.initial_learner()
    assert _equal(_state(initial), before)
    assert initial is not trainer.learner and not initial.model.training
    trainer.save(tmp_path / "run")
    resumed = Trainer.load(tmp_path / "run")  # a saved run keeps them too
    assert _equal(_state(resumed.initial_learner()), before)
    other_seed = Trainer(config.replace(seed=8)).initial_learner()
    assert not _equal(_state(other_seed), before)
