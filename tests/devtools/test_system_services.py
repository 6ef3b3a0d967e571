"""The installed (Debian) servers the launcher starts are stopped by it again; others are left alone."""

import shutil
import subprocess
from pathlib import Path

import pytest

from devtools.launcher.embedded import free_port
from devtools.launcher.polling import process_alive, read_pid, wait_until
from devtools.launcher.probes import redis_answers
from devtools.launcher.services import PIDFILE, start_system_redis, stop_system_redis

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="Debian's redis-server is not installed")


def test_it_stops_the_redis_server_it_started(tmp_path: Path):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    try:
        assert start_system_redis(port=port, data_dir=tmp_path, log_dir=tmp_path)
        assert wait_until(lambda: redis_answers(url), 10)
        pid = read_pid(tmp_path / PIDFILE)
        assert process_alive(pid)

        stop_system_redis(data_dir=tmp_path)

        assert not process_alive(pid) and not redis_answers(url)
    finally:
        pid = read_pid(tmp_path / PIDFILE)
        if process_alive(pid):
            subprocess.run(["kill", str(pid)], check=False)


def test_it_leaves_a_redis_server_it_did_not_start(tmp_path: Path):
    stop_system_redis(data_dir=tmp_path)  # no pidfile of ours: nothing to stop, nothing raised
