r"""Judging few-shot generated images with a small, locally trained classifier.

* **Class consistency**: the share of generated images that the classifier labels as
  the target class.
* **Fréchet distance** on the classifier's penultimate features (as FID does with
  Inception features): for Gaussians fitted to the two feature sets,

      d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2})

* **Nearest-example distance**: for each generated image, the root-mean-square pixel
  distance to the closest of the K training examples. A generator that replays its K
  examples scores near 0 here; real unseen images of the class give the reference.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from metalearn_core.gan.models import mlp

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


def class_consistency(classifier: FeatureClassifier, images: torch.Tensor, target: int) -> float:
    """Share of (N, D) ``images`` that ``classifier`` labels ``target``."""
    return float((classifier.predict(images) == target).float().mean())


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
