"""Learn 4: Matching Networks (article 3.2): cosine weights, the softmax over them, and
full-context embeddings."""

from __future__ import annotations

import math

import streamlit as st
import torch

from metalearn_core.figures.lessons import attention_bars_figure, plane_figure
from metalearn_core.lessons.metric import (
    MAX_ATTENTION_SCALE,
    article_prediction,
    attention_prediction,
    cosine_similarities,
    softmax_attention,
)
from studio_ui.i18n import _
from studio_ui.learn import formula, notation_table
from studio_ui.live_chart import STATIC_CHART_CONFIG
from studio_ui.runtime import ensure_entrypoint

# A 2-way 2-shot support set, already embedded in a plane: class 0 up and to the right,
# class 1 to the left.
SUPPORT = torch.tensor([[2.0, 0.6], [1.4, 1.6], [-1.8, 0.8], [-1.2, -1.6]])
SUPPORT_Y = torch.tensor([0, 0, 1, 1])
N_WAY = 2
EXTENT = 3.0

ensure_entrypoint()
st.title(_("Matching Networks"))
st.markdown(
    _(
        "Matching Networks are metric-based: an encoder g embeds every example, and a query "
        "takes the labels of the support examples it resembles. Here the embeddings are "
        "points of a plane that you move; in the app g is a trained network."
    )
)
notation_table(
    [
        ("$S = \\{(x_i, y_i)\\}$", _("support set"), _("labelled examples of the episode")),
        ("$g$", _("the backbone (both sides)"), _("the encoder of the examples")),
        ("$c(x_j, x_i)$", _("cosine similarity"), _("how alike two embeddings are")),
        ("$a(x_j, x_i)$", _("attention"), _("the weight of support example i for query j")),
        ("$s$", _("attention scale (learned or fixed)"), _("the softmax's sharpness")),
    ]
)
formula(
    r"c(x_j, x_i) = \frac{g(x_j)^\top g(x_i)}{\lVert g(x_j)\rVert \, \lVert g(x_i)\rVert}",
    _("The similarity is the cosine of the angle between two embeddings:"),
)
formula(
    r"\hat{y}_j = \sum_{(x_i, y_i) \in S} c(x_j, x_i)\, y_i",
    _("**The article** weighs each support label by that cosine directly:"),
)
formula(
    r"a(x_j, x_i) = \frac{e^{s\,c(x_j, x_i)}}{\sum_{i'} e^{s\,c(x_j, x_{i'})}}, \qquad"
    r" \hat{y}_j = \sum_{i} a(x_j, x_i)\, y_i",
    _("**The paper and this app** put a softmax over the cosines first:"),
)
st.warning(
    _(
        "**The article and this app differ here.** With raw cosines the weights can be "
        "negative and do not sum to 1, so ŷ is a score, not a probability, and cross-entropy "
        "cannot be applied to it directly. The softmax makes the weights positive and sum to "
        "1; its scale s (learned in this app) sets how sharply the closest example wins."
    ),
    icon=":material/compare_arrows:",
)

controls, picture = st.columns([1, 2])
with controls:
    angle = st.slider(_("query direction (degrees)"), -180, 180, 30, 5, key="learn_matching_angle")
    length = st.slider(_("query length"), 0.2, 2.8, 1.5, 0.1, key="learn_matching_length")
    scale = st.slider(
        _("softmax scale s"), 0.5, min(20.0, MAX_ATTENTION_SCALE), 5.0, 0.5,
        key="learn_matching_scale",
    )  # fmt: skip
query = torch.tensor(
    [[length * math.cos(math.radians(angle)), length * math.sin(math.radians(angle))]]
)
cosines = cosine_similarities(query, SUPPORT)  # (1, 4)
attention = softmax_attention(cosines, scale)  # (1, 4)
article_scores = article_prediction(cosines, SUPPORT_Y, N_WAY)[0]
softmax_scores = attention_prediction(attention, SUPPORT_Y, N_WAY)[0]
with controls:
    st.markdown(_("Class scores ŷ for the query:"))
    st.dataframe(
        [
            {
                _("class"): k,
                _("article (cosine)"): round(float(article_scores[k]), 3),
                _("softmax"): round(float(softmax_scores[k]), 3),
            }
            for k in range(N_WAY)
        ],
        hide_index=True,
    )
    st.caption(
        _(
            "The length of the query changes nothing: a cosine sees only directions. "
            "Raise s and the softmax turns into picking the nearest example."
        )
    )
with picture:
    names = [_("support {index}").format(index=i + 1) for i in range(len(SUPPORT))]
    st.plotly_chart(
        attention_bars_figure(
            names,
            SUPPORT_Y.tolist(),
            [(_("cosine c (article)"), cosines[0]), (_("softmax a (app)"), attention[0])],
            title=_("The weight of each support example"),
            y_label=_("weight"),
        ),
        config=STATIC_CHART_CONFIG,
        key="learn_matching_bars",
    )
    st.plotly_chart(
        plane_figure(
            SUPPORT, SUPPORT_Y.tolist(), query=query, extent=EXTENT,
            names={"support": _("support"), "query": _("query"), "class": _("class")},
            title=_("Embeddings"), height=360,
        ),
        config=STATIC_CHART_CONFIG,
        key="learn_matching_plane",
    )  # fmt: skip

st.header(_("Full-context embeddings"))
st.markdown(
    _(
        "The paper goes further: each embedding sees the whole support set. A bidirectional "
        "LSTM reads the support embeddings, and the query embedding attends to them for K "
        "steps of an LSTM. The app's Matching Networks use these when their *full-context "
        "embeddings* option is on."
    )
)
formula(
    r"g(x_i, S) = \overrightarrow{h}_i + \overleftarrow{h}_i + g'(x_i)",
    _("Support side: a bidirectional LSTM over g'(x_1), …, g'(x_{|S|}), plus a skip connection:"),
)
formula(
    r"\hat{h}_k, c_k = \operatorname{LSTM}(f'(x), [h_{k-1}, r_{k-1}], c_{k-1}),\quad"
    r" h_k = \hat{h}_k + f'(x),\quad r_k = \sum_i \operatorname{softmax}_i"
    r"\big(h_{k-1}^\top g(x_i, S)\big)\, g(x_i, S)",
    _("Query side: K steps of an LSTM that reads the support set by attention, f(x, S) = h_K:"),
)
