"""Waiting for things to happen: a condition, a process, a pid file."""

import time
from collections.abc import Callable
from pathlib import Path

import psutil

STOP_TIMEOUT = 20.0
SERVICE_START_TIMEOUT = 30.0


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


def process_alive(pid: int | None) -> bool:
    # A daemon killed here may linger as a zombie until init reaps it: that counts as gone.
    try:
        return pid is not None and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None
