"""A learner added in its own file and the registry only shows its internals in the
inspector: no edit to the inspector, the figures or the page.

``NearestMean`` lives here, in the test suite, to prove it: it classifies a query by the
nearest class mean of the raw inputs and returns that as an ``EmbeddingView``.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from streamlit.testing.v1 import AppTest

from metalearn_core.algorithms import ALGORITHMS
from metalearn_core.algorithms.base import Adaptation, MetaLearner, StepResult
from metalearn_core.algorithms.functional import pairwise_distance
from metalearn_core.algorithms.internals import EmbeddingView
from metalearn_core.data.episodes import Episode, EpisodeBatch
from metalearn_core.engine import RunConfig, Trainer
from studio_ui.inspector import inspector_content

OWN_WORDS = "Nearest mean: the inputs themselves are the embedding; nothing is learned."


class NearestMean(MetaLearner):
    """Each query takes the class of the nearest mean support input (nothing to train)."""

    name = "nearest_mean"
    title = "Nearest class mean"
    internals_records = (EmbeddingView,)

    def _logits(self, episode: Episode) -> tuple[torch.Tensor, torch.Tensor]:
        one_hot = torch.nn.functional.one_hot(episode.support_y, episode.n_way).float()
        means = (one_hot.T @ episode.support_x) / one_hot.sum(0).unsqueeze(1)  # (N, 2)
        return -pairwise_distance(episode.query_x, means, "euclidean"), means

    def meta_train_step(self, batch: EpisodeBatch) -> StepResult:
        adaptations = [self.adapt(episode) for episode in batch.episodes()]
        loss = sum(a.query_loss for a in adaptations) / len(adaptations)
        accuracy = sum(a.query_accuracy for a in adaptations) / len(adaptations)
        return StepResult(loss, accuracy, 0.0, len(adaptations))

    def adapt(self, episode: Episode, probe_x: torch.Tensor | None = None) -> Adaptation:
        logits, means = self._logits(episode)
        return Adaptation(
            query_prediction=logits,
            query_loss=float(torch.nn.functional.cross_entropy(logits, episode.query_y)),
            query_accuracy=float((logits.argmax(1) == episode.query_y).float().mean()),
            internals=(
                EmbeddingView(
                    support=episode.support_x,
                    query=episode.query_x,
                    prototypes=means,
                    region_distance="euclidean",
                    caption=OWN_WORDS,
                ),
            ),
        )

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


CONFIG = {"dataset": "blobs", "algo": "nearest_mean", "n_way": 3, "k_shot": 2, "q_query": 2}


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(ALGORITHMS, NearestMean.name, NearestMean)


def test_a_registered_learner_s_embedding_is_drawn_by_the_inspector(registered):
    assert NearestMean.exposes_embeddings  # follows from its declared records
    trainer = Trainer(RunConfig(**CONFIG))
    trainer.step()
    content = inspector_content(trainer, seed=0)
    ((caption, figure),) = content.extras
    assert caption.startswith("The episode in the 2-D embedding space") and OWN_WORDS in caption
    names = [trace.name for trace in figure.data]
    assert names[:2] == ["nearest prototype", "prototypes"]
    episode, _ = trainer.inspect(seed=0)
    means = torch.stack([episode.support_x[episode.support_y == c].mean(0) for c in range(3)])
    stars = figure.data[1]
    assert list(stars.x) == pytest.approx(means[:, 0].tolist())
    assert list(stars.y) == pytest.approx(means[:, 1].tolist())


def _inspector_page() -> None:
    from metalearn_core.engine import RunConfig, Trainer
    from studio_ui.inspector import render_inspector

    config = RunConfig(dataset="blobs", algo="nearest_mean", n_way=3, k_shot=2, q_query=2)
    render_inspector(Trainer(config), seed=0)


def test_the_inspector_on_a_page_draws_it_with_the_learner_s_words(registered):
    app = AppTest.from_function(_inspector_page).run(timeout=60)
    assert not app.exception and not app.warning
    captions = [caption.value for caption in app.caption]
    assert any(
        OWN_WORDS in caption and "region each prototype wins" in caption for caption in captions
    )
