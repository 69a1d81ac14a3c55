"""The words of the episode pictures (``episodes``, ``embeddings``, ``internals``).

Builders take them as one argument, ``words``, English by default; the app passes a copy
in the student's language (``studio_ui.i18n.translated_words``). The defaults are marked
with the core's no-op ``N_`` so that Babel extracts them. ``{name}`` fields are filled in
by the builder (a label, a step, a count).
"""

from __future__ import annotations

from dataclasses import dataclass

from metalearn_core.words import N_


@dataclass(frozen=True)
class EpisodeWords:
    # an episode's examples (episodes.py)
    support_shot: str = N_("support ({k}-shot)")
    support: str = N_("support")
    query: str = N_("query")
    support_class: str = N_("support {label}")
    query_class: str = N_("query {label}")
    query_right: str = N_("query right")
    query_wrong: str = N_("query wrong")
    right: str = N_("right")
    wrong: str = N_("wrong")
    query_predicted: str = N_("query {index}: true {label}, predicted {predicted}")
    true_predicted: str = N_("true {label}, predicted {predicted}")
    true_function: str = N_("true function")
    step: str = N_("step {step}")
    prediction: str = N_("prediction")
    # an episode in the embedding space (embeddings.py)
    embedding_axis: str = N_("embedding {n}")
    principal_axis: str = N_("PC {n} ({share}% of variance)")
    prototypes: str = N_("prototypes")
    prototype: str = N_("prototype {label}")
    nearest_prototype: str = N_("nearest prototype")
    # what a learner did inside (internals.py)
    query_loss: str = N_("query loss")
    query_accuracy: str = N_("query accuracy (%)")
    accuracy: str = N_("accuracy (%)")
    inner_step: str = N_("inner step")
    query_row: str = N_("q{index} · {label} {mark}")
    prototype_column: str = N_("proto {label}")
    distance: str = N_("distance")
    support_column: str = N_("s{index} · {label}")
    attention: str = N_("attention")
    code_row: str = N_("r{index} (x={x})")
    code_mean: str = N_("r = mean")
    value: str = N_("value")
    code_unit: str = N_("code unit")
    unit: str = N_("unit")
    inner_steps_caption: str = N_(
        "Query loss after each inner step: step 0 is before any step on the support set."
    )
    distances_caption: str = N_(
        "Each query's distance to each class prototype; the nearest prototype is the prediction."
    )
    attention_caption: str = N_("Each query's attention over the support examples.")
    codes_caption: str = N_("Each support point's code r_i and their mean r (last row).")
    embedding_marks: str = N_("support (diamonds), queries (dots; black ✗ where wrong)")
    prototype_marks: str = N_(", class prototypes (stars, under the diamonds)")
    flat_caption: str = N_("The episode in the 2-D embedding space: {marks}.")
    regions_caption: str = N_(
        " Shaded: the region each prototype wins (a query there gets its class)."
    )
    projected_caption: str = N_(
        "The episode in the {dim}-dimensional embedding space, projected onto its first two "
        'principal components: {marks}. Tick "2-D embedding layer" in the run settings to see '
        "the space itself."
    )


ENGLISH = EpisodeWords()


@dataclass(frozen=True)
class CurveWords:
    """The learning curves' words (``training.learning_curves_figure``)."""

    train: str = N_("train")
    train_loss: str = N_("{name} loss")
    train_accuracy: str = N_("{name} accuracy")
    validation: str = N_("validation")
    validation_band: str = N_("validation band")
    validation_ci: str = N_("validation (95% CI)")
    chance: str = N_("chance")
    episodes: str = N_("episodes")
    accuracy: str = N_("accuracy (%)")
    validation_mse: str = N_("validation MSE")
    training_loss: str = N_("training loss")
    training_mse: str = N_("training MSE")
    waiting: str = N_("Press Play or Step: curves appear as it trains")


ENGLISH_CURVES = CurveWords()
