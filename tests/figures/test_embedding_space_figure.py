"""The embedding-space page's figure: traces, point counts, prototypes, hover images."""

from __future__ import annotations

import pytest
import torch

from metalearn_core import embedding_space as es
from metalearn_core.engine import RunConfig, Trainer
from metalearn_core.figures.embedding_space import (
    ART_SHADES,
    embedding_space_figure,
    image_art,
    space_figure,
)

TRACES = ["nearest prototype", "prototypes", "support", "query right", "query wrong"]


def _by_name(fig) -> dict:
    return {trace.name: trace for trace in fig.data}


def test_traces_and_point_counts():
    support = torch.tensor([[0.0, 0.0], [0.0, 2.0], [5.0, 0.0], [5.0, 2.0], [9.0, 9.0]])
    support_y = torch.tensor([0, 0, 1, 1, 2])
    query = torch.tensor([[0.0, 1.0], [4.0, 1.0], [1.0, 1.0], [9.0, 8.0]])
    query_y = torch.tensor([0, 1, 1, 2])
    prototypes = torch.tensor([[0.0, 1.0], [5.0, 1.0], [9.0, 9.0]])
    nearest = torch.tensor([0, 1, 0, 2])  # the third query is nearer class 0: wrong
    fig = embedding_space_figure(
        support, support_y, query, query_y, prototypes, nearest, class_names=("a", "b", "c")
    )
    assert [trace.name for trace in fig.data] == TRACES
    traces = _by_name(fig)
    assert len(traces["support"].x) == 5 and len(traces["prototypes"].x) == 3
    assert len(traces["query right"].x) == 3 and len(traces["query wrong"].x) == 1
    assert (traces["query wrong"].x, traces["query wrong"].y) == ((1.0,), (1.0,))
    assert "nearest prototype: 0" in traces["query wrong"].hovertext[0]
    assert traces["support"].hovertext[4].startswith("<b>c</b> (label 2), support")
    # each query joined to its nearest prototype: (query, prototype, gap) per query
    lines = traces["nearest prototype"]
    assert len(lines.x) == 3 * 4
    assert (lines.x[6:9], lines.y[6:9]) == ((1.0, 0.0, None), (1.0, 1.0, None))
    with pytest.raises(ValueError, match=r"support must be 2-D points \(M, 2\)"):
        embedding_space_figure(torch.zeros(5, 3), support_y, query, query_y, prototypes, nearest)
    with pytest.raises(ValueError, match="region_distance"):
        embedding_space_figure(
            support, support_y, query, query_y, prototypes, nearest, region_distance="l1"
        )


def test_with_the_2d_layer_prototypes_sit_at_the_plotted_support_means():
    config = RunConfig(
        dataset="blobs", algo="protonet", n_way=3, k_shot=2, q_query=2, val_every=0,
        embedding_2d=True,
    )  # fmt: skip
    trainer = Trainer(config)
    trainer.run_tick(max_iterations=5)
    episode = es.draw_examples(trainer.source("val"), 4, 3, 5, seed=2)
    space = es.embed(trainer.learner, episode)
    fig = space_figure(space, es.project(space, "pca"), class_names=episode.class_names)
    assert [trace.name for trace in fig.data] == ["prototype regions", *TRACES]
    traces = _by_name(fig)
    plotted = torch.tensor([traces["support"].x, traces["support"].y], dtype=torch.float64).T
    for label in range(4):
        mean = plotted[episode.support_y == label].mean(0)
        star = (traces["prototypes"].x[label], traces["prototypes"].y[label])
        assert star == pytest.approx(tuple(mean.tolist()), abs=1e-12)
    assert torch.equal(plotted, space.support)  # drawn as it is
    assert len(traces["query right"].x) + len(traces["query wrong"].x) == 20
    assert fig.layout.xaxis.title.text == "embedding 1"


def test_projected_views_shade_no_regions():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(3).repeat_interleave(4)
    space = es.EmbeddedEpisode(
        torch.randn(12, 8, generator=g, dtype=torch.float64), y,
        torch.randn(12, 8, generator=g, dtype=torch.float64), y.clone(), 3, "euclidean",
    )  # fmt: skip
    fig = space_figure(space, es.project(space, "pca"))
    assert [trace.name for trace in fig.data] == TRACES
    assert fig.layout.xaxis.title.text.startswith("PC 1")


def test_hover_images_draw_the_ink_dark_on_either_background():
    stroke = torch.zeros(2, 1, 28, 28)
    stroke[:, :, :, 12:16] = 1.0  # a bright vertical bar on black
    stroke[1] = 1 - stroke[1]  # the same bar, dark on white
    dark, light = image_art(stroke)
    assert dark == light
    rows = dark.split("<br>")
    assert len(rows) == 14 and all(len(row) == 28 for row in rows)  # 14 px, 2 chars each
    assert rows[0][12:16] == ART_SHADES[-1] * 4  # the bar, dark ink
    assert rows[0][:8] == ART_SHADES[0] * 8  # the page, blank
    assert image_art(torch.tensor([[1.0, -2.5]])) == ["(1.00, -2.50)"]  # points: coordinates
