"""Learn 5: Prototypical Networks (article 3.3, finished from the paper)."""

from __future__ import annotations

import streamlit as st
import torch

from metalearn_core.figures.lessons import plane_figure
from metalearn_core.lessons.metric import (
    nearest_prototype_grid,
    prototype_probabilities,
    prototypes,
)
from studio_ui.i18n import _
from studio_ui.learn import added_note, formula, notation_table
from studio_ui.live_chart import STATIC_CHART_CONFIG
from studio_ui.runtime import ensure_entrypoint

EXTENT = 3.0
N_WAY, K_SHOT = 3, 2
# Start positions of the support points (class by class) and the query.
START_POINTS = ((-2.0, 1.5), (-1.0, 2.0), (1.5, 1.5), (2.0, 0.5), (0.0, -2.0), (-0.5, -1.0))
QUERY = (0.3, 0.4)

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
