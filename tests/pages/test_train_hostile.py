"""The Train page under hostile input: each refusal is a clear message, the page keeps
serving, the current run is unchanged, and nothing on the server is named or read."""

from __future__ import annotations

import gc
import io
import zipfile

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from metalearn_core.engine import export_run_zip
from metalearn_core.engine.checkpoint import CHECKPOINT_FILE, decode_checkpoint, encode_checkpoint
from metalearn_core.engine.limits import CONFIG_ENV
from studio_ui import train_session as session
from studio_ui.classroom import SESSION_FOLDER_KEY, SessionFolder
from studio_ui.serving import REPO_ROOT
from studio_ui.train_settings import FOLDER_ZIP_KEY, KEY
from tests.data.helpers import png_bytes
from tests.data.test_guards import png_header_only
from tests.pages.test_train import META_BATCH, choose, metric

TRAIN_PAGE = str(REPO_ROOT / "pages" / "train.py")


@pytest.fixture
def classroom(tmp_path, monkeypatch):
    """A classroom config in a temporary file; returns a function that rewrites it."""
    config = tmp_path / "classroom.toml"

    def write(**values):
        lines = ["[classroom]"] + [f"{name} = {value!r}" for name, value in values.items()]
        config.write_text("\n".join(lines).replace("'", '"') + "\n")

    write()
    monkeypatch.setenv(CONFIG_ENV, str(config))
    return write


@pytest.fixture
def app(classroom) -> AppTest:
    at = AppTest.from_file(TRAIN_PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def trained(at: AppTest, steps: int = 2):
    choose(at, "blobs", "protonet")
    for _ in range(steps):
        at.button(key="train_step").click().run()
    return at.session_state[session.KEY].trainer


def still_serving(at: AppTest, current, episodes: int) -> None:
    """The run is the same object at the same point, and Step still trains it."""
    assert not at.exception, at.exception
    assert at.session_state[session.KEY].trainer is current
    assert metric(at, "Episodes") == str(episodes)
    at.button(key="train_step").click().run()
    assert at.session_state[session.KEY].trainer is current
    assert metric(at, "Episodes") == str(episodes + META_BATCH)


def tampered_run_zip(run_zip: bytes, config=None, learner=None) -> bytes:
    """A run zip edited as a hostile student would, its SHA-256 recomputed to match."""
    source = zipfile.ZipFile(io.BytesIO(run_zip))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith(CHECKPOINT_FILE):
                payload = decode_checkpoint(data)
                payload["config"].update(config or {})
                if learner is not None:
                    learner(payload["learner"])
                data = encode_checkpoint(payload)
            target.writestr(info.filename, data)
    return out.getvalue()


def upload_run(at: AppTest, name: str, data: bytes) -> list[str]:
    at.file_uploader(key=session.UPLOAD_KEY).set_value((name, data, "application/zip")).run()
    return [e.value for e in at.error]


# ----- uploaded runs -------------------------------------------------------------------------
def test_an_upload_past_the_limits_is_refused_and_its_threads_never_apply(app):
    current = trained(app)
    threads = torch.get_num_threads()
    data = tampered_run_zip(export_run_zip(current), {"threads": 64, "val_episodes": 10**12})
    errors = upload_run(app, "greedy.zip", data)
    # refused by the run settings' own bound (1..1000) before the server's limit is asked
    assert any(
        "greedy.zip is not a run this app can open: Validation episodes=1000000000000 is invalid: "
        in e
        and "1000" in e
        for e in errors
    ), errors
    assert torch.get_num_threads() == threads
    still_serving(app, current, 2 * META_BATCH)


def test_an_upload_within_the_limits_opens_without_its_threads(app):
    current = trained(app)
    threads = torch.get_num_threads()
    data = tampered_run_zip(export_run_zip(current), {"threads": 64})
    fresh = AppTest.from_file(TRAIN_PAGE, default_timeout=60).run()
    assert not upload_run(fresh, "run.zip", data)
    loaded = fresh.session_state[session.KEY].trainer
    assert loaded.iteration == 2 and loaded.config.threads is None
    assert torch.get_num_threads() == threads


def test_a_checkpoint_announcing_a_huge_head_is_refused_before_building(app, classroom):
    classroom(max_parameters=200_000)
    current = trained(app)

    def huge_head(state):
        state["model"]["huge"] = torch.zeros(2_000_000, 0)

    data = tampered_run_zip(export_run_zip(current), learner=huge_head)
    errors = upload_run(app, "head.zip", data)
    assert any("shape (2000000, 0) announces 2,000,000 weights" in e for e in errors), errors
    still_serving(app, current, 2 * META_BATCH)


def test_an_uploaded_run_cannot_name_a_server_folder(app):
    current = trained(app)
    data = tampered_run_zip(export_run_zip(current), {"data_dir": "/etc"})
    errors = upload_run(app, "snoop.zip", data)
    assert any(
        "snoop.zip is not a run this app can open: that data folder is not served" in e
        for e in errors
    ), errors
    assert not any("/etc" in e for e in errors)
    still_serving(app, current, 2 * META_BATCH)


def test_an_upload_larger_than_the_server_takes_is_refused(app, classroom):
    classroom(max_upload_bytes=1_000)
    current = trained(app)
    errors = upload_run(app, "big.zip", export_run_zip(current))
    assert any("big.zip is" in e and "at most 1,000 bytes" in e for e in errors), errors
    still_serving(app, current, 2 * META_BATCH)


# ----- data folders ----------------------------------------------------------------------------
def type_folder(at: AppTest, typed: str) -> list[str]:
    at.selectbox(key=KEY + "dataset").set_value("folder").run()
    at.text_input(key=KEY + "data_dir").set_value(typed).run()
    return [e.value for e in at.error]


@pytest.mark.parametrize("typed", ["/etc/shadow", "~", "/etc", "../../../etc"])
def test_a_server_path_typed_in_the_field_is_refused_without_naming_it(app, typed):
    current = trained(app)
    errors = type_folder(app, typed)
    assert any(
        "that data folder is not served here" in e and "upload a zip" in e for e in errors
    ), errors
    assert not any("shadow" in e or "/etc" in e or "/root" in e for e in errors), errors
    assert app.session_state[session.KEY].trainer is current
    app.selectbox(key=KEY + "dataset").set_value("blobs").run()  # back to the run's settings
    still_serving(app, current, 2 * META_BATCH)


def test_a_folder_inside_the_teachers_roots_is_served(app, classroom, tmp_path):
    root = tmp_path / "class-data"
    for c in range(4):
        (root / "birds" / f"c{c}").mkdir(parents=True)
        for i in range(3):
            (root / "birds" / f"c{c}" / f"{i}.png").write_bytes(
                png_bytes(np.full((8, 8), 60 * i, np.uint8))
            )
    classroom(data_roots=[str(root)])
    app.number_input(key=KEY + "n_way").set_value(2)
    app.number_input(key=KEY + "val_every").set_value(0)
    app.number_input(key=KEY + "q_query").set_value(2)
    assert not type_folder(app, "birds")
    trainer = app.session_state[session.KEY].trainer
    assert trainer.config.dataset == "folder" and trainer.config.data_dir == str(root / "birds")
    errors = type_folder(app, str(tmp_path))  # the folder above the root: refused
    assert any("name a folder inside one of them" in e for e in errors), errors


# ----- bombs -----------------------------------------------------------------------------------
def test_a_zip_bomb_uploaded_as_a_data_set_is_refused(app, classroom):
    classroom(max_zip_bytes=5_000_000)
    current = trained(app)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for c in range(4):
            for i in range(3):
                archive.writestr(f"c{c}/{i}.png", png_bytes(np.full((8, 8), 60 * i, np.uint8)))
        archive.writestr("c0/zeros.png", b"\x00" * 20_000_000)
    assert len(buffer.getvalue()) < 100_000
    app.selectbox(key=KEY + "dataset").set_value("folder").run()
    app.file_uploader(key=FOLDER_ZIP_KEY).set_value(
        ("bomb.zip", buffer.getvalue(), "application/zip")
    ).run()
    errors = [e.value for e in app.error]
    assert any(
        "the uploaded bomb.zip unpacks to 20,00" in e and "more than the 5,000,000 allowed" in e
        for e in errors
    ), errors
    assert not any("metalearn-session" in e for e in errors)  # not the stored copy's path
    assert app.session_state[session.KEY].trainer is current
    app.selectbox(key=KEY + "dataset").set_value("blobs").run()
    still_serving(app, current, 2 * META_BATCH)


def test_an_image_bomb_in_an_uploaded_data_set_is_refused(app):
    current = trained(app)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for c in range(4):
            for i in range(3):
                archive.writestr(f"c{c}/{i}.png", png_bytes(np.full((8, 8), 60 * i, np.uint8)))
            archive.writestr(f"c{c}/bomb.png", png_header_only(100_000, 100_000))
    app.selectbox(key=KEY + "dataset").set_value("folder").run()
    app.file_uploader(key=FOLDER_ZIP_KEY).set_value(
        ("pics.zip", buffer.getvalue(), "application/zip")
    ).run()
    errors = [e.value for e in app.error]
    assert any("bomb.png announces more pixels than any image read here" in e for e in errors), (
        errors
    )
    assert app.session_state[session.KEY].trainer is current


# ----- per-session storage ------------------------------------------------------------------------
def test_each_session_stores_uploads_in_its_own_folder(app):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for c in range(4):
            for i in range(3):
                archive.writestr(f"c{c}/{i}.png", png_bytes(np.full((8, 8), 60 * i, np.uint8)))
    folders = []
    for _ in range(2):  # two students upload the very same zip
        at = AppTest.from_file(TRAIN_PAGE, default_timeout=60).run()
        at.selectbox(key=KEY + "dataset").set_value("folder").run()
        at.file_uploader(key=FOLDER_ZIP_KEY).set_value(
            ("same.zip", buffer.getvalue(), "application/zip")
        ).run()
        assert not at.exception
        assert not any("metalearn-session" in e.value for e in at.error)  # no path shown
        folder = at.session_state[SESSION_FOLDER_KEY].path
        assert [p.suffix for p in folder.iterdir()] == [".zip"]  # no partial file left
        folders.append(folder)
    assert folders[0] != folders[1]


def test_a_session_folder_is_removed_when_its_session_state_goes():
    holder = {"state": SessionFolder()}
    path = holder["state"].path
    (path / "upload.zip").write_bytes(b"x")
    del holder["state"]
    gc.collect()
    assert not path.exists()


def test_a_sessions_uploads_are_removed_when_the_session_ends(classroom):
    app = AppTest.from_file(TRAIN_PAGE, default_timeout=60).run()  # held by this test only
    app.selectbox(key=KEY + "dataset").set_value("folder").run()
    app.file_uploader(key=FOLDER_ZIP_KEY).set_value(
        ("notes.zip", b"PK\x05\x06" + b"\x00" * 18, "application/zip")
    ).run()
    folder = app.session_state[SESSION_FOLDER_KEY].path
    assert [p.suffix for p in folder.iterdir()] == [".zip"]
    del app  # the session and its state go, as when a tab closes and its session expires
    gc.collect()
    assert not folder.exists()


def test_settings_past_the_server_limits_are_refused_naming_the_limit(app, classroom):
    classroom(max_val_episodes=30)
    current = trained(app)
    app.number_input(key=KEY + "val_episodes").set_value(500).run()
    errors = [e.value for e in app.error]
    assert any(
        "Validation episodes=500 is invalid: this server allows at most 30" in e for e in errors
    )
    assert app.session_state[session.KEY].trainer is current
    app.number_input(key=KEY + "val_episodes").set_value(current.config.val_episodes).run()
    still_serving(app, current, 2 * META_BATCH)


def test_a_run_zip_inflating_past_what_a_model_needs_is_refused(app, classroom):
    classroom(max_parameters=10_000)  # a run may unpack to 4 x 10,000 x 8 bytes + 64 MB
    current = trained(app)
    padded = io.BytesIO()
    with (
        zipfile.ZipFile(export_and_read(current)) as source,
        zipfile.ZipFile(padded, "w", compression=zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("metrics.csv"):
                data += b"\n" * (70 << 20)  # 70 MB of newlines deflate to about 70 KB
            target.writestr(info.filename, data)
    errors = upload_run(app, "padded.zip", padded.getvalue())
    assert any(
        "padded.zip is not a run this app can open: run zip unpacks to" in e
        and "more than the 67,428,864 allowed" in e
        for e in errors
    ), errors
    still_serving(app, current, 2 * META_BATCH)


def export_and_read(current) -> io.BytesIO:
    return io.BytesIO(export_run_zip(current))
