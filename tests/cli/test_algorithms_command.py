"""``python -m metalearn_core algorithms``: each algorithm's hyperparameters, defaults, notes."""

from __future__ import annotations

import dataclasses

import pytest

from metalearn_core.algorithms import ALGORITHMS, default_hparams
from metalearn_core.cli import main
from metalearn_core.spec import ProblemSpec


def test_every_algorithm_lists_each_hyperparameter_with_its_default(capsys):
    assert main(["algorithms"]) == 0
    out = capsys.readouterr().out
    images = ProblemSpec("classification", (1, 28, 28), n_way=5)
    for name, learner_class in ALGORITHMS.items():
        assert f"{name}: {learner_class.title}" in out
        kind = learner_class.task_kinds[0]
        if kind != "classification":
            continue
        for field in dataclasses.fields(default_hparams(name, images)):
            value = getattr(default_hparams(name, images), field.name)
            assert f"{field.name} = {value!r}" in out


def test_regression_defaults_and_the_notes(capsys):
    assert main(["algorithms", "maml", "--kind", "regression"]) == 0
    out = capsys.readouterr().out
    assert "inner_lr = 0.01 " in out  # the sinusoid's alpha, not Omniglot's 0.4
    assert "α: the inner SGD step size" in out
    assert "'auto' | 'vmap' | 'loop'" in out
    assert "protonet" not in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["mamal"], "unknown algorithm 'mamal'; allowed: maml"),
        (["protonet", "--kind", "regression"], "protonet learns classification tasks"),
    ],
)
def test_bad_names_are_one_line_and_exit_2(capsys, args, message):
    assert main(["algorithms", *args]) == 2
    assert message in capsys.readouterr().err
