"""The embedding-space figure: flat 2-D embeddings with prototype regions, or a projection."""

from __future__ import annotations

import pytest
import torch

from metalearn_core.data.episodes import Episode
from metalearn_core.figures.embeddings import embedding_figure, principal_plane
from studio_ui.live_chart import trace_values


def _episode() -> Episode:
    support_y, query_y = torch.tensor([0, 0, 1, 1, 2, 2]), torch.tensor([0, 1, 2, 2])
    images = torch.zeros(6, 1, 4, 4)
    return Episode(images, support_y, images[:4], query_y, n_way=3, k_shot=2, q_query=1)


def test_principal_plane_finds_the_directions_of_largest_spread():
    g = torch.Generator().manual_seed(0)
    # spread 10 along axis 2, 3 along axis 0, almost none along axis 1
    points = torch.randn(200, 3, generator=g) * torch.tensor([3.0, 0.01, 10.0])
    mean, directions, shares = principal_plane(points)
    assert directions[:, 0].abs().tolist() == pytest.approx([0, 0, 1], abs=0.05)
    assert directions[:, 1].abs().tolist() == pytest.approx([1, 0, 0], abs=0.05)
    assert (directions.abs().argmax(0) == torch.tensor([2, 0])).all()
    assert (directions[directions.abs().argmax(0), [0, 1]] > 0).all()  # signs fixed
    assert shares[0] > 0.85 and shares[0] + shares[1] > 0.99
    assert mean.shape == (3,)
    with pytest.raises(ValueError, match="at least two points"):
        principal_plane(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="not all finite"):  # a diverging model's embeddings
        principal_plane(torch.tensor([[0.0, 1.0], [float("inf"), 2.0], [1.0, 1.0]]))


def test_flat_embeddings_shade_the_region_each_prototype_wins():
    prototypes = torch.tensor([[-2.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    support = prototypes.repeat_interleave(2, dim=0) + 0.1
    query = torch.tensor([[-2.0, 0.5], [1.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
    fig = embedding_figure(
        _episode(), support, query, prototypes, torch.tensor([0, 1, 2, 1]),
        region_distance="euclidean",
    )  # fmt: skip
    regions = fig.data[0]
    assert regions.name == "nearest prototype" and fig.data[1].name == "prototypes"
    xs, ys, z = list(regions.x), list(regions.y), regions.z
    for label, (px, py) in enumerate(prototypes.tolist()):  # each prototype sits in its own
        column = min(range(len(xs)), key=lambda i: abs(xs[i] - px))
        row = min(range(len(ys)), key=lambda i: abs(ys[i] - py))
        assert z[row][column] == label
    assert fig.layout.xaxis.title.text == "embedding 1"
    wrong = [t for t in fig.data if t.name.startswith("query wrong")][0]
    assert (list(wrong.x), list(wrong.y)) == ([2.0], [2.0])  # query 3: class 2, said 1


def test_cosine_regions_are_sectors():
    prototypes = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    fig = embedding_figure(
        _episode(), torch.randn(6, 2), torch.randn(4, 2), prototypes * 5,
        region_distance="cosine",
    )  # fmt: skip
    regions = fig.data[0]
    xs, ys, z = list(regions.x), list(regions.y), regions.z
    far_right = max(range(len(xs)), key=lambda i: xs[i])
    middle_row = min(range(len(ys)), key=lambda i: abs(ys[i]))
    assert z[middle_row][far_right] == 0  # due right of the origin: prototype 0's angle


def test_wide_embeddings_are_projected_without_regions():
    g = torch.Generator().manual_seed(1)
    fig = embedding_figure(
        _episode(), torch.randn(6, 16, generator=g), torch.randn(4, 16, generator=g),
        torch.randn(3, 16, generator=g), region_distance="euclidean",
    )  # fmt: skip
    assert "nearest prototype" not in [t.name for t in fig.data]
    assert fig.layout.xaxis.title.text.startswith("PC 1 (")
    (stars,) = [t for t in fig.data if t.name == "prototypes"]
    assert len(trace_values(stars.to_plotly_json(), "x")) == 3
    with pytest.raises(ValueError, match="region_distance"):
        embedding_figure(_episode(), torch.randn(6, 2), torch.randn(4, 2), region_distance="l1")


def test_in_one_shot_the_support_diamonds_stay_visible_on_their_prototype_stars():
    """A 1-shot prototype is its support example: the star used to cover the diamond."""
    support = torch.tensor([[-2.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    episode = Episode(
        torch.zeros(3, 2), torch.arange(3), torch.zeros(3, 2), torch.arange(3), 3, 1, 1
    )
    fig = embedding_figure(episode, support, support + 0.5, support, region_distance="euclidean")
    names = [t.name for t in fig.data]
    stars = names.index("prototypes")
    diamonds = [i for i, name in enumerate(names) if name.startswith("support")]
    assert len(diamonds) == 3 and stars < min(diamonds)  # drawn first: underneath
    star_size = fig.data[stars].marker.size
    for i in diamonds:
        trace = fig.data[i]
        assert trace.marker.symbol == "diamond" and trace.marker.size < star_size
        # each diamond sits exactly on its class's star, and the star shows around it
        label = int(trace.name.split()[-1])
        assert (list(trace.x), list(trace.y)) == ([support[label, 0]], [support[label, 1]])
