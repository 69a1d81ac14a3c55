"""Hostile input on the command line: one line on stderr, exit status 2, no traceback."""

from __future__ import annotations

import io
import struct
import zipfile

import numpy as np
import pytest
from safetensors.torch import save as save_safetensors

from metalearn_core.cli import main
from metalearn_core.engine.checkpoint import FORMAT_MARKER, FORMAT_VERSION, _digest
from tests.data.helpers import png_bytes
from tests.data.test_guards import png_header_only

TRAIN = ["train", "--algo", "protonet", "--episodes", "1", "--no-progress", "--width", "8",
         "--threads", "1", "--n-way", "2", "--k-shot", "1", "--q-query", "1"]  # fmt: skip


def one_line_error(capsys, status: int, expected: str) -> str:
    err = capsys.readouterr().err.strip()
    assert status == 2, err
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    assert expected in err, err
    return err


def class_zip(extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for c in range(4):
            for i in range(3):
                archive.writestr(f"c{c}/{i}.png", png_bytes(np.full((8, 8), 40 * i, np.uint8)))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_yaml_aliases_are_refused(tmp_path, capsys):
    config = tmp_path / "run.yaml"
    lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]"
        for i in range(8)
    ]
    config.write_text("\n".join(lines) + "\n")
    status = main(
        ["train", "--config", str(config), "--out", str(tmp_path / "r"), "--episodes", "1"]
    )
    err = one_line_error(capsys, status, "anchors and aliases are not allowed")
    assert len(err) < 400


def test_a_deeply_nested_config_is_refused(tmp_path, capsys):
    config = tmp_path / "run.json"
    config.write_text("[" * 100_000 + "]" * 100_000)
    status = main(
        ["train", "--config", str(config), "--out", str(tmp_path / "r"), "--episodes", "1"]
    )
    one_line_error(capsys, status, "nested too deeply")


def test_a_deeply_nested_checkpoint_is_refused(tmp_path, capsys):
    state_json = '{"l":[' * 50_000 + "1" + "]}" * 50_000
    metadata = {"format": FORMAT_MARKER, "version": str(FORMAT_VERSION), "state": state_json,
                "sha256": _digest(state_json, {})}  # fmt: skip
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.safetensors").write_bytes(save_safetensors({}, metadata=metadata))
    one_line_error(capsys, main(["evaluate", str(run), "--episodes", "2"]), "nested too deeply")


def test_a_folder_zip_bomb_is_refused(tmp_path, capsys):
    data = bytearray(class_zip({"c0/zeros.png": b"\x00" * 100}))
    # the central directory announces 4 GB for the last member (its 32-bit size field)
    entry = data.rfind(b"PK\x01\x02")
    data[entry + 24 : entry + 28] = struct.pack("<I", 0xFFFFFFF0)
    (tmp_path / "bomb.zip").write_bytes(bytes(data))
    status = main([*TRAIN, "--dataset", "folder", "--data-dir", str(tmp_path / "bomb.zip"),
                   "--out", str(tmp_path / "r")])  # fmt: skip
    one_line_error(capsys, status, "more than the 1,073,741,824 allowed")


def test_an_image_bomb_in_a_folder_is_refused(tmp_path, capsys):
    (tmp_path / "bomb.zip").write_bytes(
        class_zip({f"c{c}/bomb.png": png_header_only(100_000, 100_000) for c in range(4)})
    )
    status = main([*TRAIN, "--dataset", "folder", "--data-dir", str(tmp_path / "bomb.zip"),
                   "--out", str(tmp_path / "r")])  # fmt: skip
    one_line_error(capsys, status, "/bomb.png announces more pixels")


def test_a_lying_zip_is_refused(tmp_path, capsys):
    data = bytearray(class_zip())
    for offset in range(len(data) - 4):
        if data[offset : offset + 4] == b"IDAT":
            data[offset + 6] ^= 0xFF  # the stored bytes no longer match the recorded CRC
    (tmp_path / "lying.zip").write_bytes(bytes(data))
    status = main([*TRAIN, "--dataset", "folder", "--data-dir", str(tmp_path / "lying.zip"),
                   "--out", str(tmp_path / "r")])  # fmt: skip
    one_line_error(capsys, status, "Bad CRC-32")


def test_an_impossible_allocation_is_one_line(tmp_path, capsys):
    status = main(["train", "--algo", "cnp", "--dataset", "sinusoid", "--episodes", "1",
                   "--no-progress", "--threads", "1", "--set", "hidden=1000000",
                   "--out", str(tmp_path / "r")])  # fmt: skip
    err = one_line_error(capsys, status, "error: ")
    # refused by the hyperparameter's bound where it has one, else by the allocator
    assert "hidden=1000000" in err or "not enough memory for these settings" in err, err


@pytest.mark.parametrize(
    "error",
    [
        MemoryError(),
        RuntimeError(
            "DefaultCPUAllocator: can't allocate memory: you tried to allocate 4000000000000 bytes"
        ),
    ],
)
def test_allocation_failures_anywhere_are_one_line(monkeypatch, tmp_path, capsys, error):
    import metalearn_core.cli.train as train_command

    def open_trainer(args):
        raise error

    monkeypatch.setattr(train_command, "_open_trainer", open_trainer)
    status = main(["train", "--algo", "protonet", "--dataset", "blobs", "--episodes", "1",
                   "--out", str(tmp_path / "r")])  # fmt: skip
    one_line_error(capsys, status, "not enough memory for these settings")


def test_other_runtime_errors_still_show_their_traceback(monkeypatch, tmp_path):
    import metalearn_core.cli.train as train_command

    def open_trainer(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(train_command, "_open_trainer", open_trainer)
    with pytest.raises(RuntimeError, match="a bug"):
        main(
            [
                "train",
                "--algo",
                "protonet",
                "--dataset",
                "blobs",
                "--episodes",
                "1",
                "--out",
                str(tmp_path / "r"),
            ]
        )


@pytest.mark.parametrize("command", ["gan", "fewshot-gan"])
def test_a_huge_gan_seed_names_the_allowed_range(capsys, command):
    with pytest.raises(SystemExit) as caught:
        main([command, "--seed", str(10**23)])
    assert caught.value.code == 2
    assert f"--seed: {10**23} is invalid: must be in 0..2**63-1" in capsys.readouterr().err
