"""The broker from outside Celery: passwords masked whatever their characters, a clear line when Redis is away,
the persistence warning, and the tomecast steps a real Redis holds (queued or freshly reserved)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.schedule import Step, StepKind
from tests.conftest import free_port
from worker.broker import BrokerError, check_reachable, persistence_warning, queued_steps, safe_url

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("password", ["s3cret", "p@ss/word", "a:b@c/d?e#f", "@@//::", "%40x", "pässwörd"])
def test_masking_hides_every_character_of_the_password(password):
    url = f"redis://user:{password}@host.example:6379/0"
    masked = safe_url(url)
    assert masked == "redis://user:***@host.example:6379/0"
    assert safe_url(f"redis://:{password}@redis:6379/0") == "redis://:***@redis:6379/0"
    assert safe_url(f"redis://redis:6379/0?password={password}") == "redis://redis:6379/0?password=***"
    assert safe_url("redis://localhost:6379/0") == "redis://localhost:6379/0"


def test_an_unreachable_broker_is_one_line_naming_the_masked_url():
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    with pytest.raises(BrokerError) as err:
        check_reachable(url, timeout=1)
    assert "hunter2" not in str(err.value) and "redis://:***@127.0.0.1" in str(err.value)
    assert "\n" not in str(err.value)


def test_a_worker_without_a_broker_says_so_and_exits_at_once(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "TOMECAST_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0",
           "TOMECAST_DATA": str(tmp_path), "PYTHONPATH": str(REPO)}
    start = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "worker", "--queues", "cpu"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "cannot reach the broker" in r.stderr and time.monotonic() - start < 30
    assert len(r.stderr.strip().splitlines()) == 1


def test_a_broker_without_persistence_is_warned_about(redis_url):
    warning = persistence_warning(redis_url)   # the test Redis runs with appendonly no and no snapshots
    assert warning and "keeps nothing on disk" in warning and "scripts/redis.sh" in warning


def test_queued_and_reserved_steps_are_read_back_from_redis(redis_url):
    import redis

    redis_url = redis_url.rsplit("/", 1)[0] + "/5"   # a database of its own: flushed here

    from worker.app import app, use_settings
    from worker.settings import Settings
    from worker.tasks import synthesize

    use_settings(Settings(broker_url=redis_url))
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    synthesize.apply_async(("job-a", 2, [4, 5]), {"book": "B"}, priority=3)
    app.send_task("tomecast.stitch_chapter", ("job-b", 1), queue="cpu")
    app.send_task("tomecast.check_chunks", ("job-c", 0, [1, 2]), queue="qa")
    held = queued_steps(redis_url, ("gpu", "cpu", "qa"), 60, time.time())
    assert held["job-a"] == [Step(StepKind.SYNTHESIZE, 2, (4, 5))]
    assert held["job-b"] == [Step(StepKind.STITCH, 1)]
    assert held["job-c"] == [Step(StepKind.CHECK, 0, (1, 2))]
    # a reservation older than the grace is a dead worker's unless its lease says otherwise: not counted
    raw = client.rpop("cpu")
    client.hset("unacked", "tag1", f"[{raw.decode()}, \"cpu\", \"cpu\"]")
    client.zadd("unacked_index", {"tag1": time.time() - 120})
    assert "job-b" not in queued_steps(redis_url, ("gpu", "cpu"), 60, time.time())
    assert queued_steps(redis_url, ("gpu", "cpu"), 600, time.time())["job-b"] == [Step(StepKind.STITCH, 1)]
    client.flushdb()


def test_the_redis_script_starts_a_persistent_password_protected_redis(tmp_path):
    import shutil

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    env = {"PATH": "/usr/bin:/bin", "REDIS_PORT": str(free_port()), "HOME": str(tmp_path)}
    script = REPO / "scripts" / "redis.sh"
    r = subprocess.run(["bash", str(script), str(tmp_path / "redis")], env=env, capture_output=True, text=True,
                       timeout=60)
    try:
        assert r.returncode == 0, r.stderr
        url = r.stdout.strip().removeprefix("export TOMECAST_BROKER_URL=")
        password = (tmp_path / "redis" / "password").read_text()
        assert len(password) == 32 and f":{password}@" in url
        assert (tmp_path / "redis" / "password").stat().st_mode & 0o077 == 0
        check_reachable(url)
        assert persistence_warning(url) is None                        # appendonly yes
        with pytest.raises(BrokerError):
            check_reachable(url.replace(password, "wrong"), timeout=2)   # the password is required
    finally:
        subprocess.run(["bash", str(script), "--stop", str(tmp_path / "redis")], env=env, capture_output=True,
                       timeout=60)
