"""Glyphs: procedurally drawn, Omniglot-like characters, the embedded default for image tasks.

A *class* is a character: one to four pen strokes (straight lines, circular arcs and cubic
Bézier curves), later strokes often starting on an earlier one, normalised to the middle
of the canvas. A *sample* is a new drawing of that character by a slightly different hand:
each stroke is moved a little, bent by a smooth wobble and trimmed at its ends, the whole
character gets a small random affine change (rotation, scale, shear, shift), and the pen
has its own weight. Nothing is downloaded and there is no limit on the number of classes.

Rendering is vectorised over every drawing at once (torch): points along each stroke are
splatted bilinearly onto the canvas, weighted by the arc length they stand for, blurred by a
small Gaussian (the pen tip) and saturated, ``ink = 1 - exp(-weight * density)``; a heavier
pen saturates earlier, so its strokes look wider. 1,000 classes of 20 drawings take about
a second on a 2-core CPU (``bench/tasks.py``).

>>> source = GlyphsSource("train", num_classes=100, seed=0)   # (1, 28, 28) images
>>> episode = EpisodeSampler(source, n_way=5, k_shot=1, q_query=15, seed=0).sample()
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from metalearn_core.data.episodes import ClassificationSource
from metalearn_core.data.images import add_rotations

CLASSES_PER_SPLIT = {"train": 1000, "val": 200, "test": 200}
DRAWINGS_PER_CLASS = 20
MAX_STROKES = 4
STROKE_COUNT_PROBS = (0.05, 0.3, 0.4, 0.25)  # P(1, 2, 3, 4 strokes)
STROKE_TYPE_PROBS = (0.3, 0.25, 0.37, 0.08)  # P(line, arc, Bézier curve, dot)
POINTS_PER_STROKE = 40  # points along each stroke
PEN_SIGMA = 0.6  # Gaussian pen tip, in pixels of a 28-pixel canvas

_SPLIT_SALT = {"train": 11, "val": 22, "test": 33}


@dataclass(frozen=True)
class Hand:
    """How much the drawings of one character differ, in canvas units (1 = the canvas side)
    and radians; each is the standard deviation of a Gaussian unless said otherwise."""

    stroke_shift: float = 0.02  # each stroke moved on its own
    wobble: float = 0.02  # amplitude of a smooth sine wobble along each stroke
    trim: float = 0.12  # up to this fraction of a stroke missing at each end (uniform)
    rotation: float = 0.2  # of the whole character
    shear: float = 0.18
    stretch: float = 0.12  # log-scale of each axis
    size: tuple[float, float] = (0.8, 1.1)  # overall scale (uniform)
    offset: float = 0.05  # shift of the whole character


def _uniform(shape: tuple[int, ...], low: float, high: float, g: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape, generator=g)


def _direction(angle: torch.Tensor) -> torch.Tensor:
    """Unit vectors for angles (...,) -> (..., 2)."""
    return torch.stack([torch.cos(angle), torch.sin(angle)], dim=-1)


def draw_characters(
    num_classes: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """The skeletons of ``num_classes`` random characters.

    Returns:
        strokes: (C, MAX_STROKES, POINTS_PER_STROKE, 2) points in [0, 1]^2 (x right, y down).
        mask: (C, MAX_STROKES) bool, True for the strokes a character has.
    """
    C, M, T, g = num_classes, MAX_STROKES, POINTS_PER_STROKE, generator
    counts = torch.multinomial(torch.tensor(STROKE_COUNT_PROBS), C, True, generator=g) + 1
    mask = torch.arange(M).unsqueeze(0) < counts.unsqueeze(1)  # (C, M)
    kinds = torch.multinomial(torch.tensor(STROKE_TYPE_PROBS), C * M, True, generator=g).view(C, M)
    t = torch.linspace(0, 1, T).view(1, T, 1)  # (1, T, 1)
    strokes = torch.zeros(C, M, T, 2)
    for m in range(M):
        # Where the pen starts: on an earlier stroke (mostly), or near one.
        if m == 0:
            start = _uniform((C, 2), 0.2, 0.8, g)
        else:
            earlier = torch.randint(0, m, (C,), generator=g)
            where = torch.multinomial(torch.tensor([0.4, 0.3, 0.3]), C, True, generator=g)
            along = torch.where(where == 0, T - 1, torch.where(where == 1, 0, T // 2))
            on_earlier = strokes[torch.arange(C), earlier, along]  # (C, 2)
            near = on_earlier + _uniform((C, 2), -0.25, 0.25, g)
            connect = torch.rand(C, generator=g) < 0.7
            start = torch.where(connect.unsqueeze(1), on_earlier, near)
        # Heading: often near a multiple of 45 degrees, as in most scripts.
        snapped = torch.randint(0, 8, (C,), generator=g) * (math.pi / 4)
        free = _uniform((C,), 0, 2 * math.pi, g)
        heading = torch.where(torch.rand(C, generator=g) < 0.5, snapped, free)
        heading = heading + 0.1 * torch.randn(C, generator=g)
        forward = _direction(heading)  # (C, 2)

        # Line: start + t * length * forward.
        length = _uniform((C, 1, 1), 0.25, 0.6, g)
        line = start.unsqueeze(1) + t * length * forward.unsqueeze(1)  # (C, T, 2)

        # Arc: a circle through the start point, tangent to the heading.
        radius = _uniform((C,), 0.1, 0.28, g)
        turn = torch.where(torch.rand(C, generator=g) < 0.5, -1.0, 1.0)
        sweep = _uniform((C,), 0.5 * math.pi, 1.6 * math.pi, g) * turn
        normal = torch.stack([-forward[:, 1], forward[:, 0]], dim=-1) * turn.unsqueeze(1)
        centre = start + radius.unsqueeze(1) * normal
        phase0 = torch.atan2(start[:, 1] - centre[:, 1], start[:, 0] - centre[:, 0])
        phase = phase0.unsqueeze(1) + sweep.unsqueeze(1) * t.view(1, T)  # (C, T)
        arc = centre.unsqueeze(1) + radius.view(C, 1, 1) * _direction(phase)

        # Cubic Bézier: three legs whose headings drift, giving hooks, waves and S shapes.
        controls = [start]
        angle = heading
        for _ in range(3):
            leg = _uniform((C, 1), 0.1, 0.3, g)
            controls.append(controls[-1] + leg * _direction(angle))
            angle = angle + 1.1 * torch.randn(C, generator=g)
        p0, p1, p2, p3 = (p.unsqueeze(1) for p in controls)
        s = 1 - t
        curve = s**3 * p0 + 3 * s**2 * t * p1 + 3 * s * t**2 * p2 + t**3 * p3

        # Dot: a very short line (never a character's first stroke).
        dot = start.unsqueeze(1) + t * 0.03 * forward.unsqueeze(1)

        kind = kinds[:, m].view(C, 1, 1)
        if m == 0:  # a first stroke is never a dot, and a lone stroke is never straight
            kind = torch.where(kind == 3, 0, kind)
            kind = torch.where((kind == 0) & (counts.view(C, 1, 1) == 1), 2, kind)
        strokes[:, m] = torch.where(
            kind == 0, line, torch.where(kind == 1, arc, torch.where(kind == 2, curve, dot))
        )

    # Centre each character and scale it to fill 0.74 of the canvas; a flat or thin
    # character is stretched across, but by at most 1.6 times more than along.
    big = torch.finfo(strokes.dtype).max
    valid = mask.view(C, M, 1, 1)
    low = torch.where(valid, strokes, big).amin(dim=(1, 2))  # (C, 2)
    high = torch.where(valid, strokes, -big).amax(dim=(1, 2))  # (C, 2)
    fit = 0.74 / (high - low).clamp_min(1e-3)  # (C, 2) scale that fills each axis
    least = fit.amin(dim=1, keepdim=True)
    scale = torch.minimum(fit, 1.6 * least).clamp_max(3.0)
    middle = (low + high) / 2
    strokes = (strokes - middle.view(C, 1, 1, 2)) * scale.view(C, 1, 1, 2) + 0.5
    return strokes * valid, mask


def draw_samples(
    strokes: torch.Tensor,
    mask: torch.Tensor,
    drawings: int,
    generator: torch.Generator,
    hand: Hand | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """New hand-drawn versions of each character: strokes shifted, wobbled and trimmed, the
    whole character moved by a small affine map.

    Only the strokes that exist are kept, one row per (character, stroke, drawing).

    Args:
        strokes: (C, M, T, 2) character skeletons from ``draw_characters``.
        mask: (C, M) which strokes exist.
        drawings: how many drawings of each character.
        hand: how much drawings of one character differ (default ``Hand()``).

    Returns:
        points: (S, 2T-1, 2) pen positions in [0, 1]^2 coordinates.
        weights: (S, 2T-1) ink of each point: the path length it stands for (0 where trimmed).
        owner: (S,) int64 index of the drawing each row belongs to, class-major:
            drawing ``d`` of character ``c`` is ``c * drawings + d``.
    """
    C, M, T, _ = strokes.shape
    D, g, hand = drawings, generator, hand or Hand()
    pair_class, pair_stroke = mask.nonzero(as_tuple=True)  # (V,) the strokes that exist
    draw = torch.arange(D)
    owner = (pair_class.unsqueeze(1) * D + draw).reshape(-1)  # (S,), S = V * D
    points = strokes[pair_class, pair_stroke].repeat_interleave(D, dim=0)  # (S, T, 2)
    S, B = len(owner), C * D
    t = torch.linspace(0, 1, T).view(1, T, 1)

    # Each stroke: a small shift and a smooth wobble along its length.
    freq = torch.randint(1, 3, (S, 1, 2), generator=g).float()
    phase = _uniform((S, 1, 2), 0, 2 * math.pi, g)
    amplitude = hand.wobble * torch.randn(S, 1, 2, generator=g)
    shift = hand.stroke_shift * torch.randn(S, 1, 2, generator=g)
    points = points + shift + amplitude * torch.sin(math.pi * freq * t + phase)

    # Each drawing: p' = rotation @ shear @ diag(scale) @ (p - 0.5) + 0.5 + offset, written
    # out elementwise (a batched 2x2 matmul is far slower on a CPU).
    angle = hand.rotation * torch.randn(B, generator=g)
    cos, sin = torch.cos(angle), torch.sin(angle)
    shear = hand.shear * torch.randn(B, generator=g)
    scale = torch.exp(hand.stretch * torch.randn(B, 2, generator=g))
    scale = scale * _uniform((B, 1), *hand.size, g)
    sx, sy = scale[:, 0], scale[:, 1]
    affine = torch.stack(
        [cos * sx, (cos * shear - sin) * sy, sin * sx, (sin * shear + cos) * sy], dim=1
    )[owner].view(S, 1, 4)
    offset = (0.5 + hand.offset * torch.randn(B, 2, generator=g))[owner].view(S, 1, 2)
    x, y = points[..., 0:1] - 0.5, points[..., 1:2] - 0.5  # (S, T, 1)
    points = (
        torch.cat(
            [
                affine[..., 0:1] * x + affine[..., 1:2] * y,
                affine[..., 2:3] * x + affine[..., 3:4] * y,
            ],
            dim=-1,
        )
        + offset
    )

    # Twice as many points (midpoints inserted) so that splats overlap into a smooth line.
    middle = (points[:, 1:] + points[:, :-1]) / 2
    points = torch.stack([points[:, :-1], middle], dim=2).flatten(1, 2)  # (S, 2T-2, 2)
    points = torch.cat([points, middle[:, -1:] * 2 - points[:, -2:-1]], dim=1)  # (S, 2T-1, 2)

    # Ink: each point carries half of the path length to each neighbour; the pen starts a
    # little late and lifts a little early (trimmed points carry none).
    step = (points[:, 1:] - points[:, :-1]).norm(dim=-1)  # (S, 2T-2)
    weights = F.pad(step, (1, 0)) / 2 + F.pad(step, (0, 1)) / 2  # (S, 2T-1)
    trim = _uniform((S, 2), 0.0, hand.trim, g)
    u = torch.linspace(0, 1, points.shape[1]).view(1, -1)
    weights = weights * ((u >= trim[:, :1]) & (u <= 1 - trim[:, 1:]))
    return points, weights, owner


def _blur_matrix(sigma: float, size: int) -> torch.Tensor:
    """(size, size) symmetric matrix whose product blurs one image axis with a Gaussian."""
    x = torch.arange(size, dtype=torch.float32)
    kernel = torch.exp(-((x.view(-1, 1) - x.view(1, -1)) ** 2) / (2 * sigma**2))
    return kernel / kernel.sum(dim=0, keepdim=True).amax()


def render(
    points: torch.Tensor, weights: torch.Tensor, owner: torch.Tensor, pen: torch.Tensor, size: int
) -> torch.Tensor:
    """Ink images of pen paths.

    Args:
        points: (S, T, 2) positions in [0, 1]^2, one row per stroke.
        weights: (S, T) ink per point, in canvas widths of path length.
        owner: (S,) the image each stroke is drawn into, 0..B-1.
        pen: (B,) pen weight: higher saturates earlier and draws bolder strokes.
        size: canvas side in pixels.

    Returns:
        (B, 1, size, size) float32 in [0, 1], ink = high.
    """
    B = len(pen)
    xy = points * size - 0.5  # (S, T, 2) pixel centres at integers
    w = weights * size  # path length in pixels
    # Splat on a canvas with a 2-pixel margin: points off the canvas are clamped into the
    # margin, which is cut away, so no per-tap bounds checks are needed.
    padded = size + 4
    base = xy.floor()
    frac = xy - base
    base = base.clamp_(-2, size).long() + 2  # (S, T, 2) in 0..size+2
    start = (owner * (padded * padded)).unsqueeze(1)  # (S, 1)
    row0 = start + base[..., 1] * padded + base[..., 0]  # (S, T) top-left tap
    fx, fy = frac[..., 0], frac[..., 1]
    top, bottom = w * (1 - fy), w * fy
    canvas = torch.zeros(B * padded * padded)
    for shift, share in (
        (0, top * (1 - fx)),
        (1, top * fx),
        (padded, bottom * (1 - fx)),
        (padded + 1, bottom * fx),
    ):
        canvas.index_add_(0, (row0 + shift).reshape(-1), share.reshape(-1))
    canvas = canvas.view(B, padded, padded)[:, 2 : size + 2, 2 : size + 2]
    # The pen tip: a separable Gaussian blur as two matrix products, (B, H, W) @ (W, W).
    sigma = PEN_SIGMA * size / 28
    blur = _blur_matrix(sigma, size)
    canvas = (canvas.reshape(B * size, size) @ blur).view(B, size, size)
    canvas = blur @ canvas
    # A straight line's blurred density peaks near 1 / (sqrt(2 pi) sigma) per pixel;
    # ink = 1 - exp(-pen * density), in place to spare memory traffic.
    gain = -pen.view(B, 1, 1) * (sigma * math.sqrt(2 * math.pi))
    return canvas.mul_(gain).exp_().neg_().add_(1).unsqueeze(1)


def make_glyphs(
    num_classes: int,
    drawings: int = DRAWINGS_PER_CLASS,
    image_size: int = 28,
    seed: int = 0,
    hand: Hand | None = None,
) -> torch.Tensor:
    """``drawings`` images of each of ``num_classes`` random characters.

    Returns:
        (num_classes, drawings, 1, image_size, image_size) float32 in [0, 1], ink = high.
    """
    g = torch.Generator().manual_seed(int(seed))
    strokes, mask = draw_characters(num_classes, g)
    points, weights, owner = draw_samples(strokes, mask, drawings, g, hand)
    pen = _uniform((num_classes * drawings,), 1.6, 3.2, g)
    images = render(points, weights, owner, pen, image_size)
    return images.view(num_classes, drawings, 1, image_size, image_size)


class GlyphsSource(ClassificationSource):
    """One split of the glyphs data set: ``num_classes`` random characters, drawn many times.

    Args:
        split: ``"train"``, ``"val"`` or ``"test"``; each split draws its characters from its
            own random stream, so splits never share a character.
        seed: picks the characters and their drawings.
        image_size: canvas side in pixels (28 by default, like Omniglot in few-shot papers).
        num_classes: characters in this split (default ``CLASSES_PER_SPLIT[split]``).
        drawings_per_class: drawings of each character (the limit on K+Q; 20 as in Omniglot).
        rotations: add each character turned by 90, 180 and 270 degrees as new classes.
    """

    def __init__(
        self,
        split: str = "train",
        seed: int = 0,
        image_size: int = 28,
        num_classes: int | None = None,
        drawings_per_class: int = DRAWINGS_PER_CLASS,
        rotations: bool = False,
    ):
        if split not in _SPLIT_SALT:
            raise ValueError(f"unknown split {split!r}; choose one of {', '.join(_SPLIT_SALT)}")
        if image_size < 8:
            raise ValueError(f"image_size={image_size} is too small for glyphs (at least 8)")
        count = CLASSES_PER_SPLIT[split] if num_classes is None else int(num_classes)
        if count < 1 or drawings_per_class < 1:
            raise ValueError(
                f"glyphs need at least one class and one drawing, got num_classes={count}, "
                f"drawings_per_class={drawings_per_class}"
            )
        seed = int(seed) * 1_000_003 + _SPLIT_SALT[split]
        images = make_glyphs(count, drawings_per_class, image_size, seed)
        examples = list(images)
        names = [f"{split}/glyph{i:04d}" for i in range(count)]
        if rotations:
            examples, names = add_rotations(examples, names)
        super().__init__("glyphs", split, examples, names)
