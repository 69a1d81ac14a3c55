import pytest
import torch
from torch import nn

from metalearn_core.gan.image_metrics import (
    FeatureClassifier,
    class_consistency,
    frechet_distance,
    nearest_example_distance,
    train_classifier,
)


def test_frechet_distance_of_a_set_with_itself_is_zero():
    features = torch.randn(200, 4, generator=torch.Generator().manual_seed(0))
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_of_a_shift_is_the_squared_shift():
    features = torch.randn(200, 3, generator=torch.Generator().manual_seed(1))
    shift = torch.tensor([1.0, -2.0, 0.5])
    assert frechet_distance(features, features + shift) == pytest.approx(1 + 4 + 0.25, rel=1e-6)


def test_frechet_distance_of_a_doubled_set_is_the_trace_of_its_covariance():
    # Σb = 4 Σa: Tr(Σa + 4Σa − 2·(4Σa²)^½) = Tr(Σa); the means stay equal after centring.
    features = torch.randn(300, 3, generator=torch.Generator().manual_seed(2)).double()
    features = features - features.mean(0)
    expected = torch.trace(torch.cov(features.T)).item()
    assert frechet_distance(features, 2 * features) == pytest.approx(expected, rel=1e-6)


def test_nearest_example_distance_is_zero_for_copies_and_rms_otherwise():
    examples = torch.rand(5, 16, generator=torch.Generator().manual_seed(3))
    assert nearest_example_distance(examples, examples).abs().max() < 1e-3
    # A constant offset c on every pixel of a far-from-all-others copy: RMS distance c.
    far = torch.zeros(2, 16)
    far_examples = torch.stack([torch.zeros(16), torch.full((16,), 10.0)])
    assert nearest_example_distance(far + 0.25, far_examples).tolist() == pytest.approx(
        [0.25, 0.25], rel=1e-5
    )


def test_class_consistency_counts_the_target_label():
    head = nn.Linear(2, 2)
    with torch.no_grad():
        head.weight.copy_(torch.eye(2))
        head.bias.zero_()
    classifier = FeatureClassifier(nn.Identity(), head)
    images = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [3.0, 1.0]])
    assert class_consistency(classifier, images, target=0) == 0.75


def test_the_judging_classifier_separates_easy_classes():
    rng = torch.Generator().manual_seed(4)
    images = torch.cat(
        [torch.rand(60, 8, generator=rng) * 0.3, 0.7 + torch.rand(60, 8, generator=rng) * 0.3]
    )
    labels = torch.cat([torch.zeros(60), torch.ones(60)]).long()
    classifier = train_classifier(images, labels, 2, epochs=10, seed=0)
    assert (classifier.predict(images) == labels).float().mean() > 0.95
    assert classifier.embed(images).shape == (120, 128)
