import json

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
