"""Process helpers shared by the worker benchmarks and the soak test: a throwaway Redis, /proc readings.

Linux only (/proc). Imported by ``bench/bench_soak.py``, ``bench/bench_workers.py`` and
``tests/worker/test_soak.py``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(folder: Path, who: str) -> tuple[subprocess.Popen, str]:
    """A redis-server without persistence on a free port, data in ``folder``; (process, URL). Exits naming ``who``
    when redis-server is missing or does not answer."""
    import redis

    exe = shutil.which("redis-server")
    if exe is None:
        sys.exit(f"{who}: redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            if client.ping():
                return proc, f"redis://127.0.0.1:{port}/0"
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    sys.exit(f"{who}: redis-server did not start")


def usage(pid: int) -> tuple[float, int]:
    """(VmRSS in MB, open file descriptors) of ``pid``, from /proc."""
    with open(f"/proc/{pid}/status") as f:
        rss_kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return rss_kb / 1024, len(os.listdir(f"/proc/{pid}/fd"))


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (/proc/PID/task/*/children)."""
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            out += [int(c) for c in f.read().split()]
    return out
