"""Two app processes behind nginx (deploy/nginx/metalearn.conf) on loopback ports.

Checks that both processes serve students, that each student's session stays on its
process (the proxy's route cookie), and that a student's run survives a page reload:
the reload carries the route cookie (same process) and the URL's run token (the run,
kept by the process for a while after the old tab's websocket closed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from studio_ui.serving import REPO_ROOT, StreamlitServer, free_port
from studio_ui.student_client import wait_until

from .conftest import PRESS_SECONDS, open_train_page, step

pytestmark = pytest.mark.server
NGINX = shutil.which("nginx") or next(
    (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(path)), None
)
SITE_CONFIG = REPO_ROOT / "deploy" / "nginx" / "metalearn.conf"
STUDENTS = 6


def nginx_config(folder: Path, listen: int, app_ports: list[int]) -> Path:
    """A self-contained nginx.conf around the shipped site file, on loopback ports."""
    site = SITE_CONFIG.read_text()
    assert "listen 80;" in site and "server 127.0.0.1:8501;" in site
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    site = site.replace("    server 127.0.0.1:8501;\n    server 127.0.0.1:8502;\n", "".join(
        f"    server 127.0.0.1:{port};\n" for port in app_ports))  # fmt: skip
    (folder / "site.conf").write_text(site)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers may then use the temp dirs
    temp = "\n".join(
        f"    {kind}_temp_path {folder}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )  # fmt: skip
    main = folder / "nginx.conf"
    main.write_text(
        f"{user}worker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n    access_log {folder}/access.log;\n{temp}\n"
        f"    include {folder}/site.conf;\n}}\n"
    )
    return main


def active_sessions(server: StreamlitServer) -> int:
    """Connected sessions of one app process (Streamlit's metrics endpoint)."""
    url = f"{server.url}/_stcore/metrics?families=active_sessions"
    with urllib.request.urlopen(url, timeout=5) as response:
        lines = response.read().decode().splitlines()
    return int(next(line for line in lines if line.startswith("active_sessions ")).split()[1])


@pytest.fixture(scope="module")
def class_behind_a_proxy(tmp_path_factory):
    if NGINX is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    folder = tmp_path_factory.mktemp("nginx")
    servers = [StreamlitServer(env={"METALEARN_ORPHAN_SECONDS": "20"}) for _ in range(2)]
    try:
        for server in servers:
            server.start()
        listen = free_port()
        config = nginx_config(folder, listen, [server.port for server in servers])
        nginx = subprocess.Popen(
            [NGINX, "-p", str(folder), "-c", str(config), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        try:
            up = wait_until(lambda: _health(listen) == "ok", 20.0, 0.2)
            assert up, (folder / "error.log").read_text() if (folder / "error.log").exists() else ""
            yield f"127.0.0.1:{listen}", servers
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
    finally:
        for server in servers:
            server.stop()


def _health(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.read().decode()
    except OSError:
        return None


def _which_process(servers, before: list[int]) -> int:
    """The index of the process whose connected sessions went up by one."""
    after = [active_sessions(server) for server in servers]
    grown = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if b == a + 1]
    assert len(grown) == 1, f"sessions per process went from {before} to {after}"
    return grown[0]


def reload_after_a_step(address: str, servers, student, home: int):
    """Step, close the tab, open it again with its URL and cookies: the same process and
    the same run (its episode count) come back. Returns the reloaded student."""
    episodes = step(student)
    open_at_home = active_sessions(servers[home])
    student.close()
    assert wait_until(lambda: active_sessions(servers[home]) == open_at_home - 1, PRESS_SECONDS)
    before = [active_sessions(server) for server in servers]
    again = open_train_page(address, query_string=student.query_string, cookie=student.cookie)
    assert _which_process(servers, before) == home
    assert again.wait_for(lambda s: s.count("Episodes") == episodes, PRESS_SECONDS), (
        again.count("Episodes"),
        episodes,
    )
    return again


def test_students_spread_over_both_processes_and_keep_theirs_across_a_reload(
    class_behind_a_proxy,
):
    address, servers = class_behind_a_proxy
    students, homes = [], []
    try:
        for _ in range(STUDENTS):
            before = [active_sessions(server) for server in servers]
            student = open_train_page(address)
            assert student.cookie.startswith("metalearn_route="), student.cookie
            homes.append(_which_process(servers, before))
            students.append(student)
        assert set(homes) == {0, 1}, f"all {STUDENTS} students on one process: {homes}"

        # each student trains a little, then reloads: same process, same run
        for index, home in enumerate(homes):
            students[index] = reload_after_a_step(address, servers, students[index], home)
    finally:
        for student in students:
            student.close()
