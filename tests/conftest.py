"""Shared fixtures: the Omniglot background set lives beside the repository, never inside it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
OMNIGLOT_DIR = REPO_ROOT.parent / "shared" / "data" / "omniglot"


@pytest.fixture(autouse=True)
def _deterministic_threads():
    # Two cores are shared by everything on the CI machine; one thread keeps tests predictable.
    torch.set_num_threads(1)


@pytest.fixture
def omniglot_dir() -> Path:
    if not (OMNIGLOT_DIR / "images_background.zip").exists():
        pytest.skip(f"Omniglot background set not found at {OMNIGLOT_DIR}")
    return OMNIGLOT_DIR


@pytest.fixture
def machine_omniglot(tmp_path, monkeypatch) -> Path:
    """A small Omniglot background zip named by ``METALEARN_OMNIGLOT_DIR`` (train: Latin,
    val: Hebrew), with its decoded cache in ``tmp_path``."""
    from tests.data.helpers import write_omniglot_zip

    data = tmp_path / "omniglot"
    data.mkdir()
    write_omniglot_zip(data / "images_background.zip", alphabets={"Latin": 3, "Hebrew": 2})
    monkeypatch.setenv("METALEARN_OMNIGLOT_DIR", str(data))
    monkeypatch.setenv("METALEARN_CACHE_DIR", str(tmp_path / "cache"))
    return data
