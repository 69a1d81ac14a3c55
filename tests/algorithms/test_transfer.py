"""Transfer baseline: pretraining batches, nearest class mean by hand, what fine-tuning touches."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F

from metalearn_core.algorithms import default_hparams
from metalearn_core.algorithms import make_learner as registry_learner
from metalearn_core.algorithms.internals import InnerStepCurve, RegressionFit
from metalearn_core.algorithms.transfer import TransferHyperparameters, TransferLearner
from metalearn_core.data import load_task_source
from metalearn_core.data.episodes import (
    ClassificationSource,
    Episode,
    EpisodeBatch,
    EpisodeSampler,
)
from metalearn_core.spec import ProblemSpec

POINTS = ProblemSpec("classification", (2,), 3, backbone="mlp")
IMAGES = ProblemSpec("classification", (1, 8, 8), 3, backbone="conv4", width=8)


def constant_source(
    spec: ProblemSpec, num_classes: int = 7, per_class: int = 5
) -> ClassificationSource:
    """Class c's examples are filled with c plus a small per-example offset."""
    examples = [
        torch.full((per_class, *spec.input_shape), float(c))
        + 0.01 * torch.arange(per_class).view(-1, *[1] * len(spec.input_shape))
        for c in range(num_classes)
    ]
    return ClassificationSource(
        "constant", "train", examples, [f"c{c}" for c in range(num_classes)]
    )


def random_episode(spec: ProblemSpec, n_way: int = 3, k_shot: int = 2, q_query: int = 3) -> Episode:
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(n_way)
    return Episode(
        torch.randn(n_way * k_shot, *spec.input_shape, generator=generator),
        labels.repeat_interleave(k_shot),
        torch.randn(n_way * q_query, *spec.input_shape, generator=generator),
        labels.repeat_interleave(q_query),
        n_way, k_shot, q_query,
    )  # fmt: skip


def make_learner(
    spec: ProblemSpec, seed: int = 0, prepare: bool = True, **changes
) -> TransferLearner:
    torch.manual_seed(seed)
    learner = TransferLearner(spec, TransferHyperparameters(**changes))
    if prepare:
        learner.prepare(constant_source(spec))
    return learner


def any_batch(spec: ProblemSpec) -> EpisodeBatch:
    return EpisodeBatch.stack([random_episode(spec)])


def test_pretraining_batches_pair_each_example_with_its_own_class():
    learner = make_learner(POINTS, pretrain_batch=32)
    inputs, labels = learner._pretraining_batch()
    assert inputs.shape == (32, 2) and labels.shape == (32,)
    torch.testing.assert_close(inputs[:, 0].floor(), labels.float())
    assert len(set(labels.tolist())) > 3  # drawn from all 7 classes, not one episode's


def test_step_loss_is_the_cross_entropy_over_all_training_classes():
    learner = make_learner(POINTS, pretrain_batch=16)
    generator_state = learner.pretrain_generator.get_state()
    inputs, labels = learner._pretraining_batch()
    learner.pretrain_generator.set_state(generator_state)
    with torch.no_grad():
        logits = learner.classifier(learner.backbone(inputs))
    assert logits.shape == (16, 7)
    expected = float(F.cross_entropy(logits, labels))
    assert learner.meta_train_step(any_batch(POINTS)).loss == pytest.approx(expected, rel=1e-6)


def test_same_seed_same_pretraining_and_a_different_seed_differs():
    def losses(seed: int) -> list[float]:
        learner = make_learner(POINTS, seed=seed)
        return [learner.meta_train_step(any_batch(POINTS)).loss for _ in range(3)]

    assert losses(0) == losses(0)
    assert losses(0) != losses(1)


def test_the_head_built_in_prepare_follows_the_learners_seed_not_the_global_one():
    heads = []
    for global_seed in (1, 2):
        learner = make_learner(POINTS, seed=0, prepare=False)
        torch.manual_seed(global_seed)  # whatever ran between construction and prepare
        learner.prepare(constant_source(POINTS))
        heads.append(learner.classifier.weight.detach().clone())
    torch.testing.assert_close(heads[0], heads[1], rtol=0, atol=0)


@pytest.mark.parametrize("spec", [POINTS, IMAGES], ids=["mlp", "conv4"])
def test_zero_steps_is_the_cosine_nearest_class_mean_by_hand(spec):
    learner = make_learner(spec, finetune_steps=0, cosine_scale=10.0)
    learner.eval()
    episode = random_episode(spec)
    out = learner.adapt(episode)
    with torch.no_grad():
        support = learner.backbone(episode.support_x)
        query = learner.backbone(episode.query_x)
    for j, q in enumerate(query):
        for c in range(3):
            members = [
                s / s.norm() for s, y in zip(support, episode.support_y, strict=True) if y == c
            ]
            mean = sum(members) / len(members)
            cosine = float(q @ mean) / (float(q.norm()) * float(mean.norm()))
            assert float(out.query_prediction[j, c]) == pytest.approx(10.0 * cosine, abs=1e-4)
    assert out.find(InnerStepCurve).query_accuracies == (out.query_accuracy,)


def test_head_only_fine_tuning_is_sgd_on_a_head_over_frozen_features():
    """Reproduce k SGD steps on W alone; had the backbone moved, the logits would differ."""
    steps, lr, scale = 4, 0.5, 10.0
    learner = make_learner(IMAGES, finetune_steps=steps, finetune_lr=lr, cosine_scale=scale)
    learner.eval()
    episode = random_episode(IMAGES)
    out = learner.adapt(episode)
    with torch.no_grad():
        support = learner.backbone(episode.support_x)
        query = learner.backbone(episode.query_x)
    unit = support / support.norm(dim=1, keepdim=True)
    weight = torch.stack([unit[episode.support_y == c].mean(0) for c in range(3)])
    for _ in range(steps):
        weight.requires_grad_(True)
        logits = scale * unit @ (weight / weight.norm(dim=1, keepdim=True)).T
        loss = -logits.log_softmax(1)[torch.arange(6), episode.support_y].mean()
        (grad,) = torch.autograd.grad(loss, weight)
        weight = (weight - lr * grad).detach()
    expected = (
        scale
        * (query / query.norm(dim=1, keepdim=True))
        @ (weight / weight.norm(dim=1, keepdim=True)).T
    )
    torch.testing.assert_close(out.query_prediction, expected, atol=1e-5, rtol=1e-4)
    curve = out.find(InnerStepCurve)
    assert curve.trained_parameters == ("head.weight",)
    assert len(curve.query_losses) == steps + 1
    assert curve.support_losses[-1] < curve.support_losses[0]


@pytest.mark.parametrize("whole", [False, True], ids=["head", "whole"])
@pytest.mark.parametrize("training_mode", [False, True], ids=["eval", "train"])
def test_adapt_never_changes_the_learner_s_own_weights(whole, training_mode):
    learner = make_learner(IMAGES, finetune_steps=3, finetune_whole=whole)
    learner.train() if training_mode else learner.eval()
    before = copy.deepcopy(learner.state_dict())
    out = learner.adapt(random_episode(IMAGES))
    after = learner.state_dict()
    for part in ("backbone", "classifier"):
        for name, value in after[part].items():
            torch.testing.assert_close(value, before[part][name], msg=f"{part}.{name}")
    if whole:
        assert "backbone.features.0.weight" in out.find(InnerStepCurve).trained_parameters


def test_whole_network_fine_tuning_moves_the_features():
    episode = random_episode(IMAGES)
    head = make_learner(IMAGES, finetune_steps=3).adapt(episode)
    whole = make_learner(IMAGES, finetune_steps=3, finetune_whole=True).adapt(episode)
    assert head.find(InnerStepCurve).query_losses[0] == pytest.approx(
        whole.find(InnerStepCurve).query_losses[0]
    )
    assert not torch.allclose(head.query_prediction, whole.query_prediction, atol=1e-4)


def test_prepare_and_step_errors_name_the_problem():
    learner = make_learner(POINTS, prepare=False)
    with pytest.raises(RuntimeError, match="prepare"):
        learner.meta_train_step(any_batch(POINTS))
    with pytest.raises(ValueError, match="classification source"):
        learner.prepare(load_task_source("sinusoid", "train", seed=0))
    learner.prepare(constant_source(POINTS, num_classes=7))
    with pytest.raises(ValueError, match="4 classes but the pretrained head has 7"):
        learner.prepare(constant_source(POINTS, num_classes=4))
    with pytest.raises(ValueError, match="finetune_steps"):
        TransferHyperparameters(finetune_steps=-1)


def test_state_dict_round_trip_continues_identically():
    first = make_learner(POINTS, seed=0)
    first.meta_train_step(any_batch(POINTS))
    second = make_learner(POINTS, seed=1, prepare=False)
    second.load_state_dict(first.state_dict())  # live tensors: nothing may stay shared
    second.prepare(constant_source(POINTS))  # the training data travels separately
    for _ in range(2):  # same weights, optimiser moments and mini-batch generator
        assert (
            first.meta_train_step(any_batch(POINTS)).loss
            == second.meta_train_step(any_batch(POINTS)).loss
        )


@pytest.mark.parametrize(
    ("dataset", "spec", "steps"),
    [
        ("blobs", ProblemSpec("classification", (2,), 5, backbone="mlp"), 200),
        ("digits", ProblemSpec("classification", (1, 8, 8), 5, backbone="conv4", width=16), 100),
    ],
)
def test_pretrained_features_classify_held_out_classes_above_chance(dataset, spec, steps):
    learner = make_learner(spec, prepare=False, finetune_steps=5)
    learner.prepare(load_task_source(dataset, "train", seed=0))
    for _ in range(steps):
        learner.meta_train_step(any_batch(spec))
    learner.eval()
    sampler = EpisodeSampler(load_task_source(dataset, "val", seed=0), 5, 1, 5, seed=1)
    results = [learner.adapt(sampler.sample()) for _ in range(40)]
    nearest_mean = sum(r.find(InnerStepCurve).query_accuracies[0] for r in results) / 40
    fine_tuned = sum(r.query_accuracy for r in results) / 40
    assert nearest_mean > 0.5 and fine_tuned > 0.5  # chance is 0.2
    assert math.isfinite(sum(r.query_loss for r in results))


# ----- regression: the MAML paper's pretrained sinusoid baseline -----------------------------

SINE = ProblemSpec("regression", (1,), 1, backbone="mlp")


def sine_learner(seed: int = 0, **changes) -> TransferLearner:
    learner = registry_learner("transfer", SINE, changes, seed=seed)
    learner.prepare(load_task_source("sinusoid", "train", seed=0))
    return learner


def sine_episodes(count: int, k_shot: int = 10, q_query: int = 10) -> list[Episode]:
    sampler = EpisodeSampler(load_task_source("sinusoid", "val", seed=0), 1, k_shot, q_query, 3)
    return [sampler.sample() for _ in range(count)]


def pooled_mse(learner: TransferLearner, episodes: list[Episode]) -> float:
    """The pretrained network's squared error on every point of the tasks, pooled."""
    x = torch.cat([torch.cat([e.support_x, e.query_x]) for e in episodes])
    y = torch.cat([torch.cat([e.support_y, e.query_y]) for e in episodes])
    with torch.no_grad():
        return float(F.mse_loss(learner.classifier(learner.backbone(x)), y))


def test_regression_defaults_are_the_papers_sgd_on_the_whole_network():
    hparams = default_hparams("transfer", SINE)
    assert (hparams.finetune_steps, hparams.finetune_lr) == (10, 0.02)
    assert hparams.finetune_whole and hparams.finetune_backbone_lr == 0.02
    assert default_hparams("transfer", POINTS) == TransferHyperparameters()
    learner = sine_learner()
    maml = registry_learner("maml", SINE)
    # the same MLP and head as MAML: a comparison's parameter counts are equal
    mine = [p.shape for m in (learner.backbone, learner.classifier) for p in m.parameters()]
    assert mine == [p.shape for p in maml.net.parameters()]
    # and the server's count, made on the "meta" device before a run is built, agrees
    from metalearn_core.engine import RunConfig
    from metalearn_core.engine.limits import count_parameters

    assert count_parameters(RunConfig(dataset="sinusoid", algo="transfer", n_way=1)) == 1761


def test_regression_pretraining_mixes_tasks_and_lowers_the_pooled_mse():
    learner = sine_learner(pretrain_batch=64, outer_lr=5e-3)
    inputs, targets = learner._pretraining_points()
    assert inputs.shape == targets.shape == (64, 1)
    # 8 points of each of 8 functions: the points of one task lie on one sine wave
    per_task = inputs.view(8, 8), targets.view(8, 8)
    assert len({round(float(x), 4) for x in per_task[0][:, 0]}) == 8
    held_out = sine_episodes(30)
    before = pooled_mse(learner, held_out)
    batch = EpisodeBatch.stack(held_out[:1])  # not read by the step
    losses = [learner.meta_train_step(batch).loss for _ in range(300)]
    assert all(math.isfinite(loss) for loss in losses)
    after = pooled_mse(learner, held_out)
    # the tasks' average function, -2 E[A] cos(x) / pi, fits better than zero or the start
    y = torch.cat([torch.cat([e.support_y, e.query_y]) for e in held_out])
    assert after < 0.85 * before and after < float((y**2).mean()), (before, after)


def test_regression_fine_tuning_lowers_each_tasks_query_mse():
    learner = sine_learner(outer_lr=5e-3)
    batch = EpisodeBatch.stack(sine_episodes(1))
    for _ in range(300):
        learner.meta_train_step(batch)
    learner.eval()
    results = [learner.adapt(e) for e in sine_episodes(20)]
    curves = [r.find(InnerStepCurve) for r in results]
    assert all(len(c.query_losses) == 11 and len(c.support_losses) == 10 for c in curves)
    assert all(
        c.query_accuracies is None and r.query_accuracy is None
        for c, r in zip(curves, results, strict=True)
    )
    pretrained = sum(c.query_losses[0] for c in curves)
    fine_tuned = sum(r.query_loss for r in results)
    assert fine_tuned < 0.85 * pretrained, (pretrained, fine_tuned)
    assert all(c.support_losses[-1] < c.support_losses[0] for c in curves)


@pytest.mark.parametrize("whole", [False, True], ids=["head", "whole"])
def test_regression_fine_tuning_is_plain_sgd_on_the_support_mse(whole):
    """Reproduce the steps by hand on a functional copy of the weights."""
    steps, lr, body_lr = 3, 0.05, 0.02
    learner = sine_learner(
        finetune_steps=steps, finetune_lr=lr, finetune_whole=whole, finetune_backbone_lr=body_lr
    )
    episode = sine_episodes(1, k_shot=5, q_query=7)[0]
    probe = torch.linspace(-5, 5, 9).unsqueeze(1)
    out = learner.adapt(episode, probe_x=probe)
    network = torch.nn.Sequential(learner.backbone, learner.classifier)
    weights = {name: p.detach().clone() for name, p in network.named_parameters()}
    head = {name for name in weights if name.startswith("1.")}

    def predict(w, x):
        return torch.func.functional_call(network, w, (x,))

    for _ in range(steps):
        moving = {n: w.requires_grad_(True) for n, w in weights.items()}
        loss = F.mse_loss(predict(moving, episode.support_x), episode.support_y)
        grads = dict(zip(moving, torch.autograd.grad(loss, list(moving.values())), strict=True))
        weights = {
            n: (w - (lr if n in head else body_lr) * grads[n] if whole or n in head else w).detach()
            for n, w in moving.items()
        }
    with torch.no_grad():
        expected_query, expected_probe = predict(weights, episode.query_x), predict(weights, probe)
    torch.testing.assert_close(out.query_prediction, expected_query, atol=1e-5, rtol=1e-4)
    assert out.query_loss == pytest.approx(
        float(F.mse_loss(expected_query, episode.query_y)), rel=1e-4
    )
    fit = out.find(RegressionFit)
    assert len(fit.step_predictions) == steps + 1
    torch.testing.assert_close(fit.step_predictions[-1], expected_probe, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(out.probe_prediction, expected_probe, atol=1e-5, rtol=1e-4)
    with torch.no_grad():  # step 0 is the pretrained network itself
        torch.testing.assert_close(fit.step_predictions[0], network(probe))
    trained = out.find(InnerStepCurve).trained_parameters
    assert ("backbone.features.1.weight" in trained) == whole and "head.bias" in trained


def test_regression_adapt_never_changes_the_learner_s_own_weights():
    learner = sine_learner(finetune_steps=5, finetune_lr=0.5)
    learner.meta_train_step(EpisodeBatch.stack(sine_episodes(1)))  # Adam moments exist
    before = copy.deepcopy(learner.state_dict())
    grads = [p.grad.clone() for p in learner.backbone.parameters()]  # the step's own
    for episode in sine_episodes(3):
        learner.adapt(episode, probe_x=torch.zeros(4, 1))
    after = learner.state_dict()
    for part in ("backbone", "classifier"):
        for name, value in after[part].items():
            torch.testing.assert_close(value, before[part][name], rtol=0, atol=0)
    assert torch.equal(after["pretrain_generator"], before["pretrain_generator"])
    for grad, parameter in zip(grads, learner.backbone.parameters(), strict=True):
        assert torch.equal(parameter.grad, grad)  # fine-tuning's gradients went to the copy


def test_regression_is_seeded_by_the_learner_s_seed_alone():
    def run(seed: int) -> tuple[list[float], float]:
        torch.manual_seed(seed + 100)  # the global generator must not matter
        learner = sine_learner(seed=seed)
        batch = EpisodeBatch.stack(sine_episodes(1))
        losses = [learner.meta_train_step(batch).loss for _ in range(3)]
        return losses, learner.adapt(sine_episodes(1)[0]).query_loss

    assert run(0) == run(0)
    assert run(0)[0] != run(1)[0]


def test_regression_prepare_refuses_a_classification_source():
    learner = registry_learner("transfer", SINE)
    with pytest.raises(ValueError, match="regression source"):
        learner.prepare(constant_source(POINTS))
    with pytest.raises(RuntimeError, match="prepare"):
        learner.meta_train_step(EpisodeBatch.stack(sine_episodes(1)))


def test_a_saved_regression_run_loads_and_continues_identically(tmp_path):
    from metalearn_core.engine import RunConfig, Trainer, load_learner

    config = RunConfig(
        dataset="sinusoid", algo="transfer", n_way=1, k_shot=5, q_query=5, val_every=0
    )
    straight = Trainer(config)
    expected = [straight.step().loss for _ in range(4)]
    first = Trainer(config)
    got = [first.step().loss for _ in range(2)]
    first.save(tmp_path / "run")
    resumed = Trainer.load(tmp_path / "run")
    got += [resumed.step().loss for _ in range(2)]
    assert got == expected
    _, learner = load_learner(tmp_path / "run")
    episode = sine_episodes(1)[0]
    first.learner.eval()
    assert learner.adapt(episode).query_loss == first.learner.adapt(episode).query_loss
