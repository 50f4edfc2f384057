"""Leases: a running step says it is alive by touching a file in its job folder, so a dead worker is seen in
seconds (its lease goes stale) instead of after the broker's visibility timeout.

    DATA/jobs/<job id>/leases/<step>.<host>.<pid>.json   {"step": Step.to_dict(), "host", "pid", "started"}

The file's mtime is the heartbeat, refreshed every ``interval`` seconds by a daemon thread while the step runs and
removed when it ends; a lease not touched for ``stale_s`` is a dead worker's. A lease that cannot be written (a
full disk) is logged and the step runs on: liveness reporting never fails a task.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from pathlib import Path

from pipeline.schedule import Step
from pipeline.store import Store, now_iso

__all__ = ["Lease", "drop_stale", "live_steps"]

log = logging.getLogger(__name__)


class Lease:
    """``with Lease(store, job_id, step, interval):`` marks ``step`` as running until the block ends."""

    def __init__(self, store: Store, job_id: str, step: Step, interval: float):
        self.path = store.job_dir(job_id) / "leases" / f"{step.name}.{socket.gethostname()}.{os.getpid()}.json"
        self.step = step
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Lease:
        try:
            self.path.parent.mkdir(exist_ok=True)   # never re-creates a removed job folder
            self.path.write_text(json.dumps({"step": self.step.to_dict(), "host": socket.gethostname(),
                                             "pid": os.getpid(), "started": now_iso()}))
        except OSError as exc:
            log.warning("cannot write lease %s (%s); the watchdog may run this step again", self.path, exc)
            return self
        self._thread = threading.Thread(target=self._beat, name="tomecast-lease", daemon=True)
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            with contextlib.suppress(OSError):
                os.utime(self.path)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with contextlib.suppress(OSError):
            self.path.unlink()


def live_steps(store: Store, job_id: str, stale_s: float, *, now: float | None = None) -> list[Step]:
    """The steps of ``job_id`` whose lease was touched in the last ``stale_s`` seconds."""
    now = time.time() if now is None else now
    out = []
    for path in _lease_files(store, job_id):
        try:
            if now - path.stat().st_mtime > stale_s:
                continue
            out.append(Step.from_dict(json.loads(path.read_text())["step"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue   # ended (removed) or half-written while we looked
    return out


def drop_stale(store: Store, job_id: str, stale_s: float) -> int:
    """Remove the leases of dead tasks (not touched for ``stale_s``); returns how many."""
    n = 0
    for path in _lease_files(store, job_id):
        with contextlib.suppress(OSError):
            if time.time() - path.stat().st_mtime > stale_s:
                path.unlink()
                n += 1
    return n


def _lease_files(store: Store, job_id: str) -> list[Path]:
    folder = store.job_dir(job_id) / "leases"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []
