"""Readable few-shot GAN scores for the page."""

from __future__ import annotations

from metalearn_core.gan.fewshot_tasks import score_table


def test_score_table_names_scores_and_puts_real_references_beside_them():
    scores = {
        "meta": {"diversity": 0.28, "class_consistency": 0.75, "real_diversity": 0.30,
                 "someone_elses": 1.0},
        "scratch": {"diversity": 0.09, "class_consistency": 0.08, "real_diversity": 0.30,
                    "someone_elses": 2.0},
    }  # fmt: skip
    rows = score_table(scores)
    assert [row["score"] for row in rows] == [
        "judged to be the task's class", "diversity", "someone_elses"
    ]  # fmt: skip
    assert rows[0] == {"score": "judged to be the task's class", "meta": 0.75,
                       "scratch": 0.08, "real images": None, "better": "higher"}  # fmt: skip
    assert (rows[1]["meta"], rows[1]["scratch"], rows[1]["real images"]) == (0.28, 0.09, 0.30)
