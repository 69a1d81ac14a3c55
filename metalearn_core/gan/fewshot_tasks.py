"""Task families for the few-shot GAN and the experiment the CLI and bench run.

* ``rings``: each task is a ring of 8 Gaussians with a random centre, radius and
  rotation; unseen rings are fresh draws. Scored with PacGAN's mode coverage.
* ``digits``: scikit-learn's 8x8 digits; classes 0-7 meta-train, 8 and 9 are held out.
* ``glyphs``: procedural characters from the shared loader; its train classes
  meta-train, its test classes are held out.

Images are scored by a classifier trained on every class (meta-training and held-out
ones): class consistency, a Fréchet distance on its features, and the distance from
each generated image to its nearest of the K examples.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from metalearn_core.gan.fewshot import FewShotGAN, FewShotGANConfig
from metalearn_core.gan.image_metrics import (
    FeatureClassifier,
    class_consistency,
    frechet_distance,
    nearest_example_distance,
    train_classifier,
)
from metalearn_core.gan.metrics import PAPER_SAMPLE_COUNT, mode_coverage
from metalearn_core.gan.toy_data import RingTask, RingTaskDistribution

logger = logging.getLogger(__name__)

FEWSHOT_DOMAINS = ("rings", "digits", "glyphs")
IMAGE_SIDE = {"digits": 8, "glyphs": 14}  # glyphs are pooled from 28x28 to keep MLPs small
GENERATED_PER_TASK = 500  # images generated per held-out task for the image metrics

# Defaults per domain; the CLI and the page start from these.
DOMAIN_CONFIGS: dict[str, FewShotGANConfig] = {
    "rings": FewShotGANConfig(
        data_dim=2, noise_dim=8, k_shot=32, adapt_steps=20, inner_steps=10,
        inner_lr=2e-3, meta_batch=4, outer_lr=0.5, meta_iterations=200,
    ),
    "digits": FewShotGANConfig(
        data_dim=64, image_output=True, noise_dim=16, g_hidden=256, d_hidden=256,
        k_shot=10, fake_batch=64, adapt_steps=10, inner_steps=10, inner_lr=2e-3,
        meta_batch=4, outer_lr=0.5, meta_iterations=300,
    ),
    "glyphs": FewShotGANConfig(
        data_dim=196, image_output=True, noise_dim=16, g_hidden=256, d_hidden=256,
        k_shot=10, fake_batch=64, adapt_steps=10, inner_steps=10, inner_lr=2e-3,
        meta_batch=4, outer_lr=0.5, meta_iterations=300,
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
    """Flattened images in [0, 1], one tensor (S_c, H*W) per class, split train / test."""

    name: str
    side: int
    train: list[torch.Tensor]
    train_names: list[str]
    test: list[torch.Tensor]
    test_names: list[str]

    @property
    def all_classes(self) -> list[torch.Tensor]:
        return [*self.train, *self.test]


def _to_unit_flat(images: torch.Tensor, side: int) -> torch.Tensor:
    """(S, 1, H, W) or (S, H, W) images → (S, side²) in [0, 1], area-resized if needed."""
    images = images.float().reshape(len(images), 1, images.shape[-2], images.shape[-1])
    if images.shape[-1] != side:
        images = F.interpolate(images, size=(side, side), mode="area")
    low, high = images.min(), images.max()
    return ((images - low) / (high - low).clamp(min=1e-8)).reshape(len(images), side * side)


def _sklearn_digits(side: int) -> ImageClasses:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32) / 16.0  # (1797, 8, 8)
    labels = torch.tensor(digits.target)
    classes = [_to_unit_flat(images[labels == c], side) for c in range(10)]
    names = [str(c) for c in range(10)]
    return ImageClasses("digits", side, classes[:8], names[:8], classes[8:], names[8:])


def load_image_classes(name: str, *, data_dir: str | None = None, seed: int = 0) -> ImageClasses:
    """Train and held-out classes of ``digits`` or ``glyphs`` as flattened images.

    Uses the shared ``metalearn_core.data.load_task_source``; for digits, if that loader
    is unavailable, reads scikit-learn's arrays directly with 8 and 9 held out.
    """
    if name not in IMAGE_SIDE:
        raise ValueError(f"unknown image domain {name!r}; choose one of {sorted(IMAGE_SIDE)}")
    side = IMAGE_SIDE[name]
    try:
        from metalearn_core.data import load_task_source
    except ImportError:
        load_task_source = None
    if load_task_source is None:
        if name == "digits":
            return _sklearn_digits(side)
        raise ValueError(f"image domain {name!r} needs metalearn_core.data.load_task_source")
    splits = {}
    for split in ("train", "test"):
        source = load_task_source(name, split, data_dir=data_dir, seed=seed)
        tensors = [source.class_tensor(i) for i in range(source.num_classes)]
        splits[split] = ([_to_unit_flat(t, side) for t in tensors], list(source.class_names))
    return ImageClasses(name, side, *splits["train"], *splits["test"])


class RingDomain:
    """Random rings of 8 Gaussians; unseen tasks are fresh draws from the same family."""

    name = "rings"

    def __init__(self, k_shot: int, distribution: RingTaskDistribution | None = None):
        self.k_shot = k_shot
        self.distribution = distribution or RingTaskDistribution()

    def draw_task(self, rng: torch.Generator) -> torch.Tensor:
        return self.distribution.sample_task(rng).sample(self.k_shot, rng)

    def held_out_tasks(self, count: int, seed: int) -> list[HeldOutTask]:
        rng = torch.Generator().manual_seed(seed)
        tasks = []
        for index in range(count):
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


class ImageDomain:
    """One class per task; held-out classes are judged by a classifier trained on all."""

    def __init__(self, classes: ImageClasses, k_shot: int, seed: int = 0):
        self.name = classes.name
        self.classes = classes
        self.k_shot = k_shot
        smallest = min(len(c) for c in classes.all_classes)
        if k_shot >= smallest:
            raise ValueError(
                f"k_shot={k_shot} must be smaller than the {smallest} images of the "
                f"smallest {classes.name} class"
            )
        self.reject_label = len(classes.all_classes)
        images, labels = self._judge_training_set(seed)
        self.classifier: FeatureClassifier = train_classifier(
            images, labels, self.reject_label + 1, seed=seed
        )

    def _judge_training_set(self, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Every class, plus a "none of these" class of noise, flat grey and blurred noise.

        Without the extra class a closed-set classifier must call a grey or noisy image
        *some* digit, and an untrained generator would score by chance.
        """
        rng = torch.Generator().manual_seed(seed + 17)
        classes = self.classes.all_classes
        count, dim = sum(len(c) for c in classes) // len(classes), classes[0].shape[1]
        side = self.classes.side
        third = count // 3
        uniform = torch.rand(third, dim, generator=rng)
        flat = torch.rand(third, 1, generator=rng) + 0.05 * torch.randn(third, dim, generator=rng)
        coarse = torch.rand(count - 2 * third, 1, side // 2, side // 2, generator=rng)
        blurred = F.interpolate(coarse, size=(side, side), mode="bilinear").reshape(-1, dim)
        reject = torch.cat([uniform, flat.clamp(0, 1), blurred])
        images = torch.cat([*classes, reject])
        labels = torch.cat(
            [torch.full((len(c),), i, dtype=torch.long) for i, c in enumerate([*classes, reject])]
        )
        return images, labels

    def draw_task(self, rng: torch.Generator) -> torch.Tensor:
        index = int(torch.randint(len(self.classes.train), (1,), generator=rng))
        images = self.classes.train[index]
        return images[torch.randperm(len(images), generator=rng)[: self.k_shot]]

    def held_out_tasks(self, count: int, seed: int) -> list[HeldOutTask]:
        """``count`` tasks cycling over the held-out classes, each with its own K examples."""
        rng = torch.Generator().manual_seed(seed)
        tasks = []
        offset = len(self.classes.train)
        for index in range(count):
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
        assert task.real is not None
        return {
            "class_consistency": class_consistency(self.classifier, generated, task.label),
            "frechet_distance": frechet_distance(
                self.classifier.embed(generated), self.classifier.embed(task.real)
            ),
            "nearest_example_distance": float(
                nearest_example_distance(generated, task.examples).mean()
            ),
            # Real unseen images of the class: how far a genuinely new image sits.
            "real_nearest_example_distance": float(
                nearest_example_distance(task.real, task.examples).mean()
            ),
        }

    def sample_count(self) -> int:
        return GENERATED_PER_TASK


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
    """Mean metrics over held-out tasks for the meta-learned start and from scratch."""

    domain: str
    adapt_steps: int
    meta_learned: dict[str, float]
    from_scratch: dict[str, float]
    per_task: list[dict[str, Any]] = field(default_factory=list)
    meta_iterations: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "adapt_steps": self.adapt_steps,
            "meta_iterations": self.meta_iterations,
            "meta_learned": self.meta_learned,
            "from_scratch": self.from_scratch,
            "per_task": self.per_task,
            "seconds": self.seconds,
        }


def compare_on_held_out(
    model: FewShotGAN, domain: RingDomain | ImageDomain, tasks: list[HeldOutTask], seed: int = 0
) -> ComparisonResult:
    """Adapt the meta-learned start and a from-scratch GAN on each task; average the scores."""
    config = model.config
    noise = model.view_noise(domain.sample_count(), seed=seed + 101)
    per_task = []
    for index, task in enumerate(tasks):
        row: dict[str, Any] = {"task": task.name}
        for key, scratch in (("meta_learned", False), ("from_scratch", True)):
            trace = model.adapt(task.examples, from_scratch=scratch, seed=seed + index)
            with torch.no_grad():
                generated = trace.pair.generator(noise)
            row[key] = domain.score(generated, task)
        per_task.append(row)
    return ComparisonResult(
        domain=domain.name,
        adapt_steps=config.adapt_steps,
        meta_learned=_mean_scores([row["meta_learned"] for row in per_task]),
        from_scratch=_mean_scores([row["from_scratch"] for row in per_task]),
        per_task=per_task,
        meta_iterations=model.iteration,
    )


def _mean_scores(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: sum(row[key] for row in rows) / len(rows) for key in rows[0]}


def run_fewshot_experiment(
    domain_name: str,
    *,
    seed: int = 0,
    held_out_tasks: int = 10,
    data_dir: str | None = None,
    **config_changes: Any,
) -> ComparisonResult:
    """Meta-train on ``domain_name``, then compare meta-learned and from-scratch adaptation.

    Args:
        domain_name: ``"rings"``, ``"digits"`` or ``"glyphs"``.
        seed: seeds meta-training, the held-out tasks and every adaptation.
        held_out_tasks: unseen tasks to average over.
        config_changes: overrides of ``DOMAIN_CONFIGS[domain_name]`` (e.g. meta_iterations).
    """
    if domain_name not in DOMAIN_CONFIGS:
        raise ValueError(
            f"unknown few-shot domain {domain_name!r}; choose one of {FEWSHOT_DOMAINS}"
        )
    if held_out_tasks < 1:
        raise ValueError(f"held_out_tasks must be at least 1, got {held_out_tasks}")
    config = DOMAIN_CONFIGS[domain_name].replace(seed=seed, **config_changes)
    start = time.perf_counter()
    domain = make_domain(domain_name, config.k_shot, seed=seed, data_dir=data_dir)
    model = FewShotGAN(config, domain.draw_task)
    model.meta_train()
    if model.divergence:
        raise ValueError(model.divergence)
    tasks = domain.held_out_tasks(held_out_tasks, seed=seed + 1_000_003)
    result = compare_on_held_out(model, domain, tasks, seed=seed)
    result.seconds = time.perf_counter() - start
    return result
