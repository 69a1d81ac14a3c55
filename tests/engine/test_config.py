"""RunConfig: round trips, and errors that name the field, the value and what is allowed."""

from __future__ import annotations

import json

import pytest

from metalearn_core.engine import ConfigError, RunConfig, Trainer, load_config_file


def test_json_and_yaml_round_trip_keep_every_field():
    config = RunConfig(
        dataset="sinusoid", algo="maml", n_way=1, k_shot=10, q_query=7, seed=11,
        hparams={"inner_lr": 0.05, "inner_steps": 2}, width=32, threads=1, minutes=1.5,
    )  # fmt: skip
    assert RunConfig.from_json(config.to_json()) == config
    assert RunConfig.from_yaml(config.to_yaml()) == config
    assert json.loads(config.to_json())["hparams"] == {"inner_lr": 0.05, "inner_steps": 2}
    assert hash(RunConfig.from_json(config.to_json())) == hash(config)


def test_integers_are_accepted_for_float_hyperparameters():
    config = RunConfig(dataset="blobs", algo="maml", hparams={"inner_lr": 1})
    assert config.hparams["inner_lr"] == 1.0 and isinstance(config.hparams["inner_lr"], float)


def test_config_file_by_suffix(tmp_path):
    config = RunConfig(dataset="blobs", algo="protonet", seed=5)
    (tmp_path / "run.json").write_text(config.to_json())
    (tmp_path / "run.yaml").write_text(config.to_yaml())
    assert load_config_file(str(tmp_path / "run.json")) == config
    assert load_config_file(str(tmp_path / "run.yaml")) == config
    with pytest.raises(FileNotFoundError, match="missing.yaml"):
        load_config_file(str(tmp_path / "missing.yaml"))


def test_the_callers_hparams_dict_cannot_change_a_validated_config():
    overrides = {"inner_lr": 0.1}
    config = RunConfig(dataset="blobs", algo="maml", hparams=overrides)
    overrides["inner_lr"] = -5.0
    assert config.hparams["inner_lr"] == 0.1


@pytest.mark.parametrize(
    ("changes", "field", "allowed"),
    [
        ({"dataset": "mnist"}, "dataset", "blobs"),
        ({"algo": "svm"}, "algo", "protonet"),
        ({"n_way": 0}, "n_way", ">= 1"),
        ({"k_shot": "3"}, "k_shot", "integer"),
        ({"q_query": True}, "q_query", "integer"),
        ({"backbone": "resnet"}, "backbone", "conv4"),
        ({"device": "tpu"}, "device", "cuda"),
        ({"val_every": -1}, "val_every", ">= 0"),
        ({"image_size": 2}, "image_size", "4..256"),
        ({"minutes": -2.0}, "minutes", "> 0"),
        ({"hparams": {"outer_lr": -0.1}}, "hparams.outer_lr", "> 0"),
        ({"hparams": {"outer_lr": float("nan")}}, "hparams.outer_lr", "finite"),
        ({"hparams": {"meta_batch": 0}}, "hparams.meta_batch", "1..1024"),
        ({"hparams": {"inner_lr": 0.1}}, "hparams.inner_lr", "outer_lr"),  # not a ProtoNet one
        ({"dataset": "sinusoid", "n_way": 1}, "algo", "maml"),  # ProtoNet can't regress
        ({"dataset": "sinusoid", "algo": "maml", "n_way": 5}, "n_way", "must be 1"),
        # the CNP's network is its own, sized by its hyperparameters: a width would be ignored
        ({"dataset": "sinusoid", "algo": "cnp", "n_way": 1, "width": 7}, "width", "hidden"),
        (
            {"dataset": "sinusoid", "algo": "cnp", "n_way": 1, "embedding_2d": True},
            "embedding_2d",
            "own network",
        ),
        (
            {"dataset": "sinusoid", "algo": "cnp", "n_way": 1, "backbone": "conv4"},
            "backbone",
            "own network",
        ),
    ],
)
def test_bad_values_name_field_value_and_allowed(changes, field, allowed):
    values = {"dataset": "blobs", "algo": "protonet"} | changes
    with pytest.raises(ConfigError) as caught:
        RunConfig.from_dict(values)
    message = str(caught.value)
    assert message.startswith(f"{field}=")
    assert allowed in message
    assert isinstance(caught.value, ValueError)


def test_unknown_field_is_named():
    with pytest.raises(ConfigError, match=r"n_ways=5 is invalid: unknown field; allowed: .*n_way"):
        RunConfig.from_dict({"n_ways": 5})


def test_malformed_json_and_yaml_are_config_errors():
    with pytest.raises(ConfigError, match="JSON"):
        RunConfig.from_json("{not json")
    with pytest.raises(ConfigError, match="mapping"):
        RunConfig.from_yaml("- a list\n- not a mapping\n")


def test_episode_shape_the_data_cannot_hold_is_named_at_trainer_start(blobs_config):
    too_many_classes = blobs_config.replace(n_way=10_000)
    with pytest.raises(ConfigError, match=r"^n_way=10000 is invalid: .*classes"):
        Trainer(too_many_classes)
    too_many_examples = blobs_config.replace(k_shot=5_000, q_query=5_000)
    with pytest.raises(ConfigError, match=r"^k_shot \+ q_query=10000 is invalid"):
        Trainer(too_many_examples)
