"""Checkpoints: bit-identical resume; edited, truncated and foreign files rejected."""

from __future__ import annotations

import io
import json

import pytest
import torch
from safetensors.torch import save as save_safetensors

from metalearn_core.engine import CheckpointError, Trainer, load_learner
from metalearn_core.engine.checkpoint import (
    CHECKPOINT_FILE,
    decode_checkpoint,
    encode_checkpoint,
    flatten_state,
    unflatten_state,
)


def test_state_trees_round_trip_with_int_keys_tuples_and_scalars():
    tree = {
        "model": {"w": torch.arange(6.0).reshape(2, 3), "n": torch.tensor(3)},
        "optimizer": {"state": {0: {"step": torch.tensor(2.0)}}, "param_groups": [
            {"lr": 1e-3, "betas": (0.9, 0.999), "params": [0], "amsgrad": False, "name": None}
        ]},
    }  # fmt: skip
    back = unflatten_state(*flatten_state(tree))
    assert back["optimizer"]["state"][0]["step"].item() == 2.0  # int key survives
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)  # tuple survives
    assert torch.equal(back["model"]["w"], tree["model"]["w"])
    assert back["optimizer"]["param_groups"][0]["name"] is None
    with pytest.raises(ValueError, match="type object"):
        flatten_state({"bad": object()})


def test_resumed_run_continues_bit_identically(blobs_config, tmp_path):
    straight = Trainer(blobs_config)
    straight.run_tick(max_iterations=8)

    first = Trainer(blobs_config)
    first.run_tick(max_iterations=5)
    first.save(tmp_path / "run")
    resumed = Trainer.load(tmp_path / "run")
    assert (resumed.iteration, resumed.episodes_seen) == (5, 5)
    resumed.run_tick(max_iterations=3)

    for name in ("model", "optimizer"):
        a, b = straight.learner.state_dict()[name], resumed.learner.state_dict()[name]
        flat_a, tensors_a = flatten_state(a)
        flat_b, tensors_b = flatten_state(b)
        assert flat_a == flat_b
        assert all(torch.equal(tensors_a[k], tensors_b[k]) for k in tensors_a)
    assert (
        straight.history.to_csv().split("seconds")[0]
        == resumed.history.to_csv().split("seconds")[0]
    )
    np_a = straight.history.train_arrays()
    np_b = resumed.history.train_arrays()
    assert (np_a["loss"] == np_b["loss"]).all() and (np_a["accuracy"] == np_b["accuracy"]).all()


def test_resumed_regression_run_continues_bit_identically(sinusoid_config, tmp_path, noisy):
    straight = noisy(Trainer(sinusoid_config))
    expected = [straight.step().loss for _ in range(4)]
    first = noisy(Trainer(sinusoid_config))
    got = [first.step().loss for _ in range(2)]
    first.save(tmp_path / "run")
    torch.rand(7)  # the process's stream moves on; the run's own must not
    resumed = noisy(Trainer.load(tmp_path / "run"))
    got += [resumed.step().loss for _ in range(2)]
    assert got == expected


def test_run_directory_files(blobs_config, tmp_path):
    trainer = Trainer(blobs_config)
    trainer.run_tick(max_iterations=3)
    run = trainer.save(tmp_path / "run")
    assert sorted(p.name for p in run.iterdir()) == [
        "checkpoint.safetensors",
        "config.json",
        "metrics.csv",
    ]
    saved = json.loads((run / "config.json").read_text())
    assert saved["algo"] == "protonet" and "outer_lr" in saved["hparams"]  # written out in full
    assert (run / "metrics.csv").read_text().count("\nval,") == 1
    config, learner = load_learner(run)
    assert config.algo == "protonet" and learner.spec == trainer.spec


@pytest.fixture
def checkpoint_bytes(blobs_config, tmp_path) -> bytes:
    trainer = Trainer(blobs_config)
    trainer.step()
    trainer.save(tmp_path / "run")
    return (tmp_path / "run" / CHECKPOINT_FILE).read_bytes()


def test_a_flipped_byte_in_the_tensors_is_detected(checkpoint_bytes):
    damaged = bytearray(checkpoint_bytes)
    damaged[-10] ^= 0xFF  # inside the last tensor's data
    with pytest.raises(CheckpointError, match="SHA-256"):
        decode_checkpoint(bytes(damaged))


def test_an_edited_state_is_detected(checkpoint_bytes):
    edited = checkpoint_bytes.replace(b'\\"iteration\\",1', b'\\"iteration\\",9')
    assert edited != checkpoint_bytes
    with pytest.raises(CheckpointError, match="SHA-256"):
        decode_checkpoint(edited)


@pytest.mark.parametrize("keep", [0, 5, 100, -50])
def test_a_truncated_file_is_rejected(checkpoint_bytes, keep):
    with pytest.raises(CheckpointError, match="truncated"):
        decode_checkpoint(checkpoint_bytes[:keep])


def test_foreign_files_are_rejected(tmp_path):
    plain = save_safetensors({"w": torch.zeros(3)}, metadata={"format": "pt"})
    with pytest.raises(CheckpointError, match="not a MetaLearn Studio checkpoint"):
        decode_checkpoint(plain)
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(3)}, buffer)  # a pickle-based file is never unpickled
    with pytest.raises(CheckpointError):
        decode_checkpoint(buffer.getvalue())
    with pytest.raises(CheckpointError):
        decode_checkpoint(b"\x08" + b"\x00" * 7 + b"not json")


def test_a_newer_format_version_is_refused():
    data = encode_checkpoint({"x": torch.ones(1)})
    newer = data.replace(b'"version":"1"', b'"version":"9"')
    with pytest.raises(CheckpointError, match="format version '9'"):
        decode_checkpoint(newer)


def test_loading_a_damaged_run_directory_fails_clearly(blobs_config, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Trainer.load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no checkpoint.safetensors"):
        Trainer.load(tmp_path / "empty")
    trainer = Trainer(blobs_config)
    run = trainer.save(tmp_path / "run")
    path = run / CHECKPOINT_FILE
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(CheckpointError, match="truncated"):
        Trainer.load(run)


def test_saving_leaves_no_temporary_files(blobs_config, tmp_path):
    trainer = Trainer(blobs_config)
    for _ in range(3):
        trainer.step()
        trainer.save(tmp_path / "run")
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.startswith(".")]


def test_a_diverged_run_saves_its_last_good_state(blobs_config, tmp_path):
    trainer = Trainer(blobs_config.replace(hparams={"outer_lr": 1e12}, val_every=0))
    trainer.run_tick(max_iterations=50)
    assert trainer.divergence
    trainer.save(tmp_path / "run")
    loaded = Trainer.load(tmp_path / "run")
    assert loaded.divergence == trainer.divergence and loaded.iteration == trainer.iteration
    for value in loaded.learner.state_dict()["model"].values():
        assert torch.isfinite(value).all()


def _registered_runs():
    from metalearn_core.algorithms import ALGORITHMS

    for name, cls in ALGORITHMS.items():
        if "classification" in cls.task_kinds:
            yield pytest.param(name, "blobs", 3, id=f"{name}-blobs")
        else:
            yield pytest.param(name, "sinusoid", 1, id=f"{name}-sinusoid")


@pytest.mark.parametrize(("algo", "dataset", "n_way"), list(_registered_runs()))
def test_every_registered_algorithm_resumes_bit_identically(algo, dataset, n_way, tmp_path):
    from metalearn_core.algorithms import ALGORITHMS
    from metalearn_core.engine import RunConfig

    width = 8 if ALGORITHMS[algo].uses_backbone else None  # the CNP sizes its own network
    config = RunConfig(
        dataset=dataset, algo=algo, n_way=n_way, k_shot=2, q_query=2, width=width, seed=1,
        hparams={"meta_batch": 2}, val_every=0,
    )  # fmt: skip
    straight = Trainer(config)
    expected = [straight.step().loss for _ in range(3)]
    first = Trainer(config)
    got = [first.step().loss]
    first.save(tmp_path / "run")
    resumed = Trainer.load(tmp_path / "run")
    got += [resumed.step().loss for _ in range(2)]
    assert got == expected


def test_finiteness_check_and_clones():
    from metalearn_core.engine.checkpoint import clone_state, state_is_finite

    state = {"w": torch.ones(2), "groups": [{"step": torch.tensor(3)}], "lr": 0.1}
    assert state_is_finite(state)
    copy = clone_state(state)
    state["w"][0] = float("nan")  # the live state goes bad; the clone does not follow
    assert not state_is_finite(state) and state_is_finite(copy)
    assert not state_is_finite({"m": (torch.zeros(1), torch.tensor([float("-inf")]))})
