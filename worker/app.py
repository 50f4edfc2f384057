"""The Celery application: Redis broker, two queues (``gpu`` for synthesis, ``cpu`` for the rest) and, for jobs
submitted with one (``TOMECAST_QA_QUEUE``), a QA queue for their ``check_chunks`` tasks; and the delivery
guarantees long synthesis tasks need (late acks, requeue when a worker dies, one task prefetched).

A check task goes to the queue its job records (``JobSpec.qa_queue``, given at dispatch); the route below is only
the default for a task sent without one.

Settings come from ``worker.settings.Settings.from_env()`` at import; ``use_settings`` applies CLI overrides
before a worker starts or a job is queued. Importing this module does not import torch.
"""

from __future__ import annotations

from celery import Celery

from worker.settings import Settings

__all__ = ["CPU_QUEUE", "GPU_QUEUE", "QA_QUEUE", "app", "celery_priority", "current_settings", "use_settings"]

GPU_QUEUE = "gpu"
CPU_QUEUE = "cpu"
QA_QUEUE = "qa"      # the documented name of a QA queue (TOMECAST_QA_QUEUE=qa)

_settings: Settings | None = None


def celery_priority(user_priority: int) -> int:
    """tomecast priorities run 9 first; Redis-backed Celery serves 0 first."""
    return 9 - int(user_priority)


def _config(s: Settings) -> dict:
    transport = {
        "visibility_timeout": s.visibility_timeout,     # longer than any task, or it runs twice
        "queue_order_strategy": "priority",
        "priority_steps": list(range(10)),
        "sep": ":",
        # look for tasks of dead workers (unacknowledged past the visibility timeout) when a worker starts and
        # then every minute
        "unacked_restore_interval": 60,
        "unacked_restore_throttle": 1,
    }
    return {
        "broker_url": s.broker_url,
        "result_backend": s.backend_url,
        "broker_transport_options": transport,
        "result_backend_transport_options": {"visibility_timeout": s.visibility_timeout},
        # a progress report to an unreachable backend gives up in seconds (and is dropped: worker.tasks._report)
        "redis_socket_connect_timeout": 10,
        "redis_socket_timeout": 60,
        "broker_connection_retry_on_startup": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_track_started": True,
        "task_send_sent_event": True,
        "worker_send_task_events": True,
        "result_extended": True,
        "result_expires": 7 * 24 * 3600,
        "task_default_queue": CPU_QUEUE,
        "task_default_priority": celery_priority(5),
        "task_routes": {
            "tomecast.synthesize": {"queue": GPU_QUEUE},
            "tomecast.check_chunks": {"queue": s.qa_queue or QA_QUEUE},
            "tomecast.prepare": {"queue": CPU_QUEUE},
            "tomecast.stitch_chapter": {"queue": CPU_QUEUE},
            "tomecast.assemble_book": {"queue": CPU_QUEUE},
        },
        "worker_hijack_root_logger": False,
        "worker_cancel_long_running_tasks_on_connection_loss": False,
    }


def use_settings(s: Settings) -> Settings:
    """Make ``s`` the settings of this process (the app's broker and the tasks' data folder follow)."""
    global _settings
    changed = app.conf.broker_url != s.broker_url
    _settings = s
    app.conf.update(_config(s))
    if changed:   # connections made for the old broker would keep publishing there
        app._pool = None
        app.amqp._producer_pool = None
    return s


def current_settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


app = Celery("tomecast", include=["worker.tasks"])
app.conf.update(_config(current_settings()))
