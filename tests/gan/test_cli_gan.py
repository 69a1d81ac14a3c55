import json

import pytest

from metalearn_core.cli import main


def test_gan_prints_one_json_object_with_the_metric(capsys):
    assert main(["gan", "--dataset", "ring8", "--pack", "2", "--steps", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"modes", "high_quality", "reverse_kl"} <= set(result)
    assert result["steps"] == 3 and result["num_modes"] == 8


def test_gan_bad_input_is_one_line_with_exit_status_2(capsys):
    assert main(["gan", "--pack", "3", "--batch-size", "100", "--steps", "1"]) == 2
    assert "multiple of pack 3" in capsys.readouterr().err


def test_fewshot_gan_rings_reports_both_starts(capsys):
    argv = ["fewshot-gan", "--dataset", "rings", "--meta-iterations", "2", "--adapt-steps", "2",
            "--held-out-tasks", "2", "--json"]  # fmt: skip
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["meta_learned"]) == {"modes", "high_quality", "reverse_kl"}
    assert set(result["from_scratch"]) == set(result["meta_learned"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["gan", "--seed", str(10**20), "--steps", "1"],
         f"argument --seed: {10**20} is invalid: must be in 0..2**63-1"),
        (["fewshot-gan", "--seed", str(10**20)],
         f"argument --seed: {10**20} is invalid: must be in 0..2**63-1"),
        (["fewshot-gan", "--adapt-lrs", "1e-3,fast"], "is not a comma list of numbers"),
        (["fewshot-gan", "--adapt-lrs", "1e-3,2"], "must be in (0, 1], got 2.0"),
    ],
)  # fmt: skip
def test_a_huge_seed_or_a_bad_rate_is_an_argument_error_naming_value_and_limit(
    argv, message, capsys
):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert message in error and "Overflow" not in error


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["gan", "--steps", "100000000"], "--steps must be between 1 and 1000000, got 100000000"),
        (["gan", "--noise-dim", "1000000000", "--steps", "1"],
         "noise_dim must be between 1 and 4096, got 1000000000"),
        (["fewshot-gan", "--meta-iterations", "10000000000"],
         "meta_iterations must be a whole number from 0 to 1000000, got 10000000000"),
        (["fewshot-gan", "--adapt-steps", "100000"], "adapt_steps must be a whole number from 0"),
        (["fewshot-gan", "--k-shot", "1000000"], "k_shot must be a whole number from 1 to 10000"),
        (["fewshot-gan", "--held-out-tasks", "100000"],
         "held_out_tasks must be between 1 and 1000, got 100000"),
    ],
)  # fmt: skip
def test_every_size_on_the_gan_command_lines_has_a_bound(argv, message, capsys):
    assert main(argv) == 2  # refused at once: nothing trains
    assert f"error: {message}" in capsys.readouterr().err
