"""The registry: names, defaults per task kind, hyperparameter overrides and their errors."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from metalearn_core.algorithms import ALGORITHMS, algorithm_names, default_hparams, make_learner
from metalearn_core.algorithms.base import MetaLearner
from metalearn_core.algorithms.internals import EmbeddingView, RegressionFit
from metalearn_core.algorithms.maml import MAMLHyperparameters
from metalearn_core.spec import ProblemSpec

SINE = ProblemSpec("regression", (1,), n_way=1, backbone="mlp")
IMAGES = ProblemSpec("classification", (1, 8, 8), n_way=5, width=4)
MINE = ("maml", "fomaml", "reptile", "protonet", "matchingnet")


def test_registry_holds_the_five_algorithms_as_metalearners():
    for name in MINE:
        assert issubclass(ALGORITHMS[name], MetaLearner) and ALGORITHMS[name].name == name


def test_algorithm_names_filters_by_task_kind():
    regression = algorithm_names("regression")
    assert {"maml", "fomaml", "reptile", "cnp", "transfer"} <= set(regression)
    assert "protonet" not in regression and "matchingnet" not in regression
    assert set(MINE) <= set(algorithm_names("classification")) <= set(algorithm_names())


def test_unknown_algorithm_lists_the_allowed_ones():
    with pytest.raises(ValueError, match="unknown algorithm 'mamal'.*'maml'"):
        make_learner("mamal", IMAGES)


def test_unknown_hyperparameter_is_named_with_the_allowed_fields():
    with pytest.raises(ValueError, match=r"\['inner_rate'\].*inner_lr"):
        make_learner("maml", IMAGES, {"inner_rate": 0.1})


def test_dict_changes_apply_on_top_of_the_task_kind_defaults():
    learner = make_learner("maml", SINE, {"inner_steps": 3})
    assert learner.hparams.inner_steps == 3 and learner.hparams.inner_lr == 0.01
    assert default_hparams("fomaml", IMAGES).first_order is True
    assert make_learner("fomaml", SINE).hparams.first_order is True


def test_a_ready_dataclass_of_the_wrong_algorithm_is_refused():
    with pytest.raises(ValueError, match="protonet takes ProtoNetHyperparameters"):
        make_learner("protonet", IMAGES, MAMLHyperparameters())


def test_unsupported_task_kind_is_refused():
    with pytest.raises(ValueError, match="protonet supports classification"):
        make_learner("protonet", SINE)


@pytest.mark.parametrize("name", MINE)
def test_initial_weights_follow_the_seed_whatever_the_global_generator_holds(name):
    """Other threads draw from torch's global generator at any time: a run's weights must
    come from its seed alone."""
    torch.manual_seed(100)
    a = make_learner(name, IMAGES, seed=1).state_dict()["model"]
    torch.manual_seed(200)
    b = make_learner(name, IMAGES, seed=1).state_dict()["model"]
    c = make_learner(name, IMAGES, seed=2).state_dict()["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a if a[k].is_floating_point())


@pytest.mark.parametrize("algo", sorted(ALGORITHMS))
def test_every_hyperparameter_has_a_note_for_help_texts(algo):
    hparams_class = ALGORITHMS[algo].hparams_class
    notes = hparams_class.notes()
    fields = [f.name for f in dataclasses.fields(hparams_class)]
    assert [name for name in fields if not notes.get(name)] == []


def test_notes_come_from_the_field_metadata_and_a_subclass_keeps_its_parents():
    from metalearn_core.algorithms.maml import FOMAMLHyperparameters

    assert MAMLHyperparameters.notes()["inner_lr"].startswith("α: the inner SGD step size")
    # FOMAML redeclares first_order with another default: the same note
    maml_note = MAMLHyperparameters.notes()["first_order"]
    assert FOMAMLHyperparameters.notes()["first_order"] == maml_note
    # a class made at run time keeps its parents' notes; its own plain field has none
    made = dataclasses.make_dataclass("Made", [("x", int, 1)], bases=(MAMLHyperparameters,))
    assert made.notes() == MAMLHyperparameters.notes() | {"x": ""}


def _image_source_and_batch():
    from metalearn_core.data.episodes import ClassificationSource, Episode, EpisodeBatch

    generator = torch.Generator().manual_seed(0)
    images = [3 + torch.randn(10, 1, 8, 8, generator=generator) for _ in range(12)]
    source = ClassificationSource("noise", "train", images, [str(i) for i in range(12)])
    labels = torch.arange(5)
    episodes = [
        Episode(
            torch.stack([images[c][0] for c in classes]),
            labels,
            torch.cat([images[c][1:3] for c in classes]),
            labels.repeat_interleave(2),
            5,
            1,
            2,
        )
        for classes in (range(5), range(5, 10))
    ]
    return source, EpisodeBatch.stack(episodes)


@pytest.mark.parametrize("name", algorithm_names("classification"))
def test_a_training_step_trains_even_after_eval(name):
    """A learner handed back for evaluation is in eval mode; a step must not run batch norm
    on running statistics (the transfer baseline and the sequence learner once did)."""
    source, batch = _image_source_and_batch()
    losses = []
    for mode in ("train", "eval"):
        learner = make_learner(name, IMAGES, seed=0)
        learner.prepare(source)
        getattr(learner, mode)()
        losses.append(learner.meta_train_step(batch).loss)
    assert losses[0] == pytest.approx(losses[1], rel=1e-6)


@pytest.mark.parametrize("name", algorithm_names("classification"))
def test_adapt_fills_the_records_its_learner_declares(name):
    source, batch = _image_source_and_batch()
    learner = make_learner(name, IMAGES, seed=0)
    learner.prepare(source)
    kinds = {type(record) for record in learner.adapt(batch.episode(0)).internals}
    assert kinds and kinds <= set(ALGORITHMS[name].internals_records)
    # what the 2-D embedding option offers follows from the declaration
    assert (EmbeddingView in kinds) == ALGORITHMS[name].exposes_embeddings


@pytest.mark.parametrize("name", algorithm_names("regression"))
def test_a_regression_learner_draws_its_fit_on_the_probe_grid(name, tiny):
    learner = make_learner(name, SINE, seed=0)
    probe = torch.linspace(-5, 5, 7).unsqueeze(1)
    adaptation = learner.adapt(tiny.sinusoid_batch(1).episode(0), probe_x=probe)
    kinds = {type(record) for record in adaptation.internals}
    assert RegressionFit in kinds and kinds <= set(ALGORITHMS[name].internals_records)
    fit = adaptation.find(RegressionFit)
    torch.testing.assert_close(fit.probe_x, probe)
    torch.testing.assert_close(fit.step_predictions[-1], adaptation.probe_prediction)


def test_default_hparams_is_the_learner_class_s_own():
    class Plain(MetaLearner):
        name, title = "plain", "Plain"

        def meta_train_step(self, batch): ...
        def adapt(self, episode, probe_x=None): ...
        def state_dict(self): ...
        def load_state_dict(self, state): ...

    assert Plain.default_hparams(IMAGES) == Plain.hparams_class()
    assert not Plain.exposes_embeddings  # declares no EmbeddingView
    for name in ("maml", "reptile", "transfer"):  # defaults that depend on the kind of task
        regression = ALGORITHMS[name].default_hparams(SINE)
        assert regression == default_hparams(name, SINE) != default_hparams(name, IMAGES)


def _regression_source_and_batch():
    from metalearn_core.data import load_task_source

    source = load_task_source("sinusoid", "train", seed=0)
    return source, source_batch(source, 1)


def source_batch(source, n_way: int, k_shot: int = 3, q_query: int = 2, tasks: int = 2):
    from metalearn_core.data.episodes import EpisodeSampler

    return EpisodeSampler(source, n_way, k_shot, q_query, seed=0).sample_batch(tasks)


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_prepare_steps_and_adapt_draw_nothing_from_the_global_generator(name):
    """The engine holds no lock between runs: a learner that drew from torch's global
    generator (an nn.Dropout, a bare torch.randperm) would make runs in other threads
    irreproducible, and its own too. Randomness belongs in ``learner.generator``."""
    if "classification" in ALGORITHMS[name].task_kinds:
        spec, (source, batch) = IMAGES, _image_source_and_batch()
    else:
        spec, (source, batch) = SINE, _regression_source_and_batch()
    learner = make_learner(name, spec, seed=0)
    torch.manual_seed(5)
    before = torch.random.get_rng_state()
    learner.prepare(source)
    learner.meta_train_step(batch)
    learner.adapt(batch.episode(0))
    assert torch.equal(torch.random.get_rng_state(), before)


def test_the_learner_stream_follows_the_seed():
    draws = [
        torch.rand(3, generator=make_learner("protonet", IMAGES, seed=seed).generator)
        for seed in (1, 1, 2)
    ]
    assert torch.equal(draws[0], draws[1]) and not torch.equal(draws[0], draws[2])
