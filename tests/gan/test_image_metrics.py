import pytest
import torch
from torch import nn

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


def _two_class_classifier() -> FeatureClassifier:
    head = nn.Linear(2, 2)
    with torch.no_grad():
        head.weight.copy_(torch.eye(2))
        head.bias.zero_()
    return FeatureClassifier(nn.Identity(), head)


def test_class_consistency_with_a_confidence_floor_counts_only_confident_labels():
    # Logits (a, 0): P(class 0) = 1 / (1 + e^-a): a = 2 -> 0.881, a = 0.5 -> 0.622.
    images = torch.tensor([[2.0, 0.0], [0.5, 0.0], [0.0, 1.0]])
    classifier = _two_class_classifier()
    assert class_consistency(classifier, images, 0) == pytest.approx(2 / 3)
    assert class_consistency(classifier, images, 0, min_confidence=0.7) == pytest.approx(1 / 3)
    assert class_consistency(classifier, images, 0, min_confidence=0.9) == 0.0
    with pytest.raises(ValueError, match="min_confidence must be in"):
        class_consistency(classifier, images, 0, min_confidence=1.5)


def test_diversity_is_the_mean_pairwise_rms_distance():
    # Three 4-pixel images at 0, 0.5 and 1 everywhere: pairwise RMS distances 0.5, 0.5, 1.
    images = torch.tensor([[0.0] * 4, [0.5] * 4, [1.0] * 4])
    assert diversity(images) == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    assert diversity(images[[0, 0, 0]]) == 0.0
    with pytest.raises(ValueError, match="at least 2 images, got 1"):
        diversity(images[:1])


def test_implausible_images_hold_class_means_and_stay_in_range():
    rng = torch.Generator().manual_seed(5)
    classes = [(torch.rand(12, 16, generator=rng) > 0.5).float() for _ in range(3)]
    reject = implausible_images(classes, 4, 50, rng, means_per_class=7)
    # 4 kinds of 10, up to 10 cross-class mixes, then 7 means per class last.
    assert 40 + 21 <= len(reject) <= 50 + 21 and reject.shape[1] == 16
    assert reject.min() >= 0 and reject.max() <= 1
    means = reject[-21:]
    # A mean of 4-10 binary images takes values in multiples of 1/n for n in 4..10.
    assert all(
        any(torch.allclose(row * n, (row * n).round(), atol=1e-5) for n in range(4, 11))
        for row in means
    )
    assert ((means > 0.05) & (means < 0.95)).any(dim=1).all()  # grey pixels in every mean
    with pytest.raises(ValueError, match="at least 5"):
        implausible_images(classes, 4, 3, rng)


def test_precision_and_recall_of_a_set_with_itself_are_one():
    real = torch.randn(40, 3, generator=torch.Generator().manual_seed(6))
    assert precision_recall(real, real) == (1.0, 1.0)


def test_a_collapsed_generator_keeps_precision_but_loses_recall():
    real = torch.randn(40, 3, generator=torch.Generator().manual_seed(7))
    collapsed = real[:1].repeat(40, 1)  # one real point, 40 times: its balls have radius 0
    precision, recall = precision_recall(collapsed, real)
    assert precision == 1.0 and recall == pytest.approx(1 / 40)
    far = real + 100.0
    assert precision_recall(far, real) == (0.0, 0.0)
    with pytest.raises(ValueError, match="more than 3 points"):
        precision_recall(real[:3], real)


def test_the_judging_classifier_depends_only_on_its_seed():
    rng = torch.Generator().manual_seed(8)
    images, labels = torch.rand(40, 6, generator=rng), torch.arange(40) % 3
    first = train_classifier(images, labels, 3, hidden=8, epochs=2, seed=1)
    torch.rand(5)  # move the global random state between the two
    second = train_classifier(images, labels, 3, hidden=8, epochs=2, seed=1)
    assert torch.equal(first.logits(images), second.logits(images))
