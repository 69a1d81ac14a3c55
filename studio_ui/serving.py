"""Start the app as a real ``streamlit run`` server in a subprocess (browser tests, benchmarks).

>>> with StreamlitServer() as server:
...     urllib.request.urlopen(server.url + "/_stcore/health").read()   # b"ok"
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType

REPO_ROOT = Path(__file__).resolve().parents[1]


# Debian's Chromium for browser tests and benchmarks; these flags work on a closed network.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StreamlitServer:
    """``streamlit run app.py --server.headless true --server.port <free port>``.

    ``start()`` returns once ``GET /_stcore/health`` answers ``ok``; the server's
    output goes to a temporary log file (``log_text()``) so a failing test can show it.

    Args:
        app: the script to serve, relative to the repository root.
        port: the port; a free one when None.
        env: extra environment variables (e.g. ``METALEARN_TORCH_THREADS``).
        startup_timeout: seconds to wait for the health check.
    """

    def __init__(
        self,
        app: str = "app.py",
        port: int | None = None,
        env: dict[str, str] | None = None,
        startup_timeout: float = 60.0,
    ):
        self.app = app
        self.port = port if port is not None else free_port()
        self.env = env or {}
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="streamlit-", suffix=".log", delete=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def health(self) -> str | None:
        """The body of ``GET /_stcore/health``, or None while nothing answers."""
        try:
            with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                return response.read().decode()
        except OSError:
            return None

    def start(self) -> StreamlitServer:
        command = [
            sys.executable, "-m", "streamlit", "run", self.app,
            "--server.headless", "true",
            "--server.port", str(self.port),
            "--server.address", "127.0.0.1",
        ]  # fmt: skip
        # as deploy/start_processes.sh runs the app (two malloc arenas)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "MALLOC_ARENA_MAX": "2", **self.env}
        self.process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=self._log, stderr=subprocess.STDOUT, env=env
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited with {self.process.returncode}:\n{self.log_text()}"
                )
            if self.health() == "ok":
                return self
            time.sleep(0.25)
        self.stop()
        raise TimeoutError(
            f"streamlit did not answer /_stcore/health within {self.startup_timeout} s:\n"
            f"{self.log_text()}"
        )

    def rss_mb(self) -> float:
        """The server process's resident memory in MiB (Linux ``/proc``)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0]) / 1024

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far (Linux ``/proc``)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_text(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def __enter__(self) -> StreamlitServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
