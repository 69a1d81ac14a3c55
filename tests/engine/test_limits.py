"""The shared server's limits: one config section, runs and checkpoints checked before building."""

from __future__ import annotations

import os

import pytest
import torch

from metalearn_core.algorithms import make_learner
from metalearn_core.engine import ConfigError, RunConfig, Trainer
from metalearn_core.engine.limits import (
    CONFIG_ENV,
    DataFolderRefused,
    ServerLimits,
    check_learner_state,
    check_run_config,
    count_parameters,
    load_server_limits,
    served_data_dir,
)
from metalearn_core.spec import ProblemSpec


def test_defaults_without_a_config_file(monkeypatch, tmp_path):
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    limits = load_server_limits()
    assert limits == ServerLimits() and limits.data_roots == ()  # uploads only


def test_the_classroom_section_is_read_from_the_env_var(monkeypatch, tmp_path):
    (tmp_path / "data").mkdir()
    config = tmp_path / "class.toml"
    config.write_text(
        '[classroom]\nmax_val_episodes = 20\nmax_parameters = 1_000\ndata_roots = ["data"]\n'
        "[other]\nignored = 1\n"
    )
    monkeypatch.setenv(CONFIG_ENV, str(config))
    limits = load_server_limits()
    assert limits.max_val_episodes == 20 and limits.max_parameters == 1000
    assert limits.data_roots == (str(tmp_path / "data"),)  # relative to the file
    assert limits.input_caps().zip_members == ServerLimits().max_zip_members


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[classroom]\nmax_val_episode = 3\n", "unknown [classroom] setting(s) max_val_episode"),
        ("[classroom]\nmax_val_episodes = 0\n", "max_val_episodes=0 is invalid"),
        ('[classroom]\nmax_val_episodes = "9"\n', "max_val_episodes='9' is invalid"),
        ('[classroom]\ndata_roots = "/srv"\n', "data_roots='/srv' is invalid"),
        ("[classroom\n", "is not valid TOML"),
    ],
)
def test_a_bad_classroom_config_names_the_setting(tmp_path, text, message):
    config = tmp_path / "classroom.toml"
    config.write_text(text)
    with pytest.raises(
        ValueError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")
    ):
        load_server_limits(config)


def test_a_named_config_that_is_missing_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_server_limits(tmp_path / "nope.toml")


def test_parameters_are_counted_without_allocating_them():
    config = RunConfig(dataset="glyphs", algo="protonet", width=16)
    spec = ProblemSpec("classification", (1, 28, 28), n_way=5, backbone="conv4", width=16)
    real = make_learner("protonet", spec)
    assert count_parameters(config) == sum(p.numel() for p in real.model.parameters())
    # 40 billion weights would be 160 GB: counted in an instant, nothing allocated
    # the largest network the settings allow is counted as exactly as the smallest
    wide = RunConfig(dataset="sinusoid", algo="cnp", n_way=1, hparams={"hidden": 1024})
    spec = ProblemSpec("regression", (1,), n_way=1)
    real = make_learner("cnp", spec, {"hidden": 1024})
    modules = [m for m in vars(real).values() if isinstance(m, torch.nn.Module)]
    assert count_parameters(wide) == sum(p.numel() for m in modules for p in m.parameters())


# A teacher's limits stricter than the run settings' own bounds (which refuse, e.g.,
# val_episodes past 1,000 before any server limit is asked).
STRICT = ServerLimits(
    max_val_episodes=100, max_history_length=1000, max_inner_steps=10, max_parameters=1_000_000
)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"val_episodes": 500}, "val_episodes=500 is invalid: this server allows at most 100"),
        (
            {"history_limit": 5000},
            "history_limit=5000 is invalid: this server allows at most 1,000",
        ),
        (
            {"algo": "maml", "hparams": {"inner_steps": 15}},
            "hparams.inner_steps=15 is invalid: this server allows at most 10",
        ),
        ({"algo": "reptile", "hparams": {"inner_steps_test": 150}}, "hparams.inner_steps_test=150"),
        ({"algo": "transfer", "hparams": {"finetune_steps": 300}}, "hparams.finetune_steps=300"),
        (
            {"width": 512},
            r"model parameters=\d+ is invalid: this server allows at most 1,000,000",
        ),
    ],
)
def test_a_run_past_the_limits_is_refused_naming_value_and_limit(changes, message):
    config = RunConfig(dataset="glyphs", algo="protonet").replace(**changes)
    with pytest.raises(ConfigError, match=message):
        check_run_config(config, STRICT)


def test_the_quick_demo_and_the_papers_settings_fit_the_defaults():
    for algo in ("protonet", "maml", "reptile", "matchingnet", "snail", "transfer"):
        check_run_config(RunConfig(dataset="glyphs", algo=algo), ServerLimits())
    check_run_config(RunConfig(dataset="sinusoid", algo="cnp", n_way=1), ServerLimits())


def test_a_checkpoint_announcing_a_huge_head_is_refused_before_building():
    limits = ServerLimits(max_parameters=100_000)
    state = {
        "backbone": {"w": torch.zeros(64, 64)},
        "classifier": {"weight": torch.zeros(2_000_000, 0)},
    }
    with pytest.raises(ValueError, match=r"shape \(2000000, 0\) announces 2,000,000 weights"):
        check_learner_state(state, limits)
    with pytest.raises(
        ValueError, match="hold 400,010 numbers; this server allows at most 400,000"
    ):
        check_learner_state(
            {"a": [torch.zeros(100_000)] * 4, "b": (torch.zeros(10),)},
            limits,
        )
    check_learner_state(
        {"model": {"w": torch.zeros(300, 300)}, "optimizer": [torch.zeros(300, 300)] * 3}, limits
    )


def test_the_transfer_head_is_checked_against_the_backbone_before_it_is_built():
    spec = ProblemSpec("classification", (1, 28, 28), n_way=5, backbone="conv4", width=8)
    learner = make_learner("transfer", spec)
    state = learner.state_dict()
    state["classifier"] = {"weight": torch.zeros(2_000_000, 0), "bias": torch.zeros(2_000_000)}
    with pytest.raises(ValueError, match=r"head's weight has shape \(2000000, 0\)"):
        learner.load_state_dict(state)
    assert learner.classifier is None  # nothing was built


# ----- data folders ---------------------------------------------------------------------------
def test_no_roots_serves_no_folder_and_names_nothing(tmp_path):
    for typed in ("/etc/shadow", "~", str(tmp_path), "../../etc"):
        with pytest.raises(DataFolderRefused) as caught:
            served_data_dir(typed, [])
        message = str(caught.value)
        assert "none is listed: upload a zip" in message
        assert typed not in message and "shadow" not in message and str(tmp_path) not in message
    assert served_data_dir("", []) is None and served_data_dir(None, []) is None


def test_only_folders_inside_a_root_are_served(tmp_path):
    root = tmp_path / "class-data"
    (root / "birds").mkdir(parents=True)
    (tmp_path / "private").mkdir()
    os.symlink(tmp_path / "private", root / "escape")
    assert served_data_dir("birds", [root]) == str(root / "birds")  # relative: inside a root
    assert served_data_dir(str(root / "birds"), [root]) == str(root / "birds")
    for typed in ("../private", str(tmp_path / "private"), "escape", "birds/../../private", "/etc"):
        with pytest.raises(DataFolderRefused, match="name a folder inside one of them") as caught:
            served_data_dir(typed, [root])
        assert "private" not in str(caught.value) and str(root) not in str(caught.value)


def test_a_folder_refusal_is_a_value_error_for_every_caller():
    assert issubclass(DataFolderRefused, ValueError)
    assert Trainer  # the engine's public names stay importable beside the limits


def test_a_run_zip_may_unpack_to_what_its_largest_model_needs():
    limits = ServerLimits(max_parameters=1_000_000)
    assert limits.max_run_bytes() == 4 * 1_000_000 * 8 + (64 << 20)
    assert ServerLimits(max_zip_bytes=1000).max_run_bytes() == 1000
