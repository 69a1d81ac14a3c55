"""Task families for the few-shot GAN and the experiment the CLI and bench run.

* ``rings``: each task is a ring of 8 Gaussians with a random centre, radius and
  rotation; unseen rings are fresh draws. Scored with PacGAN's mode coverage.
* ``digits``: the shared loader's 8x8 digits; the train split (digits 0-5 and their
  rotations, 20 classes) meta-trains, the test split (8 and 9 and their rotations,
  6 classes) is held out.
* ``glyphs``: procedural characters from the shared loader, pooled to 14x14; its 1,000
  train characters meta-train, its 200 test characters are held out.

Images are scored by a judging classifier that knows the held-out classes and a reject
class of implausible images (noise, blur, class averages): class consistency, a
Fréchet distance and precision / recall on its features, the distance from each
generated image to its nearest of the K examples, and diversity, each next to the same
figure for the class's real held-out images. Both starts (meta-learned, from scratch)
are reported at their own best adaptation learning rate. docs/gan.md states the protocol.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from metalearn_core.gan.fewshot import AdaptationTrace, FewShotGAN, FewShotGANConfig
from metalearn_core.gan.image_metrics import (
    FeatureClassifier,
    class_consistency,
    diversity,
    frechet_distance,
    implausible_images,
    nearest_example_distance,
    precision_recall,
    train_classifier,
)
from metalearn_core.gan.metrics import PAPER_SAMPLE_COUNT, mode_coverage
from metalearn_core.gan.toy_data import RingTask, RingTaskDistribution
from metalearn_core.gan.toy_gan import check_seed
from metalearn_core.words import N_

logger = logging.getLogger(__name__)

FEWSHOT_DOMAINS = ("rings", "digits", "glyphs")
IMAGE_SIDE = {"digits": 8, "glyphs": 14}  # glyphs are pooled from 28x28 to keep MLPs small
GENERATED_PER_TASK = 500  # images generated per held-out task for the image metrics
MIN_CONFIDENCE = 0.5  # judge probability an image needs to count as its class
REJECT_MINIMUM = 600  # at least this many implausible images in the judge's reject class
# Both starts are scored at their best adaptation learning rate among these, tuned on the
# held-out tasks themselves: the most favourable choice for each, the same for both.
ADAPT_LRS = (5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2)
MAX_ADAPT_LRS = 20  # learning rates tried per start: each costs a full adaptation per task
MAX_HELD_OUT_TASKS = 1_000
UNSEEN_TASK_SEED = 10_000  # the pages' unseen tasks draw from here on, one seed per task

# The two starts a comparison adapts from, by their titles in tables and figures.
META_LEARNED, FROM_SCRATCH = N_("meta-learned start"), N_("from scratch")

# Each score's name for people and which way is better; ``real_<name>`` entries give the
# same figure for the class's real held-out images (what a perfect generator reaches).
SCORE_LABELS = {
    "modes": (N_("modes covered (of 8)"), N_("higher")),
    "high_quality": (N_("share of samples near a mode"), N_("higher")),
    "reverse_kl": (N_("reverse KL of the mode counts"), N_("lower")),
    "class_consistency": (N_("judged to be the task's class"), N_("higher")),
    "rejected": (N_("judged implausible"), N_("lower")),
    "frechet_distance": (N_("Fréchet distance to real images"), N_("lower")),
    "precision": (N_("precision"), N_("higher")),
    "recall": (N_("recall"), N_("higher")),
    "nearest_example_distance": (
        N_("distance to the nearest K example"),
        N_("near real (0: copies)"),
    ),
    "diversity": (N_("diversity"), N_("near real (0: collapse)")),
}
REAL_PREFIX = "real_"


def score_table(scores: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """One row per score, one column per generator, with readable names.

    Args:
        scores: ``{generator title: domain.score(...)}``, e.g. meta-learned and from scratch.
    Returns:
        Rows ``{"score": label, <title>: value, ..., "real images": value or None,
        "better": "higher" | "lower" | ...}`` in ``SCORE_LABELS`` order; names not in it
        keep their own name.
    """
    first = next(iter(scores.values()), {})
    names = [n for n in first if not n.startswith(REAL_PREFIX)]
    order = list(SCORE_LABELS)
    names.sort(key=lambda n: order.index(n) if n in order else len(order))
    rows = []
    for name in names:
        label, better = SCORE_LABELS.get(name, (name, ""))
        row: dict[str, Any] = {"score": label}
        row |= {title: values.get(name) for title, values in scores.items()}
        row["real images"] = first.get(REAL_PREFIX + name)
        row["better"] = better
        rows.append(row)
    return rows


# Defaults per domain; the CLI and the page start from these.
DOMAIN_CONFIGS: dict[str, FewShotGANConfig] = {
    "rings": FewShotGANConfig(
        data_dim=2, noise_dim=8, k_shot=32, adapt_steps=20, inner_steps=10,
        inner_lr=2e-3, meta_batch=4, outer_lr=0.5, meta_iterations=200,
    ),
    # Images: small conv nets that also see the K examples' mean (see conv_models.py).
    "digits": FewShotGANConfig(
        data_dim=64, image_output=True, noise_dim=16, architecture="conv", conv_channels=32,
        condition_on_mean=True, k_shot=10, fake_batch=64, adapt_steps=10, inner_steps=10,
        inner_lr=2e-3, meta_batch=4, outer_lr=0.5, meta_iterations=300,
    ),
    # 14x14 convs cost ~3x the 8x8 ones per channel: narrower and shorter to stay in minutes.
    "glyphs": FewShotGANConfig(
        data_dim=196, image_output=True, noise_dim=16, architecture="conv", conv_channels=16,
        condition_on_mean=True, k_shot=10, fake_batch=64, adapt_steps=10, inner_steps=10,
        inner_lr=2e-3, meta_batch=4, outer_lr=0.5, meta_iterations=100,
    ),
}  # fmt: skip


@dataclass(frozen=True)
class HeldOutTask:
    """An unseen task: its K examples and what scores it.

    examples: (K, data_dim). For rings ``ring`` is set; for images ``label`` is the
    class index in the judging classifier and ``real`` holds the class's other images.
    """

    name: str
    examples: torch.Tensor
    ring: RingTask | None = None
    label: int = -1
    real: torch.Tensor | None = None


@dataclass
class ImageClasses:
    """Flattened images in [0, 1], one tensor (S_c, H*W) per class, split train / test.

    ``judge_train``: whether the judging classifier also learns the train classes (digits:
    yes, 20 + 6 classes; glyphs: no, its 1,000 train characters would swamp the 200 test
    ones and a generated test glyph needs only to be told from the other test glyphs).
    """

    name: str
    side: int
    train: list[torch.Tensor]
    train_names: list[str]
    test: list[torch.Tensor]
    test_names: list[str]
    judge_train: bool = True

    @property
    def judged(self) -> list[torch.Tensor]:
        """The classes the judging classifier knows, held-out (test) classes last."""
        return [*self.train, *self.test] if self.judge_train else list(self.test)

    @property
    def first_test_label(self) -> int:
        """The judge's label of the first held-out class."""
        return len(self.train) if self.judge_train else 0


def _to_unit_flat(images: torch.Tensor, side: int) -> torch.Tensor:
    """(S, 1, H, W) or (S, H, W) images in [0, 1] → (S, side²), area-resized if needed."""
    images = images.float().reshape(len(images), 1, images.shape[-2], images.shape[-1])
    if images.shape[-1] != side:
        images = F.interpolate(images, size=(side, side), mode="area")
    return images.clamp(0, 1).reshape(len(images), side * side)


def load_image_classes(name: str, *, data_dir: str | None = None, seed: int = 0) -> ImageClasses:
    """Train and held-out (test) classes of ``digits`` or ``glyphs`` as flattened images.

    Reads the shared ``metalearn_core.data.load_task_source`` splits. Digits: train is
    digits 0-5 with their rotations (20 classes), test is 8 and 9 with theirs (6 classes:
    "digit 8", "digit 8 (rot 90)", "digit 9", "digit 9 (rot 90)", ...). Glyphs: 1,000 train
    and 200 test characters of 20 drawings, pooled from 28x28 to 14x14.
    """
    if name not in IMAGE_SIDE:
        raise ValueError(f"unknown image domain {name!r}; choose one of {sorted(IMAGE_SIDE)}")
    from metalearn_core.data import load_task_source

    side = IMAGE_SIDE[name]
    splits = {}
    for split in ("train", "test"):
        source = load_task_source(name, split, data_dir=data_dir, seed=seed)
        tensors = [source.class_tensor(i) for i in range(source.num_classes)]
        splits[split] = ([_to_unit_flat(t, side) for t in tensors], list(source.class_names))
    return ImageClasses(name, side, *splits["train"], *splits["test"], judge_train=name == "digits")


class RingDomain:
    """Random rings of 8 Gaussians; unseen tasks are fresh draws from the same family."""

    name = "rings"
    view_count = 256  # generated points drawn per snapshot of an adaptation

    def __init__(self, k_shot: int, distribution: RingTaskDistribution | None = None):
        self.k_shot = k_shot
        self.distribution = distribution or RingTaskDistribution()

    def draw_task(self, rng: torch.Generator) -> torch.Tensor:
        return self.distribution.sample_task(rng).sample(self.k_shot, rng)

    def held_out_tasks(self, count: int, seed: int, start: int = 0) -> list[HeldOutTask]:
        """``count`` fresh rings from ``seed``, named ``ring <start>``, ``ring <start + 1>``..."""
        rng = torch.Generator().manual_seed(seed)
        tasks = []
        for index in range(start, start + count):
            ring = self.distribution.sample_task(rng)
            tasks.append(HeldOutTask(f"ring {index}", ring.sample(self.k_shot, rng), ring=ring))
        return tasks

    def score(self, generated: torch.Tensor, task: HeldOutTask) -> dict[str, float]:
        assert task.ring is not None
        coverage = mode_coverage(generated, task.ring.modes, task.ring.sigma)
        return {
            "modes": float(coverage.modes),
            "high_quality": coverage.high_quality,
            "reverse_kl": coverage.reverse_kl,
        }

    def sample_count(self) -> int:
        return PAPER_SAMPLE_COUNT

    headline = "modes"  # the metric a learning rate is tuned for


class ImageDomain:
    """One class per task; held-out classes are judged by a classifier that knows them.

    Args:
        classes: the train (meta-training) and test (held-out) classes.
        k_shot: examples per task.
        seed: seeds the judge's training and its reject images.
        augment: mirror a meta-training task left-right with probability 1/2 (the whole
            task, so it stays one class): twice as many shapes to meta-learn from.
        min_confidence: the judge's probability of the target class an image needs to
            count as class-consistent.
    """

    headline = "class_consistency"
    view_count = 12  # generated images drawn per snapshot of an adaptation

    def __init__(
        self,
        classes: ImageClasses,
        k_shot: int,
        seed: int = 0,
        *,
        augment: bool = True,
        min_confidence: float = MIN_CONFIDENCE,
    ):
        self.name = classes.name
        self.classes = classes
        self.k_shot = k_shot
        self.augment = augment
        self.min_confidence = min_confidence
        smallest = min(len(c) for c in [*classes.train, *classes.test])
        if k_shot >= smallest:
            raise ValueError(
                f"k_shot={k_shot} must be smaller than the {smallest} images of the "
                f"smallest {classes.name} class"
            )
        images, labels = self._judge_training_set(seed)
        self.reject_label = int(labels.max())
        self.classifier: FeatureClassifier = train_classifier(
            images, labels, self.reject_label + 1, seed=seed
        )

    def _judge_training_set(self, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Every judged class, plus a reject class of implausible images (last label).

        Without the reject class a closed-set classifier must call a grey, noisy or
        blurred-average image *some* class, and a generator that has only learnt the
        class mean would score as if it drew the class.
        """
        rng = torch.Generator().manual_seed(seed + 17)
        classes = self.classes.judged
        count = max(REJECT_MINIMUM, sum(len(c) for c in classes) // len(classes))
        reject = implausible_images(classes, self.classes.side, count, rng)
        groups = [*classes, reject]
        images = torch.cat(groups)
        labels = torch.cat(
            [torch.full((len(c),), i, dtype=torch.long) for i, c in enumerate(groups)]
        )
        return images, labels

    def draw_task(self, rng: torch.Generator) -> torch.Tensor:
        """K examples (K, side²) of one random train class, mirrored half the time."""
        index = int(torch.randint(len(self.classes.train), (1,), generator=rng))
        images = self.classes.train[index]
        examples = images[torch.randperm(len(images), generator=rng)[: self.k_shot]]
        if self.augment and bool(torch.rand(1, generator=rng) < 0.5):
            side = self.classes.side
            examples = examples.reshape(-1, side, side).flip(-1).reshape(-1, side * side)
        return examples

    def held_out_tasks(self, count: int, seed: int, start: int = 0) -> list[HeldOutTask]:
        """``count`` tasks cycling over the held-out classes from class ``start`` (modulo
        their number), each with its own K examples."""
        rng = torch.Generator().manual_seed(seed)
        tasks = []
        offset = self.classes.first_test_label
        for index in range(start, start + count):
            which = index % len(self.classes.test)
            images = self.classes.test[which]
            order = torch.randperm(len(images), generator=rng)
            tasks.append(
                HeldOutTask(
                    name=f"class {self.classes.test_names[which]}",
                    examples=images[order[: self.k_shot]],
                    label=offset + which,
                    real=images[order[self.k_shot :]],
                )
            )
        return tasks

    def score(self, generated: torch.Tensor, task: HeldOutTask) -> dict[str, float]:
        """Metrics of (N, side²) ``generated`` images for ``task``, next to real references.

        ``real_*`` entries score the class's real images that are not among the K
        examples: what a perfect generator would reach.
        """
        assert task.real is not None
        judge, target, confidence = self.classifier, task.label, self.min_confidence
        real_features = judge.embed(task.real)
        # Precision and recall need sets of one size: as many generated images as real.
        precision, recall = precision_recall(
            judge.embed(generated[: len(task.real)]), real_features
        )
        return {
            "class_consistency": class_consistency(
                judge, generated, target, min_confidence=confidence
            ),
            "rejected": float((judge.predict(generated) == self.reject_label).float().mean()),
            "frechet_distance": frechet_distance(judge.embed(generated), real_features),
            "precision": precision,
            "recall": recall,
            "nearest_example_distance": float(
                nearest_example_distance(generated, task.examples).mean()
            ),
            "diversity": diversity(generated),
            "real_class_consistency": class_consistency(
                judge, task.real, target, min_confidence=confidence
            ),
            "real_nearest_example_distance": float(
                nearest_example_distance(task.real, task.examples).mean()
            ),
            "real_diversity": diversity(task.real),
        }

    def sample_count(self) -> int:
        return GENERATED_PER_TASK


def unseen_task(domain: RingDomain | ImageDomain, number: int) -> HeldOutTask:
    """The pages' unseen task ``number`` (0, 1, ...): the same task for the same number.

    Image domains go round their held-out classes, one class per number.
    """
    if number < 0:
        raise ValueError(f"an unseen task's number must be >= 0, got {number}")
    return domain.held_out_tasks(1, seed=UNSEEN_TASK_SEED + number, start=number)[0]


@dataclass(frozen=True)
class TaskComparison:
    """One unseen task adapted from the meta-learned start and from scratch, then scored.

    traces: ``{META_LEARNED: ..., FROM_SCRATCH: ...}``, each with a snapshot of
        ``domain.view_count`` generated samples (fixed noise) after every step.
    scores: ``domain.score`` of each adapted generator on ``domain.sample_count()`` samples.
    learning_rates: the adaptation learning rate each start used.
    """

    task: HeldOutTask
    traces: dict[str, AdaptationTrace]
    scores: dict[str, dict[str, float]]
    learning_rates: dict[str, float]

    def table(self) -> list[dict[str, Any]]:
        """The scores as ``score_table`` rows: one per score, a column per start."""
        return score_table(self.scores)

    def snapshots_after(self, step: int) -> dict[str, torch.Tensor]:
        """Each start's generated samples after adaptation step ``step`` (0: the start)."""
        steps = len(next(iter(self.traces.values())).snapshots) - 1
        if not 0 <= step <= steps:
            raise ValueError(f"step must be in 0..{steps}, got {step}")
        return {title: trace.snapshots[step] for title, trace in self.traces.items()}

    def strip(self, title: str, rows: int, per_row: int) -> torch.Tensor:
        """Start ``title``'s samples over its adaptation, as (R, per_row, data_dim): the
        first ``per_row`` samples at evenly spaced steps, the start (step 0) first, about
        ``rows`` rows."""
        snapshots = self.traces[title].snapshots
        every = max(1, (len(snapshots) - 1) // max(rows, 1))
        return torch.stack(snapshots[::every])[:, :per_row]


def compare_on_task(
    model: FewShotGAN,
    domain: RingDomain | ImageDomain,
    task: HeldOutTask,
    *,
    meta_lr: float | None = None,
    scratch_lr: float | None = None,
    seed: int = 0,
) -> TaskComparison:
    """Adapt both starts on one ``task`` for ``adapt_steps`` and score the results.

    The same K examples, steps, per-step noise (from ``seed``), view noise and scoring
    noise for both; each start at its own learning rate (default: ``inner_lr``).
    """
    check_seed(seed)
    view_noise = model.view_noise(domain.view_count, seed=seed + 1)
    sample_noise = model.view_noise(domain.sample_count(), seed=seed + 2)
    rates = {
        META_LEARNED: model.config.inner_lr if meta_lr is None else meta_lr,
        FROM_SCRATCH: model.config.inner_lr if scratch_lr is None else scratch_lr,
    }
    traces, scores = {}, {}
    for title, lr in rates.items():
        trace = model.adapt(task.examples, view_noise=view_noise, seed=seed, lr=lr,
                            from_scratch=title == FROM_SCRATCH)  # fmt: skip
        with torch.no_grad():
            scores[title] = domain.score(trace.pair.generator(sample_noise), task)
        traces[title] = trace
    return TaskComparison(task, traces, scores, rates)


def make_domain(
    name: str, k_shot: int, *, seed: int = 0, data_dir: str | None = None
) -> RingDomain | ImageDomain:
    """The task family ``name`` (one of ``FEWSHOT_DOMAINS``)."""
    if name == "rings":
        return RingDomain(k_shot)
    if name in IMAGE_SIDE:
        return ImageDomain(load_image_classes(name, data_dir=data_dir, seed=seed), k_shot, seed)
    raise ValueError(f"unknown few-shot domain {name!r}; choose one of {FEWSHOT_DOMAINS}")


@dataclass
class ComparisonResult:
    """Mean metrics over held-out tasks for the meta-learned start and from scratch.

    Each is scored at its best adaptation learning rate (``meta_lr``, ``scratch_lr``) of
    those tried; ``meta_by_lr`` and ``scratch_by_lr`` hold the mean metrics at each.
    """

    domain: str
    adapt_steps: int
    meta_learned: dict[str, float]
    from_scratch: dict[str, float]
    per_task: list[dict[str, Any]] = field(default_factory=list)
    meta_iterations: int = 0
    seconds: float = 0.0
    meta_lr: float = 0.0
    scratch_lr: float = 0.0
    meta_by_lr: dict[str, dict[str, float]] = field(default_factory=dict)
    scratch_by_lr: dict[str, dict[str, float]] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "adapt_steps": self.adapt_steps,
            "meta_iterations": self.meta_iterations,
            "meta_learned": self.meta_learned,
            "from_scratch": self.from_scratch,
            "meta_lr": self.meta_lr,
            "scratch_lr": self.scratch_lr,
            "meta_by_lr": self.meta_by_lr,
            "scratch_by_lr": self.scratch_by_lr,
            "per_task": self.per_task,
            "config": self.config,
            "seconds": self.seconds,
        }


def _scores_after_adapting(
    model: FewShotGAN,
    domain: RingDomain | ImageDomain,
    tasks: list[HeldOutTask],
    *,
    from_scratch: bool,
    lr: float,
    seed: int,
) -> list[dict[str, float]]:
    """One score dict per task after ``adapt_steps`` GAN updates at ``lr``."""
    noise = model.view_noise(domain.sample_count(), seed=seed + 101)
    rows = []
    for index, task in enumerate(tasks):
        trace = model.adapt(task.examples, from_scratch=from_scratch, seed=seed + index, lr=lr)
        with torch.no_grad():
            rows.append(domain.score(trace.pair.generator(noise), task))
    return rows


def compare_on_held_out(
    model: FewShotGAN,
    domain: RingDomain | ImageDomain,
    tasks: list[HeldOutTask],
    seed: int = 0,
    *,
    adapt_lrs: tuple[float, ...] | None = None,
) -> ComparisonResult:
    """Adapt the meta-learned start and a from-scratch GAN on each task; average the scores.

    Both use the same architecture, Adam, K examples, steps, noise and per-task seeds.
    Each is run at every learning rate of ``adapt_lrs`` (default: the inner learning rate
    alone) and reported at its own best mean ``domain.headline`` metric.
    """
    config = model.config
    runs: dict[str, dict[float, list[dict[str, float]]]] = {}
    for key, scratch in (("meta_learned", False), ("from_scratch", True)):
        runs[key] = {
            lr: _scores_after_adapting(model, domain, tasks, from_scratch=scratch, lr=lr, seed=seed)
            for lr in (adapt_lrs or (config.inner_lr,))
        }
    means = {
        key: {lr: _mean_scores(rows) for lr, rows in by_lr.items()} for key, by_lr in runs.items()
    }
    best = {
        key: max(by_lr, key=lambda lr: by_lr[lr][domain.headline]) for key, by_lr in means.items()
    }
    per_task = [
        {"task": task.name, "meta_learned": meta, "from_scratch": scratch}
        for task, meta, scratch in zip(
            tasks, runs["meta_learned"][best["meta_learned"]],
            runs["from_scratch"][best["from_scratch"]], strict=True,
        )
    ]  # fmt: skip
    return ComparisonResult(
        domain=domain.name,
        adapt_steps=config.adapt_steps,
        meta_learned=means["meta_learned"][best["meta_learned"]],
        from_scratch=means["from_scratch"][best["from_scratch"]],
        per_task=per_task,
        meta_iterations=model.iteration,
        meta_lr=best["meta_learned"],
        scratch_lr=best["from_scratch"],
        meta_by_lr={f"{lr:g}": scores for lr, scores in means["meta_learned"].items()},
        scratch_by_lr={f"{lr:g}": scores for lr, scores in means["from_scratch"].items()},
        config=config.as_dict(),
    )


def _mean_scores(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: sum(row[key] for row in rows) / len(rows) for key in rows[0]}


def check_adapt_lrs(adapt_lrs: tuple[float, ...]) -> None:
    """Raise ``ValueError`` unless there are 1 to ``MAX_ADAPT_LRS`` rates, each in (0, 1]."""
    if not 1 <= len(adapt_lrs) <= MAX_ADAPT_LRS:
        raise ValueError(
            f"adapt_lrs must list 1 to {MAX_ADAPT_LRS} learning rates, got {len(adapt_lrs)}"
        )
    for lr in adapt_lrs:
        if not (isinstance(lr, int | float) and 0 < lr <= 1):
            raise ValueError(f"each adaptation learning rate must be in (0, 1], got {lr!r}")


def run_fewshot_experiment(
    domain_name: str,
    *,
    seed: int = 0,
    held_out_tasks: int = 12,
    data_dir: str | None = None,
    adapt_lrs: tuple[float, ...] = ADAPT_LRS,
    **config_changes: Any,
) -> ComparisonResult:
    """Meta-train on ``domain_name``, then compare meta-learned and from-scratch adaptation.

    Args:
        domain_name: ``"rings"``, ``"digits"`` or ``"glyphs"``.
        seed: seeds meta-training, the judge, the held-out tasks and every adaptation.
        held_out_tasks: unseen tasks to average over (image tasks cycle over the held-out
            classes, each time with other K examples).
        adapt_lrs: adaptation learning rates tried, for each start; each is reported at
            its best (tuned on the held-out tasks themselves, the same for both).
        config_changes: overrides of ``DOMAIN_CONFIGS[domain_name]`` (e.g. meta_iterations).
    """
    if domain_name not in DOMAIN_CONFIGS:
        raise ValueError(
            f"unknown few-shot domain {domain_name!r}; choose one of {FEWSHOT_DOMAINS}"
        )
    if not 1 <= held_out_tasks <= MAX_HELD_OUT_TASKS:
        raise ValueError(
            f"held_out_tasks must be between 1 and {MAX_HELD_OUT_TASKS}, got {held_out_tasks}"
        )
    check_adapt_lrs(adapt_lrs)  # before minutes of meta-training, not after
    config = DOMAIN_CONFIGS[domain_name].replace(seed=seed, **config_changes)
    start = time.perf_counter()
    domain = make_domain(domain_name, config.k_shot, seed=seed, data_dir=data_dir)
    model = FewShotGAN(config, domain.draw_task)
    model.meta_train()
    if model.divergence:
        raise ValueError(model.divergence)
    tasks = domain.held_out_tasks(held_out_tasks, seed=seed + 1_000_003)
    result = compare_on_held_out(model, domain, tasks, seed=seed, adapt_lrs=adapt_lrs)
    result.seconds = time.perf_counter() - start
    logger.info("few-shot %s: %s", domain_name, result.as_dict())
    return result
