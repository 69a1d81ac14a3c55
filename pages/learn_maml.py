"""Learn 3: MAML, with first-order MAML and Reptile (article 3.1), on live sinusoid tasks."""

from __future__ import annotations

import statistics
from functools import partial

import streamlit as st
import torch

from metalearn_core.figures.lessons import add_click_grid, curves_figure, loss_lines_figure
from metalearn_core.lessons import sinusoid_maml
from studio_ui import learn
from studio_ui.i18n import _
from studio_ui.learn import (
    LESSON_SEED,
    METHOD_SETTINGS,
    formula,
    meta_trained,
    notation_table,
)
from studio_ui.live_chart import CHART_CONFIG, STATIC_CHART_CONFIG
from studio_ui.plot_clicks import (
    MAX_PLACED_POINTS,
    chart_key,
    clear_points,
    handle_click,
    placed_points,
)
from studio_ui.runtime import ensure_entrypoint

PROBE_X = torch.linspace(-5, 5, 200).unsqueeze(1)  # (200, 1) where the curves are drawn
MAX_LESSON_INNER_LR = 0.1  # past ~0.05 the adapted curve already overshoots: the lesson
MAX_LESSON_INNER_STEPS = 10
HELD_OUT_TASKS = 10
CHART = {"config": STATIC_CHART_CONFIG}
CLICKED_POINTS = "learn_maml_points"
CLICK_X_RANGE, CLICK_Y_RANGE = (-5.0, 5.0), (-6.0, 6.0)  # sinusoids: x in [-5, 5], |y| <= 5


@st.cache_data(show_spinner=False, max_entries=32)
def cached_walkthrough(task_seed: int) -> sinusoid_maml.MamlWalkthrough:
    """Steps 1-6 from a fresh θ on the tasks of ``task_seed`` (30 repetitions for step 6)."""
    return sinusoid_maml.maml_walkthrough(
        sinusoid_maml.init_parameters(LESSON_SEED), seed=task_seed, inner_lr=0.01,
        outer_lr=0.001, meta_batch=2, repeats=30,
    )  # fmt: skip


ensure_entrypoint()
st.title(_("MAML, first-order MAML and Reptile"))
st.markdown(
    _(
        "MAML (Model-Agnostic Meta-Learning) is optimisation-based: it learns an "
        "initialisation θ from which a few gradient steps on a new task's support set give a "
        "good model for that task. Here every task is a sine wave y = A sin(x − φ); the "
        "model is a small network (1-40-40-1), meta-trained for a moment when the page first "
        "opens on the server."
    )
)
st.subheader(_("Notation"))
notation_table(
    [
        (r"$\mathcal{T}_i$", _("an episode (task)"), _("one task drawn from p(T)")),
        (
            r"$\mathcal{D}_i^{tr}$",
            _("support set (`support_x`, `support_y`)"),
            _("the examples the model adapts on"),
        ),
        (
            r"$\mathcal{D}_i^{val}$",
            _("query set (`query_x`, `query_y`)"),
            _("the examples the adapted model is scored on"),
        ),
        (r"$\alpha$", "`inner_lr`", _("the inner (task) learning rate")),
        (r"$\beta$", "`outer_lr`", _("the outer (meta) learning rate")),
        (r"$\theta_i'$", _("adapted weights"), _("θ after the inner steps on task i")),
        (
            r"$\mathcal{L}_{\mathcal{M}}$",
            _("meta-loss (mean over the meta-batch)"),
            _("the article sums over tasks; the app averages (only β's scale differs)"),
        ),
    ]
)

# ---- the inner step -----------------------------------------------------------------------
st.header(_("The inner step"))
formula(
    r"\theta_i' = \theta - \alpha \nabla_\theta \mathcal{L}_{\mathcal{T}_i}"
    r"(f_\theta, \mathcal{D}_i^{tr})",
    _("Adapting to a task is plain gradient descent on its support set, from θ:"),
)
controls, picture = st.columns([1, 2])
with controls:
    inner_lr = st.slider(
        _("inner learning rate α"),
        0.0,
        MAX_LESSON_INNER_LR,
        0.01,
        0.005,
        format="%.3f",
        key="learn_maml_inner_lr",
    )
    inner_steps = st.slider(
        _("inner steps"), 1, MAX_LESSON_INNER_STEPS, 1, key="learn_maml_inner_steps"
    )
    task_seed = st.number_input(
        _("task seed"), min_value=0, max_value=9999, value=3, step=1, key="learn_maml_task"
    )
with st.spinner(_("Meta-training the small networks…")):
    theta, _maml_losses = meta_trained("maml")
task = sinusoid_maml.sample_task(torch.Generator().manual_seed(int(task_seed)), 10, 10)
path = sinusoid_maml.adapt(theta, task.support_x, task.support_y, inner_lr, inner_steps)
with torch.no_grad():
    loss_before = sinusoid_maml.mse(path[0], task.query_x, task.query_y).item()
    loss_after = sinusoid_maml.mse(path[-1], task.query_x, task.query_y).item()
    adapted_curve = sinusoid_maml.predict(path[-1], PROBE_X)
    start_curve = sinusoid_maml.predict(path[0], PROBE_X)
with controls:
    st.metric(_("query loss at θ"), f"{loss_before:.3f}")
    st.metric(
        _("query loss at θ'"), f"{loss_after:.3f}", delta=f"{loss_after - loss_before:+.3f}",
        delta_color="inverse",
    )  # fmt: skip
    if loss_after > loss_before:
        st.caption(_("α is too large here: the steps overshoot and the fit gets worse."))
with picture:
    st.plotly_chart(
        curves_figure(
            PROBE_X,
            [(_("true function"), task.true_curve(PROBE_X)), (_("θ (meta-learned start)"),
             start_curve), (_("θ' (adapted)"), adapted_curve)],
            points=[(_("support points"), task.support_x, task.support_y)],
            title=_("One task: the start θ and the adapted θ'"),
        ),
        key="learn_maml_inner",
        **CHART,
    )  # fmt: skip

# ---- support points placed by the student --------------------------------------------------
st.subheader(_("Place the support points yourself"))
st.markdown(
    _(
        "Click on the chart to add a support point (at most {limit}). θ' adapts to your "
        "points with the α and the inner steps chosen above; the dotted line is the task "
        "above, as a guide: put points on it, or make a function of your own."
    ).format(limit=MAX_PLACED_POINTS)
)
placed = placed_points(st.session_state, CLICKED_POINTS)
clicked_controls, clicked_picture = st.columns([1, 2])
with clicked_controls:
    st.button(
        _("Clear the points"), on_click=clear_points, args=(st.session_state, CLICKED_POINTS),
        disabled=not placed.xy, key="learn_maml_clear_points",
    )  # fmt: skip
    st.caption(
        _("{count} of {limit} points placed.").format(count=len(placed), limit=MAX_PLACED_POINTS)
    )
clicked_curves = [(_("true function"), task.true_curve(PROBE_X)), (_("θ (meta-learned start)"),
                  start_curve)]  # fmt: skip
clicked_support = []
if placed.xy:
    placed_xy = torch.tensor(placed.xy)  # (P, 2): x, y of each point
    placed_x, placed_y = placed_xy[:, :1], placed_xy[:, 1:]
    clicked_path = sinusoid_maml.adapt(theta, placed_x, placed_y, inner_lr, inner_steps)
    with torch.no_grad():
        clicked_curves.append((_("θ' (adapted)"), sinusoid_maml.predict(clicked_path[-1], PROBE_X)))
        fit_before = sinusoid_maml.mse(clicked_path[0], placed_x, placed_y).item()
        fit_after = sinusoid_maml.mse(clicked_path[-1], placed_x, placed_y).item()
    clicked_support = [(_("your support points"), placed_x, placed_y)]
    with clicked_controls:
        st.metric(_("loss on your points at θ"), f"{fit_before:.3f}")
        st.metric(
            _("loss on your points at θ'"), f"{fit_after:.3f}",
            delta=f"{fit_after - fit_before:+.3f}", delta_color="inverse",
        )  # fmt: skip
with clicked_picture:
    clicked_figure = curves_figure(
        PROBE_X, clicked_curves, points=clicked_support,
        title=_("Click to place support points"),
    )  # fmt: skip
    add_click_grid(clicked_figure, CLICK_X_RANGE, CLICK_Y_RANGE)
    clicked_figure.update_yaxes(range=list(CLICK_Y_RANGE))
    st.plotly_chart(
        clicked_figure,
        key=chart_key(st.session_state, CLICKED_POINTS),
        on_select=partial(
            handle_click, st.session_state, CLICKED_POINTS, CLICK_X_RANGE, CLICK_Y_RANGE
        ),
        selection_mode="points",
        config=CHART_CONFIG,
    )

# ---- the six steps --------------------------------------------------------------------------
st.header(_("The algorithm, one step at a time"))
STEP_TEXTS = [
    _("Initialise the parameters θ."),
    _("Sample a batch of tasks {T_i}."),
    _(
        "For each task: sample its support set D_i^tr and query set D_i^val, adapt θ on "
        "D_i^tr to θ'_i, and compute the query loss L_Ti(f_θ'_i, D_i^val)."
    ),
    _("Sum the query losses into the meta-objective L_M(θ)."),
    _("Update θ by gradient descent on L_M(θ), differentiating through the inner step."),
    _("Repeat steps 2-5 until convergence."),
]
step = st.select_slider(
    _("step"),
    options=list(range(1, 7)),
    value=1,
    key="learn_maml_step",
    format_func=lambda number: _("step {number}").format(number=number),
)
st.markdown(
    "\n".join(
        f"{number}. **▶ {text}**" if number == step else f"{number}. {text}"
        for number, text in enumerate(STEP_TEXTS, start=1)
    )
)
formula(
    {
        1: r"\theta \sim \text{init}",
        2: r"\{\mathcal{T}_i\} \sim p(\mathcal{T})",
        3: r"\theta_i' = \theta - \alpha \nabla_\theta \mathcal{L}_{\mathcal{T}_i}"
        r"(f_\theta, \mathcal{D}_i^{tr})",
        4: r"\mathcal{L}_{\mathcal{M}}(\theta) = \sum_{\mathcal{T}_i}"
        r" \mathcal{L}_{\mathcal{T}_i}(f_{\theta_i'}, \mathcal{D}_i^{val})",
        5: r"\theta \leftarrow \theta - \beta \nabla_\theta \mathcal{L}_{\mathcal{M}}(\theta)",
        6: r"\text{repeat 2--5}",
    }[step]
)
walk = cached_walkthrough(int(task_seed))
with torch.no_grad():
    theta_curve = sinusoid_maml.predict(walk.theta, PROBE_X)
    if step == 1:
        figure = curves_figure(
            PROBE_X, [(_("f_θ at initialisation"), theta_curve)],
            title=_("Step 1: θ, a random network"), reference_first=False,
        )  # fmt: skip
    elif step in (2, 3):
        curves, points = [], []
        for index, (walk_task, adapted) in enumerate(zip(walk.tasks, walk.adapted, strict=True)):
            label = _("task {index}").format(index=index + 1)
            curves.append((_("{task}: true function").format(task=label),
                           walk_task.true_curve(PROBE_X)))  # fmt: skip
            if step == 3:
                curves.append(
                    (_("{task}: θ'").format(task=label), sinusoid_maml.predict(adapted, PROBE_X))
                )
                points.append((_("{task}: support").format(task=label), walk_task.support_x,
                               walk_task.support_y))  # fmt: skip
        figure = curves_figure(
            PROBE_X, [*curves, (_("f_θ"), theta_curve)], points=points, reference_first=False,
            title=_("Step {step}: the sampled tasks").format(step=step),
        )  # fmt: skip
    elif step == 4:
        figure = loss_lines_figure(
            [(_("query loss of each task"), walk.query_losses)],
            title=_("Step 4: L_M = {total:.2f}").format(total=walk.meta_loss),
            x_label=_("task"),
        )
    elif step == 5:
        figure = curves_figure(
            PROBE_X, [(_("f_θ before"), theta_curve), (_("f_θ after one meta-update"),
                                                    sinusoid_maml.predict(walk.updated, PROBE_X))],
            title=_("Step 5: θ moves (β = {beta})").format(beta=walk.outer_lr),
            reference_first=False,
        )  # fmt: skip
    else:
        figure = loss_lines_figure(
            [(_("meta-loss L_M"), walk.repeated_losses)],
            title=_("Step 6: L_M over repeated meta-updates"),
            x_label=_("meta-update"),
        )
st.plotly_chart(figure, key="learn_maml_walk", **CHART)

# ---- first-order MAML and Reptile -----------------------------------------------------------
st.header(_("First-order MAML and Reptile"))
st.markdown(
    _(
        "MAML's meta-gradient passes through the inner step, so it needs second derivatives "
        "(the Hessian of the support loss). Two cheaper variants drop them:"
    )
)
formula(
    r"\nabla_\theta \mathcal{L}(f_{\theta'}) = \big(I - \alpha \nabla^2_\theta"
    r" \mathcal{L}_{tr}(f_\theta)\big)\, \nabla_{\theta'} \mathcal{L}(f_{\theta'})",
    _("**MAML**: the full chain rule through θ' = θ − α∇L_tr(θ)."),
)
formula(
    r"\nabla_\theta \mathcal{L}(f_{\theta'}) \approx \nabla_{\theta'}"
    r" \mathcal{L}(f_{\theta'})",
    _("**First-order MAML** drops the second-derivative term: the query gradient at θ'."),
)
formula(
    r"\theta \leftarrow \theta + \varepsilon\,(\phi - \theta)",
    _(
        "**Reptile** takes several plain SGD steps on the task to reach φ, then moves θ "
        "towards φ; no query loss is differentiated at all."
    ),
)
st.markdown(
    _(
        "The three below start from the same θ and meta-train on the same tasks in the same "
        "order ({steps} meta-updates of 5 tasks each); each is then adapted on the task "
        "chosen above with its own inner settings."
    ).format(steps=learn.LESSON_META_STEPS)
)
with st.spinner(_("Meta-training the small networks…")):
    trained = {method: meta_trained(method) for method in sinusoid_maml.METHODS}
method_names = {
    "maml": _("MAML"),
    "fomaml": _("first-order MAML"),
    "reptile": _("Reptile"),
}
held_out = [
    sinusoid_maml.sample_task(torch.Generator().manual_seed(10_000 + index), 10, 10)
    for index in range(HELD_OUT_TASKS)
]
adapted_curves, rows = [], []
for method, (params, _losses) in trained.items():
    settings = METHOD_SETTINGS[method]
    last = sinusoid_maml.adapt(
        params, task.support_x, task.support_y, settings["inner_lr"], settings["inner_steps"]
    )[-1]
    with torch.no_grad():
        adapted_curves.append((method_names[method], sinusoid_maml.predict(last, PROBE_X)))
        scores = [
            sinusoid_maml.mse(
                sinusoid_maml.adapt(
                    params, t.support_x, t.support_y, settings["inner_lr"],
                    settings["inner_steps"],
                )[-1], t.query_x, t.query_y,
            ).item()
            for t in held_out
        ]  # fmt: skip
    rows.append(
        {_("learner"): method_names[method], _("held-out query loss"): statistics.fmean(scores)}
    )
left, right = st.columns(2)
with left:
    st.plotly_chart(
        curves_figure(
            PROBE_X, [(_("true function"), task.true_curve(PROBE_X)), *adapted_curves],
            points=[(_("support points"), task.support_x, task.support_y)],
            title=_("Adapted on the chosen task"),
        ),
        key="learn_maml_compare_curves",
        **CHART,
    )  # fmt: skip
with right:
    st.plotly_chart(
        loss_lines_figure(
            [(method_names[m], losses) for m, (_p, losses) in trained.items()],
            title=_("Query loss during meta-training"),
            x_label=_("meta-update"),
        ),
        key="learn_maml_compare_losses",
        **CHART,
    )
st.dataframe(rows, hide_index=True)
st.caption(
    _("Mean query loss after adaptation on {count} held-out tasks (lower is better).").format(
        count=HELD_OUT_TASKS
    )
)
