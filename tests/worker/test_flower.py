"""Flower as run by compose: /metrics needs the basic-auth credentials (given in the environment), and
credentials on the command line are refused."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port

pytest.importorskip("flower")
REPO = Path(__file__).resolve().parents[2]


def get(url: str, auth: str | None = None) -> int:
    req = urllib.request.Request(url)
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_metrics_need_the_credentials_and_the_command_line_carries_none(redis_url, tmp_path):
    port = free_port()
    env = {**os.environ, "TOMECAST_BROKER_URL": redis_url, "TOMECAST_DATA": str(tmp_path),
           "FLOWER_BASIC_AUTH": "admin:p@ss:w/rd", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "worker.flower", f"--port={port}", "--address=127.0.0.1"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if get(f"{base}/healthcheck") == 200:
                    break
            except OSError:
                time.sleep(0.2)
        assert get(f"{base}/metrics") == 401
        assert get(f"{base}/metrics", "admin:wrong") == 401
        assert get(f"{base}/metrics", "admin:p@ss:w/rd") == 200
        assert get(f"{base}/", "admin:p@ss:w/rd") == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    r = subprocess.run([sys.executable, "-m", "worker.flower", "--basic-auth=a:b"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "FLOWER_BASIC_AUTH" in r.stderr
