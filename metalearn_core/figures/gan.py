"""Pictures for the GAN Lab page: pure builders, arrays in, ``go.Figure`` out.

Builders
    gan_lab_figure            real and fake points over the discriminator heatmap, with the
                              generator's warped noise grid and gradient arrows
    loss_curves_figure        discriminator and generator loss per step
    coverage_figure           modes covered and high-quality share over steps
    mode_counts_figure        generated samples per mode (the reverse-KL picture)
    fewshot_points_figure     2-D few-shot: meta-learned start vs from scratch, side by side
    image_grid_figure         a mosaic of small grey images (samples, steps, latent walks)

The page redraws these several times a second while training plays, so every figure
stays light: one heatmap at modest resolution, a few hundred points, lines merged into
single traces with gaps, and no named template (copying one costs tens of ms).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from metalearn_core.figures.training import waiting_note
from metalearn_core.words import N_

REAL_COLOR = "#1a9850"
FAKE_COLOR = "#7b3294"
GRID_COLOR = "rgba(123, 50, 148, 0.35)"
ARROW_COLOR = "#e66101"
D_COLOR = "#4575b4"
G_COLOR = "#d73027"
MODE_COLOR = "#333333"
FONT = {"size": 14}
# A horizontal legend at the foot of the whole figure, below the x-axis title: plotly makes
# room for both. Placed relative to the plot area instead (``y`` < 0), the legend and the
# title each pushed the margin for themselves and were drawn over each other.
BOTTOM_LEGEND = {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom"}

ArrayLike = np.ndarray | torch.Tensor | Sequence


@dataclass(frozen=True)
class GanWords:
    """Every word the GAN figures show (legends, titles, axes, notes), English by default;
    a page passes them in its language. ``{index}`` is filled in per mode."""

    real: str = N_("real")
    generated: str = N_("generated")
    modes: str = N_("modes")
    grid: str = N_("warped noise grid")
    gradient: str = N_("generator gradient")
    discriminator: str = N_("discriminator")
    generator: str = N_("generator")
    losses: str = N_("Losses")
    step: str = N_("step")
    loss: str = N_("loss")
    press_to_train: str = N_("Press Step or Play to train")
    modes_covered: str = N_("modes covered")
    high_quality_share: str = N_("high-quality share")
    high_quality: str = N_("high quality")
    coverage: str = N_("Mode coverage")
    measured_while_training: str = N_("Measured while it trains")
    mode: str = N_("mode {index}")
    other: str = N_("other")
    samples_per_mode: str = N_("Samples per nearest mode")
    k_examples: str = N_("K examples")


ENGLISH = GanWords()


def _np(values: ArrayLike) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def _with_gaps(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(L, P, 2) polylines → x, y arrays with NaN between lines (one trace for all)."""
    gap = np.full((lines.shape[0], 1, 2), np.nan)
    joined = np.concatenate([lines, gap], axis=1).reshape(-1, 2)
    return joined[:, 0], joined[:, 1]


def _square_layout(fig: go.Figure, extent: float, height: int, title: str | None) -> go.Figure:
    fig.update_layout(
        title={"text": title} if title else None,
        font=FONT,
        height=height,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        legend={"orientation": "h", "y": -0.05},
        uirevision="gan",  # keep the user's zoom across redraws
    )
    fig.update_xaxes(range=[-extent, extent], constrain="domain", showgrid=False)
    fig.update_yaxes(range=[-extent, extent], scaleanchor="x", scaleratio=1, showgrid=False)
    return fig


def gan_lab_figure(
    real: ArrayLike,
    fake: ArrayLike,
    *,
    extent: float,
    heatmap: tuple[ArrayLike, ArrayLike] | None = None,
    heatmap_label: str = "D(x)",
    grid_lines: ArrayLike | None = None,
    arrows: tuple[ArrayLike, ArrayLike] | None = None,
    modes: ArrayLike | None = None,
    title: str | None = None,
    height: int = 520,
    words: GanWords = ENGLISH,
) -> go.Figure:
    """The GAN Lab view.

    Args:
        real: (N, 2) real points.  fake: (M, 2) generated points.
        extent: half-width of the square view.
        heatmap: ``(axis (R,), values (R, R))``, values[i, j] at (axis[j], axis[i]).
        grid_lines: (L, P, 2) images of the noise grid's lines under G.
        arrows: ``(points (n, 2), directions (n, 2))``; arrows are rescaled so that the
            longest spans 15% of the view (their relative lengths are kept).
        modes: (M, 2) mode centres of a Gaussian mixture, drawn as crosses.
    Trace order: heatmap, grid, real, fake, arrows, modes (each only if given).
    """
    fig = go.Figure()
    if heatmap is not None:
        axis, values = _np(heatmap[0]), _np(heatmap[1])
        fig.add_trace(
            go.Heatmap(
                x=axis, y=axis, z=values, colorscale="RdBu", opacity=0.55, name=heatmap_label,
                colorbar={"title": {"text": heatmap_label}, "len": 0.6}, hoverinfo="skip",
            )
        )  # fmt: skip
    if grid_lines is not None:
        x, y = _with_gaps(_np(grid_lines))
        fig.add_trace(
            go.Scattergl(x=x, y=y, mode="lines", line={"color": GRID_COLOR, "width": 1},
                         name=words.grid, hoverinfo="skip")
        )  # fmt: skip
    real, fake = _np(real), _np(fake)
    fig.add_trace(
        go.Scattergl(x=real[:, 0], y=real[:, 1], mode="markers", name=words.real,
                     marker={"color": REAL_COLOR, "size": 5, "opacity": 0.7})
    )  # fmt: skip
    fig.add_trace(
        go.Scattergl(x=fake[:, 0], y=fake[:, 1], mode="markers", name=words.generated,
                     marker={"color": FAKE_COLOR, "size": 5, "opacity": 0.8})
    )  # fmt: skip
    if arrows is not None:
        longest = 0.15 * 2 * extent
        fig.add_trace(_arrow_trace(_np(arrows[0]), _np(arrows[1]), longest, words.gradient))
    if modes is not None:
        modes = _np(modes)
        fig.add_trace(
            go.Scatter(x=modes[:, 0], y=modes[:, 1], mode="markers", name=words.modes,
                       marker={"symbol": "x-thin", "size": 10, "line": {"width": 2,
                               "color": MODE_COLOR}}, hoverinfo="skip")
        )  # fmt: skip
    return _square_layout(fig, extent, height, title)


def _arrow_trace(
    points: np.ndarray, directions: np.ndarray, longest: float, name: str
) -> go.Scattergl:
    norms = np.linalg.norm(directions, axis=1)
    scale = longest / norms.max() if norms.size and norms.max() > 0 else 0.0
    ends = points + scale * directions
    segments = np.stack([points, ends], axis=1)  # (n, 2, 2)
    x, y = _with_gaps(segments)
    return go.Scattergl(
        x=x, y=y, mode="lines", line={"color": ARROW_COLOR, "width": 2},
        name=name, hoverinfo="skip",
    )  # fmt: skip


def _thin(steps: np.ndarray, values: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Bucket means so that a long history draws at most ``max_points`` points."""
    if len(steps) <= max_points:
        return steps, values
    buckets = np.array_split(np.arange(len(steps)), max_points)
    return (
        np.array([steps[b].mean() for b in buckets]),
        np.array([np.nanmean(values[b]) for b in buckets]),
    )


def loss_curves_figure(
    history: Sequence[Mapping[str, float]],
    *,
    max_points: int = 300,
    height: int = 260,
    words: GanWords = ENGLISH,
) -> go.Figure:
    """Discriminator and generator loss against step; records need step, d_loss, g_loss."""
    fig = go.Figure()
    if history:
        steps = np.array([r["step"] for r in history], dtype=float)
        for key, name, color in (("d_loss", words.discriminator, D_COLOR),
                                 ("g_loss", words.generator, G_COLOR)):  # fmt: skip
            x, y = _thin(steps, np.array([r[key] for r in history], dtype=float), max_points)
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=name, line={"color": color}))
    fig.update_layout(
        font=FONT, height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
        title={"text": words.losses}, xaxis_title=words.step, yaxis_title=words.loss,
        legend=BOTTOM_LEGEND, uirevision="losses",
    )  # fmt: skip
    if not history:
        fig.add_annotation(waiting_note(words.press_to_train))
    return fig


def coverage_figure(
    coverage_history: Sequence[Mapping[str, float]],
    num_modes: int,
    *,
    height: int = 260,
    words: GanWords = ENGLISH,
) -> go.Figure:
    """Modes covered (left axis, 0..num_modes) and high-quality share (right axis, 0..1)."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    steps = [r["step"] for r in coverage_history]
    fig.add_trace(
        go.Scatter(x=steps, y=[r["modes"] for r in coverage_history], mode="lines+markers",
                   name=words.modes_covered, line={"color": D_COLOR, "shape": "hv"}),
        secondary_y=False,
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=steps, y=[r["high_quality"] for r in coverage_history], mode="lines",
                   name=words.high_quality_share, line={"color": G_COLOR}),
        secondary_y=True,
    )  # fmt: skip
    fig.update_yaxes(range=[0, num_modes + 0.5], title_text=words.modes, secondary_y=False)
    # Own ticks, as percentages: synced to the left axis's grid they read 0.247, 0.494...
    fig.update_yaxes(range=[0, 1.05], title_text=words.high_quality, tickmode="array",
                     tickvals=[0, 0.25, 0.5, 0.75, 1], tickformat=".0%", showgrid=False,
                     secondary_y=True)  # fmt: skip
    fig.update_layout(
        font=FONT, height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
        title={"text": words.coverage}, xaxis_title=words.step,
        legend=BOTTOM_LEGEND, uirevision="coverage",
    )  # fmt: skip
    if not coverage_history:
        fig.add_annotation(waiting_note(words.measured_while_training))
    return fig


def mode_counts_figure(
    counts: Sequence[int], high_quality_counts: Sequence[int], *, words: GanWords = ENGLISH
) -> go.Figure:
    """Generated samples per mode, split into high quality and the rest."""
    counts_arr, high = np.asarray(counts), np.asarray(high_quality_counts)
    modes = [words.mode.format(index=i) for i in range(len(counts_arr))]
    fig = go.Figure(
        [
            go.Bar(x=modes, y=high, name=words.high_quality, marker_color=REAL_COLOR),
            go.Bar(x=modes, y=counts_arr - high, name=words.other, marker_color="#bababa"),
        ]
    )
    fig.update_layout(
        barmode="stack", font=FONT, height=240, margin={"l": 10, "r": 10, "t": 40, "b": 10},
        title={"text": words.samples_per_mode}, legend=BOTTOM_LEGEND,
    )  # fmt: skip
    return fig


def fewshot_points_figure(
    examples: ArrayLike,
    panels: Mapping[str, ArrayLike],
    *,
    modes: ArrayLike | None = None,
    extent: float = 2.0,
    height: int = 380,
    words: GanWords = ENGLISH,
) -> go.Figure:
    """Side-by-side 2-D panels (e.g. "meta-learned start", "from scratch"), each showing
    the K examples, that panel's generated points (S, 2) and the task's modes."""
    titles = list(panels)
    fig = make_subplots(rows=1, cols=len(titles), subplot_titles=titles,
                        horizontal_spacing=0.04)  # fmt: skip
    examples = _np(examples)
    for col, title in enumerate(titles, start=1):
        points = _np(panels[title])
        first = col == 1
        fig.add_trace(
            go.Scattergl(x=points[:, 0], y=points[:, 1], mode="markers", name=words.generated,
                         marker={"color": FAKE_COLOR, "size": 4, "opacity": 0.6},
                         showlegend=first, legendgroup="generated"),
            row=1, col=col,
        )  # fmt: skip
        fig.add_trace(
            go.Scattergl(x=examples[:, 0], y=examples[:, 1], mode="markers",
                         name=words.k_examples, marker={"color": REAL_COLOR, "size": 7},
                         showlegend=first, legendgroup="examples"),
            row=1, col=col,
        )  # fmt: skip
        if modes is not None:
            m = _np(modes)
            fig.add_trace(
                go.Scatter(x=m[:, 0], y=m[:, 1], mode="markers", name=words.modes,
                           marker={"symbol": "x-thin", "size": 10,
                                   "line": {"width": 2, "color": MODE_COLOR}},
                           showlegend=first, legendgroup="modes"),
                row=1, col=col,
            )  # fmt: skip
        anchor = "x" if col == 1 else f"x{col}"
        fig.update_xaxes(range=[-extent, extent], row=1, col=col, showgrid=False)
        fig.update_yaxes(range=[-extent, extent], row=1, col=col, showgrid=False,
                         scaleanchor=anchor, scaleratio=1)  # fmt: skip
    fig.update_layout(
        font=FONT, height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "y": -0.1},
    )  # fmt: skip
    return fig


def image_mosaic(images: ArrayLike, columns: int, pad: int = 1) -> np.ndarray:
    """(N, H, W) images in [0, 1] → one (rows·(H+pad)-pad, columns·(W+pad)-pad) array,
    row-major, padding and empty cells set to NaN (drawn blank)."""
    stack = _np(images).astype(float)
    if stack.ndim != 3:
        raise ValueError(f"images must have shape (N, H, W), got {stack.shape}")
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}")
    count, height, width = stack.shape
    rows = -(-count // columns)
    mosaic = np.full((rows * (height + pad) - pad, columns * (width + pad) - pad), np.nan)
    for index in range(count):
        r, c = divmod(index, columns)
        top, left = r * (height + pad), c * (width + pad)
        mosaic[top : top + height, left : left + width] = stack[index]
    return mosaic


def image_grid_figure(
    images: ArrayLike,
    columns: int,
    *,
    row_labels: Sequence[str] | None = None,
    title: str | None = None,
    cell_pixels: int = 28,
) -> go.Figure:
    """A mosaic of (N, H, W) grey images in [0, 1] as one heatmap (dark = ink)."""
    stack = _np(images)
    mosaic = image_mosaic(stack, columns)
    height_cells = mosaic.shape[0] / (stack.shape[1] + 1)
    fig = go.Figure(
        go.Heatmap(z=mosaic[::-1], colorscale="Greys", zmin=0, zmax=1, showscale=False,
                   hoverinfo="skip")
    )  # fmt: skip
    tick_rows = stack.shape[1] + 1
    if row_labels:
        positions = [mosaic.shape[0] - 1 - (i * tick_rows + stack.shape[1] / 2)
                     for i in range(len(row_labels))]  # fmt: skip
        fig.update_yaxes(tickvals=positions, ticktext=list(row_labels), showticklabels=True)
    else:
        fig.update_yaxes(showticklabels=False, ticks="")  # no stray tick marks either
    fig.update_xaxes(showticklabels=False, ticks="", showgrid=False, zeroline=False)
    fig.update_yaxes(showgrid=False, zeroline=False, scaleanchor="x", scaleratio=1)
    fig.update_layout(
        title={"text": title} if title else None, font=FONT,
        height=int(max(120, height_cells * cell_pixels + (60 if title else 20))),
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
    )  # fmt: skip
    return fig
