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
        ({"n_way": 0}, "n_way", "in 1..100"),
        ({"k_shot": "3"}, "k_shot", "integer"),
        ({"q_query": True}, "q_query", "integer"),
        ({"backbone": "resnet"}, "backbone", "conv4"),
        ({"device": "tpu"}, "device", "cuda"),
        ({"val_every": -1}, "val_every", "in 0..1000000"),
        ({"image_size": 2}, "image_size", "4..128"),
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
    too_many_classes = blobs_config.replace(n_way=100)  # within the limit, past blobs' 32
    with pytest.raises(ConfigError, match=r"^n_way=100 is invalid: .*classes"):
        Trainer(too_many_classes)
    too_many_examples = blobs_config.replace(dataset="glyphs", k_shot=15, q_query=10)
    with pytest.raises(ConfigError, match=r"^k_shot \+ q_query=25 is invalid"):
        Trainer(too_many_examples)


def _integer_fields(cls) -> list:
    from metalearn_core.settings import settings_of

    return [info for info in settings_of(cls).values() if info.kind is int]


def test_every_integer_setting_has_an_upper_bound_and_every_field_a_help_text():
    from metalearn_core.algorithms import ALGORITHMS
    from metalearn_core.settings import settings_of

    classes = [RunConfig, *(learner.hparams_class for learner in ALGORITHMS.values())]
    for cls in classes:
        unbounded = [info.name for info in _integer_fields(cls) if info.high is None]
        assert unbounded == [], f"{cls.__name__}: {unbounded}"
        assert [name for name, info in settings_of(cls).items() if not info.help] == []


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"dataset": "sinusoid", "algo": "maml", "n_way": 1, "k_shot": 100_000},
         "k_shot=100000 is invalid: must be an integer in 1..100"),
        ({"dataset": "sinusoid", "algo": "cnp", "n_way": 1, "hparams": {"hidden": 1_000_000}},
         "hparams.hidden=1000000 is invalid: must be an integer in 1..1024"),
        ({"algo": "maml", "hparams": {"inner_steps": 10_000}},
         "hparams.inner_steps=10000 is invalid: must be an integer in 1..20"),
        ({"algo": "transfer", "hparams": {"finetune_steps": 10**9}},
         "hparams.finetune_steps=1000000000 is invalid: must be an integer in 0..500"),
        ({"algo": "snail", "hparams": {"layers": 64}}, "hparams.layers=64 is invalid"),
        ({"width": 1_000_000}, "width=1000000 is invalid: must be an integer in 1..512 (or null)"),
        ({"val_episodes": 10**12}, "val_episodes=1000000000000 is invalid: must be an integer in 1..1000"),
        ({"episodes": 10**12}, "episodes=1000000000000 is invalid"),
        ({"algo": "matchingnet", "hparams": {"attention_scale": 1e300}},
         "hparams.attention_scale=1e+300 is invalid: must be a finite number > 0 and <= 1000"),
        ({"algo": "maml", "hparams": {"strategy": "fast"}},
         "hparams.strategy='fast' is invalid: must be one of 'auto', 'vmap', 'loop'"),
    ],
)  # fmt: skip
def test_sizes_past_their_limit_are_refused_quoting_value_and_limit(values, message):
    with pytest.raises(ConfigError) as caught:
        RunConfig.from_dict({"dataset": "glyphs"} | values)
    assert str(caught.value) == message or str(caught.value).startswith(message)


def test_the_hyperparameter_classes_check_their_own_limits():
    from metalearn_core.algorithms.cnp import CNPHyperparameters

    with pytest.raises(
        ConfigError, match=r"^hidden=5000 is invalid: must be an integer in 1..1024"
    ):
        CNPHyperparameters(hidden=5000)
    assert CNPHyperparameters(outer_lr=1).outer_lr == 1.0  # an integer is a float's value


def test_data_settings_carry_every_field_that_decides_the_data():
    config = RunConfig(dataset="glyphs", image_size=20, rotations=True, data_seed=3, seed=1)
    data = config.data_settings()
    assert (data.dataset, data.image_size, data.rotations, data.data_seed) == (
        "glyphs", 20, True, 3)  # fmt: skip
    assert config.replace(seed=2, algo="maml").data_settings() == data  # not a data field
    for change in ({"image_size": 24}, {"rotations": False}, {"data_seed": 4}):
        assert config.replace(**change).data_settings() != data
    source = data.open("train")
    assert source.input_shape == (1, 20, 20)
