"""What every picture of an episode shares: class colours, right/wrong marks, the layout.

The episode views (``episodes.py``), a learner's internals (``internals.py``) and the
embedding space (``embeddings.py``) draw with these, so that a class has one colour and
a wrong answer one look everywhere.
"""

from __future__ import annotations

import plotly.graph_objects as go
import torch

# Right and wrong also differ by symbol (✓/✗), never by colour alone.
RIGHT_COLOR = "#1a9850"
WRONG_COLOR = "#d73027"
RIGHT_MARK, WRONG_MARK = "✓", "✗"
# A wrong query among class-coloured points: black, a colour no class has (WRONG_COLOR is
# all but the red of class 3), in a symbol no other point has.
WRONG_POINT_COLOR = "#000000"
WRONG_POINT_SYMBOL = "x"

# 20 distinguishable class colours (Tableau 10 + its light half), enough for 20-way.
CLASS_COLORS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
    "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)  # fmt: skip

FONT = {"size": 16}  # readable when projected in a classroom


def class_color(label: int) -> str:
    """Colour of class ``label`` (cycles after 20 classes)."""
    return CLASS_COLORS[int(label) % len(CLASS_COLORS)]


def base_layout(fig: go.Figure, title: str | None, height: int) -> go.Figure:
    """Title, font, height and tight margins, the same for every episode picture."""
    fig.update_layout(
        # No template here: the app's theme styles the figure, and copying a named
        # template costs ~50 ms per figure (measured), too much for live redraws.
        title={"text": title} if title else None,
        font=FONT,
        height=height,
        margin={"l": 10, "r": 10, "t": 50 if title else 10, "b": 10},
    )
    return fig


def as_labels(predictions: torch.Tensor | None, count: int) -> list[int] | None:
    """Logits (M, N) or labels (M,) -> a list of M predicted labels."""
    if predictions is None:
        return None
    predictions = predictions.detach().cpu()
    labels = predictions.argmax(dim=-1) if predictions.dim() == 2 else predictions
    if labels.shape[0] != count:
        raise ValueError(f"got {labels.shape[0]} predictions for {count} query examples")
    return [int(v) for v in labels.tolist()]
