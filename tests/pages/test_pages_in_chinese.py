"""Every page in Simplified Chinese through AppTest: titles, buttons, metric labels and figure
words in Chinese; switching language in the middle of a run keeps the run and its settings.

The pages read the session's language (``st.session_state["lang"]``, set by app.py's
switch); a page opened alone gets it set the way the switch sets it.
"""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from metalearn_core.engine import RunConfig, Trainer
from studio_ui import compare_session, train_session
from studio_ui.gan_session import FEWSHOT_KEY, LAB_KEY
from studio_ui.i18n import LANGUAGE_KEY, SWITCH_KEY
from studio_ui.live_chart import shown_figures
from studio_ui.serving import REPO_ROOT
from studio_ui.train_settings import KEY as TRAIN_KEY
from studio_ui.train_settings import hparam_key

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _page(name: str, **state) -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "pages" / f"{name}.py"), default_timeout=180)
    at.session_state[LANGUAGE_KEY] = "zh_CN"
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _chinese(text: str) -> bool:
    return bool(CHINESE.search(text or ""))


def _button(at: AppTest, key: str) -> str:
    return at.button(key=key).label


def _metric_labels(at: AppTest) -> list[str]:
    return [m.label for m in at.metric]


def test_the_train_page_in_chinese():
    at = _page("train")
    assert at.title[0].value == "训练"
    assert _button(at, "train_play_pause") == "运行"
    assert [_button(at, key) for key in ("train_step", "train_reset")] == ["单步", "重置"]
    assert _metric_labels(at)[:3] == ["Episode 数", "元迭代次数", "Episode / 秒"]
    assert at.subheader[0].value == "Episode 检查器"
    # the settings' labels and help come from the core's metadata, extracted and translated
    algorithm = at.selectbox(key=TRAIN_KEY + "algo")
    assert algorithm.label == "算法" and "原型网络" in algorithm.options
    assert at.number_input(key=TRAIN_KEY + "k_shot").help == "每类支持样本数"
    assert at.sidebar.header[0].value == "运行设置"
    # the update rule's sentence, from the algorithm's docstring (the quick demo: ProtoNet)
    assert any(m.value.startswith("每个类别 n 由其支持样本嵌入的均值表示") for m in at.markdown)
    curves = shown_figures(at)["train_curves"]["figure"]
    assert curves["layout"]["xaxis"]["title"]["text"] == "episode 数"
    assert "按“运行”或“单步”" in curves["layout"]["annotations"][-1]["text"]


def test_the_compare_page_in_chinese():
    at = _page("compare")
    assert at.title[0].value == "比较"
    assert at.radio(key=compare_session.KEY + "budget_kind").options == ["Episode 数", "秒数"]
    assert [_button(at, k) for k in ("compare_play_pause", "compare_step", "compare_score_button")] == [
        "运行", "单步", "评分",
    ]  # fmt: skip
    loss = shown_figures(at)["compare_loss"]["figure"]
    assert loss["layout"]["title"]["text"] == "训练损失(查询集)"
    assert [trace["name"] for trace in loss["data"]] == ["原型网络", "MAML"]
    assert at.subheader[0].value == "同一个 episode,每个学习器"


@pytest.fixture(scope="module")
def trained_run() -> Trainer:
    config = RunConfig(dataset="glyphs", algo="protonet", n_way=3, k_shot=1, q_query=2,
                       width=8, val_every=0, hparams={"meta_batch": 2})  # fmt: skip
    trainer = Trainer(config)
    trainer.run_tick(max_iterations=2)
    return trainer


def test_the_embedding_page_in_chinese(trained_run):
    at = _page("embeddings", **{train_session.KEY: train_session.TrainSession(trainer=trained_run)})
    assert at.title[0].value == "嵌入空间"
    assert _metric_labels(at)[:3] == ["轮廓系数", "原型准确率", "类间 / 类内"]
    headings = [m.value for m in at.markdown if m.value.startswith("#### ")]
    assert headings == ["#### 初始网络", "#### 训练后(2 步)"]
    figure = at.get("plotly_chart")[0].proto.spec
    assert "支持" in figure and "主成分 1" in figure
    assert at.radio(key="embed_mode").options == ["选定的一个 episode", "多个类别"]


def test_the_gan_lab_in_chinese():
    at = _page("gan", gan_batch_size=32)
    assert at.title[0].value == "GAN 实验室"
    data = at.selectbox(key="gan_dataset")  # the core's titles, marked there with N_
    assert data.label == "数据" and data.options[0] == "8 个高斯组成的圆环"
    at.button(key="gan_step_both").click().run()
    assert not at.exception, at.exception
    assert [_button(at, k) for k in ("gan_step_d", "gan_play_pause", "gan_reset")] == [
        "单步 D", "运行", "重置",
    ]  # fmt: skip
    assert _metric_labels(at)[:3] == ["步数", "判别器损失", "生成器损失"]
    assert at.session_state[LAB_KEY].model.steps == 1
    losses = shown_figures(at)["gan_losses"]["figure"]
    assert losses["layout"]["title"]["text"] == "损失"
    assert [trace["name"] for trace in losses["data"]] == ["判别器", "生成器"]


def test_the_fewshot_gan_page_in_chinese():
    at = _page("fewshot_gan")
    assert at.title[0].value == "少样本 GAN"
    assert [_button(at, k) for k in ("fewshot_gan_train", "fewshot_gan_new_task")] == [
        "元训练", "新的未见任务",
    ]  # fmt: skip
    assert "元迭代次数" in _metric_labels(at)
    assert at.radio(key="fewshot_gan_domain").options[0] == "圆环"
    table = at.dataframe[0].value
    assert "指标" in table.columns and "元学习起点" in table.columns
    assert at.session_state[FEWSHOT_KEY] is not None


def test_switching_language_in_the_middle_of_a_run_keeps_the_run_and_its_settings():
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=180).run()
    at.switch_page("pages/train.py").run()
    at.number_input(key=TRAIN_KEY + "n_way").set_value(3).run()
    at.button(key="train_step").click().run()
    at.button(key="train_step").click().run()
    state = at.session_state[train_session.KEY]
    trainer, episodes = state.trainer, state.trainer.episodes_seen
    assert episodes > 0 and at.title[0].value == "Train"
    settings = {w.key: w.value for w in at.number_input if w.key.startswith(TRAIN_KEY)}

    at.radio(key=SWITCH_KEY).set_value("zh_CN").run()  # the sidebar's switch
    at.switch_page("pages/train.py").run()  # AppTest reruns the page as a browser would
    assert not at.exception, at.exception
    assert at.title[0].value == "训练"
    assert at.number_input(key=TRAIN_KEY + "n_way").label.startswith("N-way(")  # translated
    assert at.session_state[train_session.KEY].trainer is trainer
    assert trainer.episodes_seen == episodes
    assert (
        dict(zip(_metric_labels(at), [m.value for m in at.metric], strict=False))["Episode 数"]
        == f"{episodes:,}"
    )
    assert {w.key: w.value for w in at.number_input if w.key.startswith(TRAIN_KEY)} == settings
    assert not at.warning  # the same settings: no offer of a new run

    at.radio(key=SWITCH_KEY).set_value("en").run()
    at.switch_page("pages/train.py").run()
    assert at.title[0].value == "Train" and trainer.episodes_seen == episodes


def test_a_widget_keeps_its_value_when_its_label_changes_language():
    at = AppTest.from_file(str(REPO_ROOT / "pages" / "fewshot_gan.py"), default_timeout=180)
    at.run()
    at.number_input(key="fewshot_gan_seed").set_value(3).run()
    at.select_slider(key="fewshot_gan_scratch_lr").set_value(0.01).run()
    at.radio(key="fewshot_gan_domain").set_value("rings").run()
    assert at.number_input(key="fewshot_gan_seed").label == "Seed"
    at.session_state[LANGUAGE_KEY] = "zh_CN"
    at.run()
    assert not at.exception, at.exception
    assert at.number_input(key="fewshot_gan_seed").label == "随机种子"
    assert at.number_input(key="fewshot_gan_seed").value == 3
    assert at.select_slider(key="fewshot_gan_scratch_lr").value == 0.01
    assert at.radio(key="fewshot_gan_domain").value == "rings"


def test_the_hyperparameters_show_readable_labels_in_both_languages():
    at = _page("train")
    at.selectbox(key=TRAIN_KEY + "algo").set_value("maml").run()
    assert not at.exception, at.exception
    inner_lr = at.number_input(key=hparam_key("maml", "inner_lr"))
    assert (inner_lr.label, inner_lr.help) == (
        "内循环学习率 α",
        "α:每个任务支持集上的内循环 SGD 步长",
    )
    assert at.number_input(key=hparam_key("maml", "inner_steps")).label == "内循环步数(训练)"
    at.session_state[LANGUAGE_KEY] = "en"
    at.run()
    assert at.number_input(key=hparam_key("maml", "inner_lr")).label == "Inner learning rate α"
    assert at.number_input(key=hparam_key("maml", "inner_lr")).value == inner_lr.value


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("zh_CN", "这些设置无法运行:验证 episode 数=20 无效:本服务器最多允许 2(课堂限制 max_val_episodes)。"),
        ("en", "These settings cannot run: Validation episodes=20 is invalid: this server allows "
               "at most 2 (classroom limit max_val_episodes)."),
    ],
)  # fmt: skip
def test_a_setting_past_a_classroom_limit_is_refused_in_the_pages_language(
    monkeypatch, tmp_path, language, message
):
    config = tmp_path / "classroom.toml"
    config.write_text("[classroom]\nmax_val_episodes = 2\n")
    monkeypatch.setenv("METALEARN_CLASSROOM_CONFIG", str(config))
    at = _page("train", **{LANGUAGE_KEY: language})
    assert [e.value for e in at.error] == [message]
    assert at.session_state[TRAIN_KEY + "val_episodes"] == 20  # the page's value, refused
