"""Start a Celery worker process on tomecast's queues (``tomecast worker`` and ``python -m worker``).

The queues are ``gpu`` (synthesis), ``cpu`` (prepare, stitch, assemble) and the QA queue named by
``TOMECAST_QA_QUEUE`` (the check tasks of jobs submitted with it: no speech engine, Whisper on the CPU).
GPU queues get one process (one model per device; the model loads in that process on its first task, after the
pool forked); a worker without the gpu queue defaults to two. Before starting, the broker must answer (else one
line and exit 2), and a broker that keeps nothing on disk is warned about. Once ready, the main process runs the
watchdog (``worker.watchdog``).
"""

from __future__ import annotations

import logging
import socket
import sys

from worker.errors import SettingsError
from worker.settings import Settings

__all__ = ["QUEUES", "run_worker"]

log = logging.getLogger(__name__)

QUEUES = ("gpu", "cpu")


def run_worker(settings: Settings, queues: list[str], *, concurrency: int | None = None, name: str | None = None,
               loglevel: str = "info") -> int:
    known = (*QUEUES, *([settings.qa_queue] if settings.qa_queue else []))
    bad = [q for q in queues if q not in known]
    if bad or not queues:
        hint = "" if settings.qa_queue else " (a QA queue is named by TOMECAST_QA_QUEUE or --qa-queue)"
        raise SettingsError(f"queues {','.join(queues)!r}: each must be one of {', '.join(known)}{hint}")
    if concurrency is None:
        concurrency = 1 if "gpu" in queues else 2
    if concurrency < 1:
        raise SettingsError(f"concurrency {concurrency} must be at least 1")
    if "gpu" in queues and concurrency != 1:
        log.warning("%d processes on the gpu queue load %d models on %s", concurrency, concurrency, settings.device)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    from celery import signals

    from worker import watchdog
    from worker.app import app, use_settings
    from worker.broker import check_reachable, persistence_warning

    check_reachable(settings.broker_url)
    warning = persistence_warning(settings.broker_url)
    if warning:
        log.warning("%s", warning)
        print(f"tomecast: warning: {warning}", file=sys.stderr)
    use_settings(settings)
    signals.worker_ready.connect(lambda **_: watchdog.start(settings), weak=False)
    device = settings.device.replace(":", "")
    node = name or f"{'-'.join(queues)}-{device}@{socket.gethostname()}"
    argv = ["worker", "-Q", ",".join(queues), "-c", str(concurrency), "-n", node, "-l", loglevel,
            "--pool", "prefork", "-E", "--without-gossip", "--without-mingle"]
    log.info("worker %s: queues %s, device %s, data %s", node, queues, settings.device, settings.data_dir)
    app.worker_main(argv)
    return 0
