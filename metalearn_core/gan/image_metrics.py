r"""Judging few-shot generated images with a small, locally trained classifier.

* **Class consistency**: the share of generated images that the classifier labels as
  the target class *with confidence* (probability at least ``min_confidence``). The
  classifier also knows a *reject* class of implausible images (noise, flat grey,
  blurred images, averages of several examples of one class), built by
  ``implausible_images``: a generator that outputs a blurry class mean lands there
  instead of in the target class.
* **Fréchet distance** on the classifier's penultimate features (as FID does with
  Inception features): for Gaussians fitted to the two feature sets,

      d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2})

* **Nearest-example distance**: for each generated image, the root-mean-square pixel
  distance to the closest of the K training examples. A generator that replays its K
  examples scores near 0 here; real unseen images of the class give the reference.
* **Diversity**: the mean RMS pixel distance between two generated images. A collapsed
  generator (one image, however good) scores near 0; real images give the reference.
* **Precision and recall** in the classifier's feature space (Kynkäänniemi et al. 2019,
  "Improved precision and recall"): each set's *manifold* is the union of balls around
  its points reaching their k-th nearest neighbour in the same set;

      precision = (1/N) Σ_g 1[g inside the real manifold]
      recall    = (1/M) Σ_r 1[r inside the generated manifold]

  A collapsed generator may keep a high precision (its one image looks real) but its
  recall falls to about 0: its balls have radius 0.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from metalearn_core.gan.models import mlp, reinitialise

logger = logging.getLogger(__name__)


@dataclass
class FeatureClassifier:
    """An MLP classifier whose last hidden layer serves as the feature space.

    ``features``: (N, D) → (N, hidden); ``head``: (N, hidden) → (N, classes) logits.
    """

    features: nn.Module
    head: nn.Module

    @torch.no_grad()
    def logits(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))

    @torch.no_grad()
    def probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """(N, D) flattened images → (N, classes) softmax probabilities."""
        return self.logits(images).softmax(dim=1)

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """(N, D) flattened images → (N,) predicted labels."""
        return self.logits(images).argmax(dim=1)

    @torch.no_grad()
    def embed(self, images: torch.Tensor) -> torch.Tensor:
        return self.features(images)


def train_classifier(
    images: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    *,
    hidden: int = 128,
    epochs: int = 30,
    batch_size: int = 64,
    lr: float = 2e-3,
    seed: int = 0,
) -> FeatureClassifier:
    """Train the judging classifier on (N, D) flattened images with (N,) int labels."""
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    rng = torch.Generator().manual_seed(seed)
    body = mlp(images.shape[1], hidden, 2, hidden, generator=rng)
    features = nn.Sequential(body, nn.LeakyReLU())
    head = nn.Linear(hidden, num_classes)
    reinitialise(head, rng)  # from the seed, not the process's global random state
    parameters = [*features.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=lr)
    for _ in range(epochs):
        order = torch.randperm(len(images), generator=rng)
        for start in range(0, len(images), batch_size):
            batch = order[start : start + batch_size]
            # Small pixel noise keeps the classifier from trusting exact pixel values,
            # which generated images never reproduce.
            noisy = images[batch] + 0.05 * torch.randn(len(batch), images.shape[1], generator=rng)
            loss = F.cross_entropy(head(features(noisy)), labels[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    classifier = FeatureClassifier(features.eval(), head.eval())
    accuracy = float((classifier.predict(images) == labels).float().mean())
    logger.info("judging classifier: training accuracy %.3f on %d images", accuracy, len(images))
    return classifier


def class_consistency(
    classifier: FeatureClassifier,
    images: torch.Tensor,
    target: int,
    *,
    min_confidence: float = 0.0,
) -> float:
    """Share of (N, D) ``images`` labelled ``target`` with probability >= ``min_confidence``.

    With ``min_confidence`` 0 this is the plain share of argmax labels equal to ``target``;
    above 0.5 the label must also be a clear majority of the probability.
    """
    if not 0 <= min_confidence <= 1:
        raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence}")
    probabilities = classifier.probabilities(images)  # (N, classes)
    chosen = (probabilities.argmax(dim=1) == target) & (probabilities[:, target] >= min_confidence)
    return float(chosen.float().mean())


def implausible_images(
    classes: list[torch.Tensor],
    side: int,
    count: int,
    generator: torch.Generator,
    *,
    means_per_class: int = 30,
) -> torch.Tensor:
    """Images that no class should claim, for the judge's reject class.

    ``count`` images split evenly over five kinds: uniform noise; flat grey with a little
    noise; blurred noise; real images blurred by a 3x3 box filter (twice); the mean of two
    images of different classes. Then ``means_per_class`` images per class, each the pixel
    mean of 4-10 of its images: what a generator draws that has learnt only the average
    of its K examples (sharp digits never look like that; the mean's strokes are wide and
    grey).

    Args:
        classes: one (S_c, side²) tensor of flattened images in [0, 1] per class.
        side: image side.
        count: how many images of the first five kinds (some cross-class means drop out
            when both picks fall in one class).
        means_per_class: class-mean images per class.

    Returns:
        (about count + means_per_class * len(classes), side²) images in [0, 1].
    """
    if count < 5:
        raise ValueError(f"count must be at least 5 (one per kind), got {count}")
    dim, g, n = side * side, generator, count // 5

    def pick(how_many: int) -> tuple[torch.Tensor, torch.Tensor]:
        which = torch.randint(len(classes), (how_many,), generator=g)
        rows = [classes[c][int(torch.randint(len(classes[c]), (1,), generator=g))] for c in which]
        return torch.stack(rows), which

    uniform = torch.rand(n, dim, generator=g)
    flat = torch.rand(n, 1, generator=g) + 0.05 * torch.randn(n, dim, generator=g)
    coarse = torch.rand(n, 1, max(side // 2, 2), max(side // 2, 2), generator=g)
    blurred_noise = F.interpolate(coarse, size=(side, side), mode="bilinear").reshape(-1, dim)
    box = pick(n)[0].reshape(-1, 1, side, side)
    for _ in range(2):
        box = F.avg_pool2d(box, 3, stride=1, padding=1, count_include_pad=False)
    (first, first_class), (second, second_class) = pick(count - 4 * n), pick(count - 4 * n)
    mixed = ((first + second) / 2)[first_class != second_class]
    means = []
    for images in classes:
        for _ in range(means_per_class):
            how_many = int(torch.randint(4, 11, (1,), generator=g))
            means.append(images[torch.randperm(len(images), generator=g)[:how_many]].mean(0))
    parts = [uniform, flat, blurred_noise, box.reshape(-1, dim), mixed, *[m[None] for m in means]]
    return torch.cat(parts).clamp(0, 1)


def precision_recall(
    generated: torch.Tensor, real: torch.Tensor, k: int = 3
) -> tuple[float, float]:
    """Improved precision and recall of (N, F) ``generated`` against (M, F) ``real`` features.

    Compare sets of about equal size: a ball's radius shrinks as its set grows.

    Returns:
        (precision, recall), each in [0, 1].
    """
    if min(len(generated), len(real)) <= k:
        raise ValueError(
            f"precision and recall with k={k} need more than {k} points in each set, got "
            f"{len(generated)} generated and {len(real)} real"
        )
    generated, real = generated.double(), real.double()

    def radii(points: torch.Tensor) -> torch.Tensor:  # (P,) distance to k-th neighbour
        return torch.cdist(points, points).kthvalue(k + 1, dim=1).values  # +1: itself at 0

    between = torch.cdist(generated, real)  # (N, M)
    precision = (between <= radii(real)[None, :]).any(dim=1).double().mean()
    recall = (between <= radii(generated)[:, None]).any(dim=0).double().mean()
    return float(precision), float(recall)


def diversity(images: torch.Tensor) -> float:
    """Mean RMS pixel distance between two different images of (N, D) ``images``."""
    if len(images) < 2:
        raise ValueError(f"diversity needs at least 2 images, got {len(images)}")
    distances = torch.cdist(images.float(), images.float()) / images.shape[1] ** 0.5  # (N, N)
    return float(distances.sum() / (len(images) * (len(images) - 1)))


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to (N, F) and (M, F) feature sets."""
    if features_a.ndim != 2 or features_b.ndim != 2 or features_a.shape[1] != features_b.shape[1]:
        raise ValueError(
            f"feature sets must be (N, F) and (M, F), got {tuple(features_a.shape)} "
            f"and {tuple(features_b.shape)}"
        )
    if len(features_a) < 2 or len(features_b) < 2:
        raise ValueError(
            f"a covariance needs at least 2 samples, got {len(features_a)} and {len(features_b)}"
        )
    a, b = features_a.double(), features_b.double()
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    sqrt_a = _symmetric_sqrt(cov_a)
    # Tr((Σa^½ Σb Σa^½)^½) = Σ √λ over the eigenvalues of a symmetric PSD matrix.
    cross = torch.linalg.eigvalsh(sqrt_a @ cov_b @ sqrt_a).clamp(min=0).sqrt().sum()
    distance = (mean_a - mean_b).pow(2).sum() + torch.trace(cov_a) + torch.trace(cov_b) - 2 * cross
    return float(distance.clamp(min=0))


def _symmetric_sqrt(matrix: torch.Tensor) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(matrix)
    return vectors @ torch.diag(values.clamp(min=0).sqrt()) @ vectors.T


def nearest_example_distance(images: torch.Tensor, examples: torch.Tensor) -> torch.Tensor:
    """RMS pixel distance from each of (N, D) ``images`` to its nearest of (K, D) ``examples``.

    Returns:
        (N,) distances; 0 means an exact copy of a training example.
    """
    if images.shape[1:] != examples.shape[1:]:
        raise ValueError(
            f"images {tuple(images.shape)} and examples {tuple(examples.shape)} differ in size"
        )
    return torch.cdist(images.float(), examples.float()).min(dim=1).values / images.shape[1] ** 0.5
