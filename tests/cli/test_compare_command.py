"""``compare`` on the command line: comparison.json, evaluate's numbers, clear errors."""

from __future__ import annotations

import json

import pytest

from metalearn_core.cli import main
from metalearn_core.compare import read_result

SMALL = ["--dataset", "blobs", "--n-way", "3", "--k-shot", "2", "--q-query", "3",
         "--episodes", "12", "--test-episodes", "20", "--extra-episodes", "6",
         "--inner-steps", "2", "--validate-every", "6", "--val-episodes", "4",
         "--workers", "1"]  # fmt: skip


def test_compare_writes_the_results_and_evaluate_agrees(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", "--algos", "protonet,maml", *SMALL, "--seeds", "0",
                 "--set", "maml.inner_lr=0.3", "--save-runs", "--out", str(out), "--json"]) == 0  # fmt: skip
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    result = read_result(out)
    assert printed == result
    assert set(result["learners"]) == {"protonet", "maml"}
    maml = result["learners"]["maml"]
    assert maml["hparams"]["inner_lr"] == 0.3 and maml["lr_schedule"] == "cosine"
    for key in ("accuracy", "ci95", "episodes", "seconds", "parameters", "per_shot",
                "per_way", "per_seed", "curves", "inner_steps"):  # fmt: skip
        assert key in maml, key
    assert "--set=maml.inner_lr=0.3" in result["command"]
    # the table's numbers are evaluate's on the saved run
    assert main(["evaluate", str(out / "runs" / "maml-seed0"), "--episodes", "20",
                 "--q-query", "3", "--json"]) == 0  # fmt: skip
    evaluated = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert evaluated["accuracy"] == pytest.approx(maml["accuracy"], abs=1e-12)
    assert evaluated["ci95"] == pytest.approx(maml["ci95"], abs=1e-12)


def test_compare_refuses_to_overwrite_results(tmp_path, capsys):
    out = tmp_path / "cmp"
    out.mkdir()
    (out / "comparison.json").write_text("{}")
    assert main(["compare", "--algos", "protonet,maml", *SMALL, "--out", str(out)]) == 2
    assert "already holds a comparison.json" in capsys.readouterr().err
    assert (out / "comparison.json").read_text() == "{}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--algos", "protonet"], "2 to 4 learners, got 1"),
        (["--algos", "protonet,maml,fomaml,reptile,matchingnet"], "2 to 4 learners, got 5"),
        (["--algos", "protonet,cnp"], "different task kinds"),
        (["--algos", "protonet,maml", "--set", "reptile.epsilon=1"], "reptile is not one of"),
        (["--algos", "protonet,maml", "--set", "inner_lr=1"], "expected ALGO.NAME=VALUE"),
    ],
)
def test_compare_bad_input_is_one_clear_line(tmp_path, capsys, args, message):
    assert main(["compare", *args, *SMALL, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o" / "comparison.json").exists()


def test_compare_zero_budget_is_an_argument_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--algos", "protonet,maml", "--dataset", "blobs", "--episodes", "0",
              "--out", str(tmp_path / "o")])  # fmt: skip
    assert exit_info.value.code == 2
    assert "--episodes: 0 is invalid: must be at least 1" in capsys.readouterr().err


def test_compare_zero_minutes_is_an_argument_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--algos", "protonet,maml", "--dataset", "blobs", "--minutes", "0",
              "--out", str(tmp_path / "o")])  # fmt: skip
    assert exit_info.value.code == 2
    assert "--minutes: 0 is invalid: must be a finite number > 0" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_compare_out_must_be_a_folder_and_the_file_is_kept(tmp_path, capsys):
    foreign = tmp_path / "notes.txt"
    foreign.write_text("someone's notes")
    assert main(["compare", "--algos", "protonet,maml", *SMALL, "--out", str(foreign)]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and "Traceback" not in err
    assert foreign.read_text() == "someone's notes"
