"""The train / evaluate / bench subcommands, end to end on tiny runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from metalearn_core.cli import main
from metalearn_core.cli.bench import bench_scripts, run_script
from metalearn_core.engine.checkpoint import read_checkpoint

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY = ["--threads", "1", "--no-progress", "--width", "8"]


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    }
    return subprocess.run(
        [sys.executable, "-m", "metalearn_core", *args],
        capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=300,
    )  # fmt: skip


def _json_out(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_train_then_evaluate_json_in_subprocesses(tmp_path):
    run = tmp_path / "proto"
    trained = _run_cli(
        "train", "--algo", "protonet", "--dataset", "blobs", "--n-way", "5", "--k-shot", "1",
        "--q-query", "3", "--episodes", "12", "--seed", "2", "--val-every", "4",
        "--val-episodes", "3", "--out", str(run), *TINY,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert {p.name for p in run.iterdir()} == {
        "config.json",
        "metrics.csv",
        "checkpoint.safetensors",
    }
    assert "validation accuracy" in trained.stdout
    default_device = "cuda" if torch.cuda.is_available() else "cpu"
    assert f"protonet on blobs ({default_device}):" in trained.stdout

    evaluated = _run_cli(
        "evaluate", str(run), "--split", "test", "--n-way", "3", "--k-shot", "2",
        "--episodes", "20", "--json", "--threads", "1",
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    result = json.loads(evaluated.stdout)
    assert 0.0 <= result["accuracy"] <= 1.0 and result["accuracy"] > 1 / 3  # above chance
    assert result["ci95"] >= 0.0 and result["mse"] is None
    assert (result["episodes"], result["n_way"], result["k_shot"]) == (20, 3, 2)
    assert (result["split"], result["algo"], result["iteration"]) == ("test", "protonet", 12)
    assert result["device"] == default_device


def test_maml_evaluates_at_another_n_and_k(tmp_path, capsys):
    run = tmp_path / "maml"
    code = main([
        "train", "--algo", "maml", "--dataset", "blobs", "--n-way", "5", "--k-shot", "1",
        "--q-query", "2", "--episodes", "4", "--meta-batch", "2", "--inner-lr", "0.1",
        "--set", "inner_steps_test=2", "--out", str(run), "--json", *TINY,
    ])  # fmt: skip
    assert code == 0
    summary = _json_out(capsys)
    assert (summary["iterations"], summary["episodes"]) == (2, 4)
    saved = json.loads((run / "config.json").read_text())
    assert saved["hparams"]["inner_lr"] == 0.1 and saved["hparams"]["inner_steps_test"] == 2

    assert (
        main(["evaluate", str(run), "--n-way", "3", "--k-shot", "4", "--episodes", "5", "--json"])
        == 0
    )
    result = _json_out(capsys)
    assert (result["n_way"], result["k_shot"], result["episodes"]) == (3, 4, 5)
    assert 0.0 <= result["accuracy"] <= 1.0


def test_regression_run_reports_mse(tmp_path, capsys):
    run = tmp_path / "sine"
    args = ["train", "--algo", "maml", "--dataset", "sinusoid", "--k-shot", "5",
            "--q-query", "5", "--episodes", "4", "--set", "meta_batch=2", "--out", str(run), *TINY]  # fmt: skip
    assert main(args) == 0  # no --n-way: a regression episode is one function
    assert json.loads((run / "config.json").read_text())["n_way"] == 1
    capsys.readouterr()
    wrong = ["train", "--algo", "maml", "--dataset", "sinusoid", "--n-way", "5", "--episodes", "2",
             "--out", str(tmp_path / "wrong"), *TINY]  # fmt: skip
    assert main(wrong) == 2
    assert "n_way=5 is invalid: sinusoid is a regression data set" in capsys.readouterr().err
    assert main(["evaluate", str(run), "--split", "val", "--episodes", "6", "--json"]) == 0
    result = _json_out(capsys)
    assert result["accuracy"] is None and result["mse"] > 0 and result["ci95"] >= 0
    assert main(["evaluate", str(run), "--episodes", "6"]) == 0
    assert "MSE on sinusoid test, 6 episodes" in capsys.readouterr().out


def test_omniglot_without_data_dir_reads_the_machines_folder(
    machine_omniglot, tmp_path, capsys, monkeypatch
):
    run = tmp_path / "omni"
    args = ["train", "--algo", "protonet", "--dataset", "omniglot", "--n-way", "2", "--k-shot", "1",
            "--q-query", "2", "--episodes", "2", "--val-every", "2", "--val-episodes", "2",
            "--out", str(run), *TINY]  # fmt: skip
    assert main(args) == 0
    assert json.loads((run / "config.json").read_text())["data_dir"] is None
    monkeypatch.delenv("METALEARN_OMNIGLOT_DIR")
    assert main(["evaluate", str(run), "--split", "val", "--episodes", "2"]) == 2
    assert "METALEARN_OMNIGLOT_DIR" in capsys.readouterr().err


def test_resume_continues_the_same_run(tmp_path, capsys):
    # a constant rate: a cosine anneals over the budget, which this resume extends
    common = ["train", "--algo", "protonet", "--dataset", "blobs", "--n-way", "4",
              "--k-shot", "1", "--q-query", "2", "--seed", "5", "--lr-schedule", "constant",
              *TINY]  # fmt: skip
    assert main([*common, "--episodes", "6", "--out", str(tmp_path / "straight")]) == 0
    assert main([*common, "--episodes", "3", "--out", str(tmp_path / "split")]) == 0
    assert (
        main(["train", "--out", str(tmp_path / "split"), "--resume", "--episodes", "6", *TINY[:3]])
        == 0
    )
    a = read_checkpoint(tmp_path / "straight" / "checkpoint.safetensors")
    b = read_checkpoint(tmp_path / "split" / "checkpoint.safetensors")
    assert a["counters"]["iteration"] == b["counters"]["iteration"] == 6
    for key, value in a["learner"]["model"].items():
        assert torch.equal(value, b["learner"]["model"][key]), key


def test_config_file_with_overrides(tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text(
        "dataset: blobs\nalgo: protonet\nn_way: 3\nk_shot: 2\nq_query: 2\nwidth: 8\n"
        "episodes: 3\nhparams: {outer_lr: 0.002}\n"
    )
    assert main(["train", "--config", str(config), "--seed", "9", "--out", str(tmp_path / "r"),
                 "--set", "meta_batch=3", "--no-progress", "--json"]) == 0  # fmt: skip
    saved = json.loads((tmp_path / "r" / "config.json").read_text())
    assert (saved["seed"], saved["n_way"], saved["episodes"]) == (9, 3, 3)
    assert saved["hparams"]["outer_lr"] == 0.002 and saved["hparams"]["meta_batch"] == 3
    assert _json_out(capsys)["iterations"] == 1  # 3 episodes at 3 per meta-batch


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--n-way", "0"], "n_way=0 is invalid"),
        (["--set", "inner_lr=0.4"], "hparams.inner_lr=0.4 is invalid: unknown for protonet"),
        (["--set", "oops"], "expected NAME=VALUE"),
        (["--outer-lr", "-1"], "hparams.outer_lr=-1.0 is invalid"),
        (["--n-way", "5000"], "n_way=5000 is invalid"),
        (["--set", "meta_batch=100000000"], "hparams.meta_batch=100000000 is invalid: must be"),
        (["--width", "100000"], "width=100000 is invalid: must be an integer in 1..512"),
        (["--val-episodes", "1000000000000"], "val_episodes=1000000000000 is invalid"),
        (["--algo", "cnp", "--dataset", "sinusoid", "--set", "hidden=1000000"],
         "hparams.hidden=1000000 is invalid: must be an integer in 1..1024"),
        (["--algo", "maml", "--dataset", "sinusoid", "--k-shot", "100000"],
         "k_shot=100000 is invalid: must be an integer in 1..100"),
    ],
)  # fmt: skip
def test_bad_train_input_is_one_line_and_exit_2(tmp_path, capsys, args, message):
    base = ["train", "--algo", "protonet", "--dataset", "blobs", "--episodes", "2",
            "--out", str(tmp_path / "r"), "--no-progress"]  # fmt: skip
    assert main([*base, *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err


def test_other_refusals(tmp_path, capsys):
    assert (
        main(["train", "--algo", "protonet", "--dataset", "blobs", "--out", str(tmp_path / "r")])
        == 2
    )
    assert "--episodes E or --minutes M" in capsys.readouterr().err
    assert (
        main(["train", "--dataset", "blobs", "--episodes", "1", "--out", str(tmp_path / "r")]) == 2
    )
    assert "needs --algo and --dataset" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "missing"), "--json"]) == 2
    assert "does not exist" in capsys.readouterr().err
    run = ["train", "--algo", "protonet", "--dataset", "blobs", "--episodes", "1",
           "--out", str(tmp_path / "r"), *TINY]  # fmt: skip
    assert main(run) == 0
    assert main(run) == 2
    assert "already holds a run; add --resume" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path / "r"), "--resume", "--algo", "maml"]) == 2
    assert "--resume continues RUN_DIR with its own config" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:  # argparse's own check of --algo choices
        main(["train", "--algo", "svm", "--dataset", "blobs", "--out", "x"])
    assert caught.value.code == 2


def test_divergence_saves_the_last_good_state_and_exits_1(tmp_path, capsys):
    run = tmp_path / "r"
    code = main(["train", "--algo", "protonet", "--dataset", "blobs", "--episodes", "40",
                 "--outer-lr", "1e12", "--val-every", "0", "--out", str(run), *TINY])  # fmt: skip
    assert code == 1
    assert "training diverged at step" in capsys.readouterr().err
    payload = read_checkpoint(run / "checkpoint.safetensors")
    assert payload["counters"]["divergence"].startswith("training diverged")
    assert all(torch.isfinite(v).all() for v in payload["learner"]["model"].values())


def test_bench_lists_and_runs_scripts(tmp_path, capsys):
    (tmp_path / "speed.py").write_text(
        '"""Times something.\n\nMore text."""\nimport sys\n'
        'if __name__ == "__main__":\n    print("args", sys.argv[1:])\n    sys.exit(3)\n'
    )
    (tmp_path / "_helpers.py").write_text('"""Not a benchmark."""\n')
    assert bench_scripts(tmp_path) == {"speed": "Times something."}
    assert run_script(tmp_path / "speed.py", ["--n", "2"]) == 3
    assert "args ['--n', '2']" in capsys.readouterr().out
    assert main(["bench"]) == 0
    assert main(["bench", "no_such_bench"]) == 2
    assert "bench 'no_such_bench' not found" in capsys.readouterr().err


def test_a_cli_run_opens_in_the_app_through_a_zip(tmp_path, capsys):
    from metalearn_core.engine import Trainer, export_run_zip, import_run_zip

    run = tmp_path / "cli-run"
    assert main(["train", "--algo", "protonet", "--dataset", "blobs", "--episodes", "3",
                 "--out", str(run), *TINY]) == 0  # fmt: skip
    uploaded = import_run_zip(export_run_zip(run), tmp_path / "upload")
    trainer = Trainer.load(uploaded, device="cpu")
    episode, adaptation = trainer.inspect(split="val", seed=1)
    assert trainer.iteration == 3
    assert adaptation.query_prediction.shape == (len(episode.query_y), episode.n_way)


def test_learning_rates_in_scientific_notation_are_numbers(tmp_path, capsys):
    config = tmp_path / "run.yaml"  # YAML 1.1 alone would read 1e-3 as a string
    config.write_text("dataset: blobs\nalgo: protonet\nhparams: {outer_lr: 1e-3}\n")
    assert main(["train", "--config", str(config), "--set", "outer_lr=2e-3", "--episodes", "1",
                 "--out", str(tmp_path / "r"), *TINY]) == 0  # fmt: skip
    saved = json.loads((tmp_path / "r" / "config.json").read_text())
    assert saved["hparams"]["outer_lr"] == 2e-3


@pytest.mark.parametrize("place", ["a file", "a file's child", "holds a run's files"])
def test_an_out_folder_that_cannot_take_the_run_fails_before_training(tmp_path, capsys, place):
    out = tmp_path / "out"
    if place == "a file":
        out.write_text("not a folder")
    elif place == "a file's child":
        (tmp_path / "file").write_text("x")
        out = tmp_path / "file" / "out"
    else:
        out.mkdir()
        (out / "config.json").write_text('{"my": "settings"}')
    code = main(["train", "--algo", "protonet", "--dataset", "blobs", "--episodes", "100000",
                 "--out", str(out), *TINY])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: --out") and "\n" not in err, err
    if place == "holds a run's files":  # and left untouched
        assert (out / "config.json").read_text() == '{"my": "settings"}'


def test_ctrl_c_in_a_step_stops_after_it_and_the_run_resumes_as_if_never_stopped(
    tmp_path, capsys, monkeypatch
):
    import os
    import signal

    from metalearn_core.algorithms.protonet import ProtoNet

    common = ["train", "--algo", "protonet", "--dataset", "blobs", "--n-way", "3",
              "--k-shot", "1", "--q-query", "2", "--seed", "4", "--val-every", "0", *TINY]  # fmt: skip
    assert main([*common, "--episodes", "8", "--out", str(tmp_path / "straight")]) == 0
    step, calls = ProtoNet.meta_train_step, []

    def step_interrupted_in_its_middle(self, batch):
        result = step(self, batch)  # weights and optimiser updated; the trainer's books not yet
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return result

    monkeypatch.setattr(ProtoNet, "meta_train_step", step_interrupted_in_its_middle)
    stopped = tmp_path / "stopped"
    assert main([*common, "--episodes", "8", "--out", str(stopped)]) == 130
    assert "stopping after this step" in capsys.readouterr().err
    monkeypatch.undo()
    assert read_checkpoint(stopped / "checkpoint.safetensors")["counters"]["iteration"] == 3
    assert main(["train", "--out", str(stopped), "--resume", "--episodes", "8", *TINY[:3]]) == 0
    a = read_checkpoint(tmp_path / "straight" / "checkpoint.safetensors")["learner"]["model"]
    b = read_checkpoint(stopped / "checkpoint.safetensors")["learner"]["model"]
    assert all(torch.equal(a[key], b[key]) for key in a)


@pytest.mark.parametrize(
    "args", [["--n-way", "0"], ["--k-shot", "0"], ["--threads", "0"], ["--seed", "-1"]]
)
def test_evaluate_refuses_what_it_would_silently_replace(tmp_path, capsys, args):
    run = tmp_path / "r"
    assert main(["train", "--algo", "protonet", "--dataset", "blobs", "--episodes", "1",
                 "--out", str(run), *TINY]) == 0  # fmt: skip
    with pytest.raises(SystemExit) as caught:  # argparse: one usage line and exit 2
        main(["evaluate", str(run), "--episodes", "2", *args])
    assert caught.value.code == 2 and "invalid" in capsys.readouterr().err


def test_a_checkpoint_without_counters_is_a_clear_error(tmp_path, capsys):
    from metalearn_core.engine.checkpoint import write_checkpoint

    run = tmp_path / "r"
    assert main(["train", "--algo", "protonet", "--dataset", "blobs", "--episodes", "1",
                 "--out", str(run), *TINY]) == 0  # fmt: skip
    payload = read_checkpoint(run / "checkpoint.safetensors")
    del payload["counters"]
    write_checkpoint(run / "checkpoint.safetensors", payload)
    capsys.readouterr()
    assert main(["evaluate", str(run), "--episodes", "2"]) == 2
    assert main(["train", "--out", str(run), "--resume", "--episodes", "3"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and all(e.startswith("error: ") for e in errors), errors


def test_evaluate_bounds_the_episodes_and_their_shape(tmp_path, capsys):
    run = tmp_path / "sine"
    assert main(["train", "--algo", "maml", "--dataset", "sinusoid", "--k-shot", "5",
                 "--episodes", "2", "--val-every", "0", "--out", str(run), *TINY]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["evaluate", str(run), "--k-shot", "100000", "--episodes", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: k_shot=100000 is invalid: must be an integer in 1..100", err
    for args in (["--episodes", "1000000000000"], ["--threads", "100000"]):
        with pytest.raises(SystemExit) as caught:
            main(["evaluate", str(run), *args])
        assert caught.value.code == 2 and "must be an integer in 1.." in capsys.readouterr().err
