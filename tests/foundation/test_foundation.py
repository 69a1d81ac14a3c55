"""The skeleton every other part grows on: CLI, configuration, the core/app boundary."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_python(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_cli_help_lists_every_subcommand():
    result = run_python("-m", "metalearn_core", "--help")
    assert result.returncode == 0, result.stderr
    from metalearn_core.cli import SUBCOMMAND_MODULES

    assert SUBCOMMAND_MODULES, "no subcommands registered"
    for module_name in SUBCOMMAND_MODULES:
        assert module_name.replace("_", "-") in result.stdout


def test_cli_unknown_subcommand_fails():
    result = run_python("-m", "metalearn_core", "no-such-command")
    assert result.returncode != 0
    assert "invalid choice" in result.stderr


def test_core_never_imports_streamlit():
    code = (
        "import importlib, pkgutil, sys, metalearn_core\n"
        "for m in pkgutil.walk_packages(metalearn_core.__path__, 'metalearn_core.'):\n"
        "    if m.name != 'metalearn_core.__main__':\n"
        "        importlib.import_module(m.name)\n"
        "print('streamlit' in sys.modules)\n"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_core_has_no_print_calls():
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for path in (REPO_ROOT / "metalearn_core").rglob("*.py")
        if "cli" not in path.parts
        and path.name != "__main__.py"
        and any(line.lstrip().startswith("print(") for line in path.read_text().splitlines())
    ]
    assert offenders == []


def test_torch_is_pinned_to_the_cpu_build_release():
    lines = (REPO_ROOT / "requirements.txt").read_text().splitlines()
    assert "torch==2.13.0" in [line.strip() for line in lines]


def test_streamlit_config_suits_a_classroom_server():
    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["headless"] is True
    assert config["server"]["fileWatcherType"] == "none"
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] == "type"
    assert config["runner"]["postScriptGC"] is False  # a full collection costs 0.2 s per run
    # a press must not start a second script thread beside a run still training the model
    assert config["runner"]["fastReruns"] is False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_server_starts_headless_and_answers_health():
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        body = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_stcore/health", timeout=2
                ) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.3)
        assert body == "ok", "server did not answer /_stcore/health with ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert response.status == 200
            assert "<html" in response.read().decode().lower()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    if server.returncode not in (0, -15, None):
        pytest.fail(f"server exited with {server.returncode}")
