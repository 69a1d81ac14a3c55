"""The generated reading: who leads, by how much, whether the intervals overlap."""

from __future__ import annotations

from metalearn_core.compare import reading


def _result(metric, rows):
    learners = {
        algo: {"algo": algo, metric: mean, "ci95": ci, "seconds_per_episode": spe}
        for algo, mean, ci, spe in rows
    }
    return {"metric": metric, "learners": learners}


def test_a_clear_lead():
    text = reading(
        _result("accuracy", [("maml", 0.80, 0.01, 0.02), ("protonet", 0.90, 0.01, 0.004)])
    )
    assert text.startswith("Prototypical Networks leads on test accuracy: 90.0% ± 1.0%")
    assert "ahead of MAML (80.0% ± 1.0%) by 10.0 points" in text
    assert "do not overlap" in text
    assert "Prototypical Networks trains fastest (4.0 ms per episode)" in text


def test_overlapping_intervals_say_the_lead_may_be_chance():
    text = reading(
        _result(
            "accuracy",
            [
                ("maml", 0.90, 0.02, 0.02),
                ("protonet", 0.91, 0.02, 0.01),
                ("reptile", 0.5, 0.1, 0.1),
            ],
        )
    )
    assert "by 1.0 points" in text and "intervals overlap" in text
    assert "Reptile comes last (50.0%)" in text


def test_regression_lower_mse_leads():
    text = reading(_result("mse", [("maml", 0.5, 0.05, 0.01), ("cnp", 0.2, 0.05, 0.01)]))
    assert text.startswith("Conditional Neural Process") or "cnp" in text.split(" leads")[0].lower()
    assert "MSE (lower is better)" in text and "by 0.3" in text
