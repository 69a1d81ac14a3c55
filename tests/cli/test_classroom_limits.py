"""``--classroom-limits``: the command line applies a classroom server's limits when asked,
refusing with the app's message before anything is built; without it, no limits."""

from __future__ import annotations

import pytest

from metalearn_core.cli import main
from metalearn_core.engine.limits import CONFIG_ENV
from tests.cli.test_hostile_input import TRAIN, one_line_error

COMPARE = ["compare", "--dataset", "blobs", "--episodes", "2", "--n-way", "2", "--k-shot",
           "1", "--q-query", "1", "--test-episodes", "10", "--extra-episodes", "5",
           "--test-shots", "1", "--test-ways", "2", "--inner-steps", "1",
           "--validate-every", "0", "--workers", "1"]  # fmt: skip


@pytest.fixture
def strict(tmp_path):
    path = tmp_path / "classroom.toml"
    path.write_text("[classroom]\nmax_val_episodes = 5\nmax_runs_per_session = 1\n")
    return path


def test_train_refuses_settings_past_the_given_limits_before_building(capsys, tmp_path, strict):
    out = tmp_path / "run"
    status = main([*TRAIN, "--dataset", "blobs", "--val-episodes", "10", "--out", str(out),
                   "--classroom-limits", str(strict)])  # fmt: skip
    one_line_error(
        capsys, status,
        "val_episodes=10 is invalid: this server allows at most 5 (classroom limit "
        "max_val_episodes)",
    )  # fmt: skip
    assert not out.exists()


def test_without_a_path_the_servers_lookup_applies(capsys, tmp_path, strict, monkeypatch):
    monkeypatch.setenv(CONFIG_ENV, str(strict))
    args = [*TRAIN, "--dataset", "blobs", "--val-episodes", "10", "--out", str(tmp_path / "a")]
    one_line_error(capsys, main([*args, "--classroom-limits"]), "classroom limit")
    assert main(args) == 0  # not asked: a local user trains what the machine holds
    capsys.readouterr()
    missing = tmp_path / "nowhere.toml"
    status = main([*args[:-1], str(tmp_path / "b"), "--classroom-limits", str(missing)])
    one_line_error(capsys, status, "does not exist")


def test_a_resumed_run_is_checked_too(capsys, tmp_path, strict):
    out = tmp_path / "run"
    assert main([*TRAIN, "--dataset", "blobs", "--val-episodes", "10", "--out", str(out)]) == 0
    capsys.readouterr()
    status = main(["train", "--out", str(out), "--resume", "--episodes", "2", "--no-progress",
                   "--classroom-limits", str(strict)])  # fmt: skip
    one_line_error(capsys, status, "max_val_episodes")


def test_compare_refuses_more_learners_than_a_session_holds(capsys, tmp_path, strict):
    out = tmp_path / "cmp"
    status = main([*COMPARE, "--algos", "protonet,matchingnet", "--out", str(out),
                   "--classroom-limits", str(strict)])  # fmt: skip
    one_line_error(capsys, status, "at most 1 runs per session (classroom limit max_runs_per")
    assert not out.exists()
    status = main([*COMPARE, "--algos", "protonet,matchingnet", "--val-episodes", "50",
                   "--out", str(out), "--classroom-limits"])  # fmt: skip
    assert status == 0, capsys.readouterr().err  # the defaults allow it
