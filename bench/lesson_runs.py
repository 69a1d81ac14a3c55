"""Run every guided lesson's setup through the core and print what its answer quotes.

    python bench/lesson_runs.py            # every lesson (about 10 CPU minutes, one thread)
    python bench/lesson_runs.py shots gan_collapse

Each run starts from the lesson's own setup (``studio_ui.lessons``), built by the same
functions the pages use, so the numbers are those a student's run of the lesson reaches
(the seeds fix them; a page's run may differ only where a student changes a setting).
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from metalearn_core.algorithms.internals import InnerStepCurve  # noqa: E402
from metalearn_core.compare import Comparison, build_result  # noqa: E402
from metalearn_core.engine import Trainer  # noqa: E402
from metalearn_core.engine.evaluation import evaluate  # noqa: E402
from metalearn_core.gan.toy_gan import ToyGAN  # noqa: E402
from studio_ui.compare_session import plan_from_values  # noqa: E402
from studio_ui.lessons import LESSONS_BY_ID, compare_values, gan_config, train_config  # noqa: E402

TEST_EPISODES = 200


def trained(setup: dict, iterations: int, **changes) -> Trainer:
    trainer = Trainer(train_config(dict(setup, val_every=0, **changes)))
    trainer.run_tick(max_iterations=iterations)
    return trainer


def shots() -> None:
    setup = LESSONS_BY_ID["shots"].setup
    for k_shot in (1, 5):
        trainer = trained(setup, 200, k_shot=k_shot)
        for test_shot in sorted({k_shot, 5}):
            result = evaluate(trainer.learner, trainer.source("test"), 5, test_shot, 5,
                              episodes=TEST_EPISODES, seed=0)  # fmt: skip
            print(f"shots: trained {k_shot}-shot, tested {test_shot}-shot: "
                  f"{100 * result.accuracy:.1f}% ± {100 * result.ci95:.1f}%")  # fmt: skip


def inner_lr() -> None:
    setup = LESSONS_BY_ID["inner_lr"].setup
    for rate in (0.01, setup["inner_lr"]):
        trainer = Trainer(train_config(dict(setup, val_every=0, inner_lr=rate)))
        losses = [trainer.step().loss for _ in range(300)]
        _, adaptation = trainer.inspect("val", 0)
        curve = adaptation.find(InnerStepCurve).query_losses
        print(f"inner_lr={rate}: training loss, first 50 {statistics.mean(losses[:50]):.3g}, "
              f"last 50 {statistics.mean(losses[-50:]):.3g}; inspector episode 0, query loss "
              f"after inner steps 0..10: {[f'{loss:.3g}' for loss in curve]}")  # fmt: skip


def matching_support() -> None:
    trainer = trained(LESSONS_BY_ID["matching_support"].setup, 200)
    learner = trainer.learner
    shown = [trainer.inspect("val", seed)[1].query_accuracy for seed in range(10)]
    print(f"matching_support: inspector episodes 0..9: {[round(100 * a) for a in shown]}")
    worst, best, five = [], [], []
    torch.set_grad_enabled(False)  # adapting a Matching Network takes no gradient
    for seed in range(20):  # the same classes and queries; only the one shot changes
        episode, _ = trainer.inspect("val", seed, k_shot=5)
        scores = []
        for shot in range(5):
            index = torch.tensor([label * 5 + shot for label in range(episode.n_way)])
            one = dataclasses.replace(episode, support_x=episode.support_x[index],
                                      support_y=episode.support_y[index], k_shot=1)  # fmt: skip
            scores.append(learner.adapt(one).query_accuracy)
        worst.append(min(scores))
        best.append(max(scores))
        five.append(learner.adapt(episode).query_accuracy)
    torch.set_grad_enabled(True)
    gaps = [b - w for b, w in zip(best, worst, strict=True)]
    print(f"matching_support: one shot of five, best {100 * statistics.mean(best):.0f}%, worst "
          f"{100 * statistics.mean(worst):.0f}%, gap {100 * statistics.mean(gaps):.0f} points "
          f"(at most {100 * max(gaps):.0f}); all five {100 * statistics.mean(five):.0f}%")  # fmt: skip


def comparison(lesson_id: str) -> None:
    plan = plan_from_values(compare_values(LESSONS_BY_ID[lesson_id].setup))
    current = Comparison(plan)
    while not current.done:
        current.step()
    result = build_result(plan, current.score(), command="bench/lesson_runs.py")
    print(f"{lesson_id}: {result['reading']}")
    for algo, row in result["learners"].items():
        validation = row["curves"]["validation"]
        print(f"  {algo}: per shot {[round(100 * p['mean']) for p in row['per_shot']]}, "
              f"per way {[round(100 * p['mean']) for p in row.get('per_way') or []]}, "
              f"inner steps {[round(100 * p['mean']) for p in row.get('inner_steps') or []]}, "
              f"validation {list(zip(validation['episodes'], validation['mean'], strict=True))}")  # fmt: skip


def gan_collapse() -> None:
    setup = LESSONS_BY_ID["gan_collapse"].setup
    for name, changes in (("as set", {}), ("pack 2", {"pack": 2}), ("g_steps 1", {"g_steps": 1})):
        gan = ToyGAN(gan_config(dict(setup, **changes)))
        gan.train(600)
        coverage = [(int(c.get("step", 0)), c["modes"], round(c["high_quality"], 2))
                    for c in gan.coverage_history]  # fmt: skip
        print(f"gan_collapse, {name}: (step, modes, high quality) {coverage}")


RUNS = {
    "shots": shots,
    "maml_vs_protonet": lambda: comparison("maml_vs_protonet"),
    "inner_lr": inner_lr,
    "meta_vs_transfer": lambda: comparison("meta_vs_transfer"),
    "matching_support": matching_support,
    "gan_collapse": gan_collapse,
}

if __name__ == "__main__":
    torch.set_num_threads(1)
    for lesson_id in sys.argv[1:] or list(RUNS):
        RUNS[lesson_id]()
