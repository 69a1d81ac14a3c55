"""Learn 5: Prototypical Networks (article 3.3, finished from the paper)."""

from __future__ import annotations

from functools import partial

import streamlit as st
import torch

from metalearn_core.figures.lessons import add_click_grid, plane_figure
from metalearn_core.lessons.metric import (
    nearest_prototype_grid,
    placed_prototypes,
    prototype_probabilities,
    prototypes,
)
from studio_ui.i18n import _
from studio_ui.learn import added_note, formula, notation_table
from studio_ui.live_chart import CHART_CONFIG, STATIC_CHART_CONFIG
from studio_ui.plot_clicks import (
    MAX_PLACED_POINTS,
    chart_key,
    clear_points,
    handle_click,
    placed_points,
)
from studio_ui.runtime import ensure_entrypoint

EXTENT = 3.0
N_WAY, K_SHOT = 3, 2
# Start positions of the support points (class by class) and the query.
START_POINTS = ((-2.0, 1.5), (-1.0, 2.0), (1.5, 1.5), (2.0, 0.5), (0.0, -2.0), (-0.5, -1.0))
QUERY = (0.3, 0.4)
CLICKED_POINTS = "learn_prototypes_points"
CLICK_CLASS = "learn_prototypes_click_class"

ensure_entrypoint()
st.title(_("Prototypical Networks"))
st.markdown(
    _(
        "Prototypical Networks are metric-based, like Matching Networks, but they compare a "
        "query with one point per class instead of with every support example: the class's "
        "**prototype**, the mean of its embedded support examples."
    )
)
notation_table(
    [
        ("$f_\\phi$", _("the backbone"), _("the embedding network, weights φ")),
        ("$S_k$", _("support examples of class k"), _("K examples in a K-shot episode")),
        ("$c_k$", _("prototype"), _("the mean embedding of class k")),
        (
            "$d$",
            _("squared Euclidean distance (default)"),
            _("the paper's choice; cosine is an option"),
        ),
    ]
)
formula(
    r"c_k = \frac{1}{|S_k|} \sum_{(x_i, y_i) \in S_k} f_\phi(x_i)",
    _(
        "The article's part ends here: each class is represented by the mean of its support embeddings."
    ),
)
added_note(
    _(
        "**Added: the rest of this section is not in the article**, which stops at the "
        "prototype; it is completed from the paper (Snell, Swersky & Zemel, *Prototypical "
        "Networks for Few-shot Learning*, NeurIPS 2017)."
    )
)
formula(
    r"p_\phi(y = k \mid x) = \frac{\exp(-d(f_\phi(x), c_k))}{\sum_{k'} \exp(-d(f_\phi(x), c_{k'}))}",
    _("A query gets a softmax over its negative distances to the prototypes:"),
)
formula(
    # the words inside the formula are translated too (KaTeX draws them with the page's fonts)
    r"J(\phi) = -\log p_\phi(y = k \mid x) \qquad \text{" + _("k: the true class of x") + "}",
    _("Training minimises the negative log-probability of the true class k, over query "
      "examples of many episodes:"),
)  # fmt: skip
formula(
    r"-\lVert f_\phi(x) - c_k\rVert^2 = -f_\phi(x)^\top f_\phi(x) + 2 c_k^\top f_\phi(x)"
    r" - c_k^\top c_k",
    _(
        "With the squared Euclidean distance the classifier is linear in the embedding: the "
        "first term is the same for every class, so class k has weights 2c_k and bias "
        "−‖c_k‖². The paper also shows that with one example per class it is close to "
        "Matching Networks."
    ),
)

st.subheader(_("Move the support points"))
positions = []
columns = st.columns(N_WAY)
for index, (x0, y0) in enumerate(START_POINTS):
    label = index // K_SHOT
    with columns[label]:
        if index % K_SHOT == 0:
            st.markdown(_("**class {label}**").format(label=label))
        point_name = _("point {number}").format(number=index % K_SHOT + 1)
        x = st.slider(
            f"{point_name}: x", -EXTENT, EXTENT, x0, 0.1, key=f"learn_prototypes_x{index}"
        )
        y = st.slider(
            f"{point_name}: y", -EXTENT, EXTENT, y0, 0.1, key=f"learn_prototypes_y{index}"
        )
        positions.append((x, y))
support = torch.tensor(positions)
support_y = torch.arange(N_WAY).repeat_interleave(K_SHOT)
query = torch.tensor([QUERY])
centres = prototypes(support, support_y, N_WAY)
probabilities = prototype_probabilities(query, centres)[0]
left, right = st.columns([2, 1])
with left:
    st.plotly_chart(
        plane_figure(
            support, support_y.tolist(), query=query, centres=centres,
            regions=nearest_prototype_grid(centres, EXTENT), extent=EXTENT,
            names={"support": _("support"), "prototype": _("prototype"), "query": _("query"),
                   "class": _("class")},
            title=_("Prototypes (stars) and the region each one wins"),
        ),
        config=STATIC_CHART_CONFIG,
        key="learn_prototypes_plane",
    )  # fmt: skip
with right:
    st.markdown(_("The query (black cross) gets:"))
    st.dataframe(
        [
            {
                _("class"): k,
                _("prototype"): f"({centres[k, 0]:.2f}, {centres[k, 1]:.2f})",
                "p(y = k | x)": round(float(probabilities[k]), 3),
            }
            for k in range(N_WAY)
        ],
        hide_index=True,
    )
    st.caption(
        _(
            "A prototype is the midpoint of its class's points; the border between two "
            "regions is the perpendicular bisector of their prototypes, a straight line, as "
            "the linear form above says."
        )
    )

st.subheader(_("Place the support points yourself"))
st.markdown(
    _(
        "Choose a class, then click on the plane to add a support point of that class (at "
        "most {limit} points). Each class with a point gets a prototype, and the query "
        "(black cross) goes to the nearest one."
    ).format(limit=MAX_PLACED_POINTS)
)
placed = placed_points(st.session_state, CLICKED_POINTS)
click_controls, click_picture = st.columns([1, 2])
with click_controls:
    st.radio(
        _("class of the next point"), list(range(N_WAY)), horizontal=True,
        format_func=lambda k: _("class {label}").format(label=k), key=CLICK_CLASS,
    )  # fmt: skip
    st.button(
        _("Clear the points"), on_click=clear_points, args=(st.session_state, CLICKED_POINTS),
        disabled=not placed.xy, key="learn_prototypes_clear_points",
    )  # fmt: skip
    st.caption(
        _("{count} of {limit} points placed.").format(count=len(placed), limit=MAX_PLACED_POINTS)
    )
placed_xy = torch.tensor(placed.xy, dtype=torch.float32).reshape(-1, 2)  # (P, 2)
placed_labels = torch.tensor(placed.labels, dtype=torch.int64)
classes, placed_centres = placed_prototypes(placed_xy, placed_labels, N_WAY)
placed_regions = None
if len(classes):
    axis, nearest = nearest_prototype_grid(placed_centres, EXTENT)
    placed_regions = (axis, classes[nearest])  # region labels: class numbers
with click_picture:
    click_figure = plane_figure(
        placed_xy, placed.labels, query=query, centres=placed_centres if len(classes) else None,
        centre_labels=classes.tolist(), regions=placed_regions, extent=EXTENT,
        names={"support": _("support"), "prototype": _("prototype"), "query": _("query"),
               "class": _("class")},
        title=_("Click to place support points"),
    )  # fmt: skip
    add_click_grid(click_figure, (-EXTENT, EXTENT), (-EXTENT, EXTENT), 31, 31)
    st.plotly_chart(
        click_figure,
        key=chart_key(st.session_state, CLICKED_POINTS),
        on_select=partial(
            handle_click, st.session_state, CLICKED_POINTS, (-EXTENT, EXTENT),
            (-EXTENT, EXTENT), CLICK_CLASS,
        ),
        selection_mode="points",
        config=CHART_CONFIG,
    )  # fmt: skip
with click_controls:
    if len(classes):
        placed_probabilities = prototype_probabilities(query, placed_centres)[0]
        st.dataframe(
            [
                {_("class"): int(k), "p(y = k | x)": round(float(p), 3)}
                for k, p in zip(classes, placed_probabilities, strict=True)
            ],
            hide_index=True,
        )
    else:
        st.caption(_("Click on the plane to place the first point."))
