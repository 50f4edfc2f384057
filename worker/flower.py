"""Flower for tomecast, with its Prometheus ``/metrics`` behind the same basic auth as every other page (Flower
2.x serves it to anyone) and its credentials from the environment, never the command line (``ps`` shows that):

    FLOWER_BASIC_AUTH=admin:secret python -m worker.flower --port=5555 --address=127.0.0.1

Without ``FLOWER_BASIC_AUTH`` (or another Flower auth), ``/metrics`` answers 403.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def protect_metrics() -> None:
    """``/metrics`` asks for the logged-in user like the other pages (basic auth: 401 without credentials)."""
    import tornado.web
    from flower.views import monitor

    if not getattr(monitor.Metrics.get, "_tomecast_protected", False):
        monitor.Metrics.get = tornado.web.authenticated(monitor.Metrics.get)
        monitor.Metrics.get._tomecast_protected = True


def main(argv: list[str] | None = None) -> int:
    from celery.bin.celery import main as celery_main

    argv = sys.argv[1:] if argv is None else argv
    if any(a.startswith(("--basic-auth", "--basic_auth")) for a in argv):
        print("tomecast: error: give Flower's credentials in FLOWER_BASIC_AUTH=user:password, not on the command "
              "line (every process listing shows it)", file=sys.stderr)
        return 2
    protect_metrics()
    sys.argv = ["celery", "-A", "worker.app", "flower", *argv]
    return celery_main()


if __name__ == "__main__":
    sys.exit(main())
