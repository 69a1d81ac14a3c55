"""The core's errors keep their English text for the command line, and keep their templates
and values so that the pages show them in the student's language (``describe_error``)."""

from __future__ import annotations

import pytest

from metalearn_core.engine.config import RunConfig
from metalearn_core.engine.limits import ServerLimits, check_run_config
from metalearn_core.settings import ConfigError
from studio_ui.errors import describe_error, field_label
from studio_ui.i18n import translations


def _error(action) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        action()
    return caught.value


def test_a_bad_setting_keeps_its_english_text_and_its_templates():
    error = _error(lambda: RunConfig.from_dict({"k_shot": 0}))
    assert str(error) == "k_shot=0 is invalid: must be an integer in 1..100"
    assert (error.field_name, error.value, error.allowed) == (
        "k_shot", 0, "must be an integer in 1..100",
    )  # fmt: skip
    chinese = translations("zh_CN")
    pieces = [chinese.gettext(t).format(**dict(v)) for t, v in error.allowed_parts]
    assert "".join(pieces) == "必须是1..100 之间的整数"
    # outside a page, English: the field named by its label
    assert describe_error(error) == "K-shot=0 is invalid: must be an integer in 1..100"


def test_a_hyperparameter_and_a_classroom_limit_are_named_by_their_labels():
    error = _error(lambda: RunConfig.from_dict({"algo": "maml", "hparams": {"inner_lr": -1}}))
    assert str(error) == "hparams.inner_lr=-1 is invalid: must be a finite number > 0"
    assert (
        describe_error(error) == "Inner learning rate α=-1 is invalid: must be a finite number > 0"
    )
    limits = ServerLimits(max_inner_steps=3)
    config = RunConfig(algo="maml", hparams={"inner_steps_test": 50})
    error = _error(lambda: check_run_config(config, limits))
    assert str(error) == (
        "hparams.inner_steps_test=50 is invalid: this server allows at most 3 "
        "(classroom limit max_inner_steps)"
    )
    assert describe_error(error).startswith("Inner steps (test)=50 is invalid")
    assert field_label("maml.inner_steps") == "Inner steps (training)"


def test_any_other_error_is_shown_as_its_text():
    plain = ConfigError("config", "{", "not valid JSON")
    assert describe_error(plain) == str(plain) == "config='{' is invalid: not valid JSON"
    assert describe_error(ValueError("a folder not served here")) == "a folder not served here"
