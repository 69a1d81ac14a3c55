"""The recommended recipe is what a plain ``train`` gets: the schedule, the learner's
settings and, on Omniglot, the metric learners' 20-way training episodes."""

from __future__ import annotations

import argparse

import pytest

from metalearn_core.cli import train


def train_config(*flags: str):
    parser = argparse.ArgumentParser()
    train.register(parser.add_subparsers())
    args = parser.parse_args(["train", *flags, "--out", "unused"])
    return train.config_from_args(args)


OMNIGLOT = ("--dataset", "omniglot", "--data-dir", "unused", "--k-shot", "1")


@pytest.mark.parametrize("algo", ["protonet", "matchingnet"])
def test_plain_omniglot_training_gets_the_benchmarked_recipe(algo):
    config = train_config("--algo", algo, *OMNIGLOT, "--minutes", "5")
    assert config.lr_schedule == "cosine"
    assert config.hparams["outer_lr"] == 3e-3
    assert (config.n_way, config.q_query) == (20, 5)  # 20-way training episodes


def test_what_the_user_gives_wins_over_the_recipe():
    config = train_config(
        "--algo", "protonet", *OMNIGLOT, "--n-way", "5", "--q-query", "15",
        "--lr-schedule", "constant", "--outer-lr", "1e-3", "--episodes", "100",
    )  # fmt: skip
    assert (config.n_way, config.q_query, config.lr_schedule) == (5, 15, "constant")
    assert config.hparams["outer_lr"] == 1e-3
    plain = train_config("--algo", "protonet", *OMNIGLOT, "--no-recipe", "--episodes", "100")
    assert (plain.n_way, plain.lr_schedule) == (5, "constant")


def test_other_data_sets_and_learners_keep_their_episode_shape():
    assert train_config("--algo", "protonet", "--dataset", "glyphs", "--episodes", "9").n_way == 5
    maml = train_config("--algo", "maml", *OMNIGLOT, "--episodes", "100")
    assert (maml.n_way, maml.lr_schedule, maml.hparams["meta_batch"]) == (5, "cosine", 4)


def readme_train_commands() -> dict[str, list[str]]:
    """The ``train`` commands printed beside the README's accuracy table, by learner."""
    import shlex
    from pathlib import Path

    text = Path(__file__).resolve().parents[2].joinpath("README.md").read_text()
    section = text[text.index("## How well they learn") :]
    section = section[: section.index("\n## ", 1)].replace("\\\n", " ")
    commands = {}
    for line in section.splitlines():
        if line.startswith("python -m metalearn_core train "):
            words = shlex.split(line)[3:]  # after "python -m metalearn_core"
            commands[words[words.index("--algo") + 1]] = words[1:]
    return commands


def test_the_readme_commands_train_as_the_benchmarks_did():
    commands = readme_train_commands()
    assert set(commands) == {"protonet", "matchingnet"}
    protonet = train_config(*commands["protonet"])
    # bench/omniglot_accuracy.py --train-way 20 --train-query 5 --cosine-lr
    #   --hparams '{"lr_halve_every": 0}', 6,119 episodes in its 15 CPU minutes
    assert (protonet.n_way, protonet.k_shot, protonet.q_query) == (20, 1, 5)
    assert (protonet.lr_schedule, protonet.episodes) == ("cosine", 6119)
    assert protonet.hparams == {"outer_lr": 1e-3, "lr_halve_every": 0}
    matching = train_config(*commands["matchingnet"])
    # --hparams '{"outer_lr": 3e-3, "learn_attention_scale": true}', 2,509 episodes in 5
    assert (matching.n_way, matching.q_query, matching.lr_schedule) == (20, 5, "cosine")
    assert matching.hparams == {"outer_lr": 3e-3, "learn_attention_scale": True}
    assert matching.episodes == 2509
