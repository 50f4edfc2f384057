"""The Redis broker seen from outside Celery: reachability (one clear line, at once), persistence (a Redis that
keeps nothing on disk loses every queued task when it restarts), URLs printed without their password, and the
tomecast tasks it holds (queued, or reserved by a worker and not yet acknowledged) for the watchdog.

Celery's Redis transport (kombu) keeps a queue ``Q`` at priority ``p`` in the list ``Q`` (p = 0) or ``Q:p``, and
every message a worker reserved in the hash ``unacked`` (delivery tag -> [message, exchange, routing key]) with
the time it was reserved in the sorted set ``unacked_index``.
"""

from __future__ import annotations

import base64
import json
import re
from collections import defaultdict

from pipeline.schedule import Step, StepKind
from worker.errors import WorkerError

__all__ = ["BrokerError", "check_reachable", "persistence_warning", "queued_steps", "safe_url"]

TASK_KINDS = {"tomecast.prepare": StepKind.PREPARE, "tomecast.synthesize": StepKind.SYNTHESIZE,
              "tomecast.check_chunks": StepKind.CHECK, "tomecast.stitch_chapter": StepKind.STITCH,
              "tomecast.assemble_book": StepKind.ASSEMBLE}


class BrokerError(WorkerError):
    """The broker cannot be reached or used."""


def safe_url(url: str) -> str:
    """``url`` with its password masked, whatever characters the password has (``@``, ``/``, ``:``...): everything
    between ``//`` and the last ``@`` but the user name, and any ``password=`` query value."""
    url = re.sub(r"(?i)([?&]password=)[^&]*", r"\1***", url)
    start, at = url.find("://"), url.rfind("@")
    if start < 0 or at < start:
        return url
    creds = url[start + 3: at]
    user = creds.split(":", 1)[0] if ":" in creds else ""
    return f"{url[: start + 3]}{user}:***{url[at:]}"


def _client(url: str, timeout: float = 5.0):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def check_reachable(url: str, timeout: float = 5.0) -> None:
    """BrokerError (one line, the URL without its password) unless a PING is answered within ``timeout``."""
    import redis

    try:
        _client(url, timeout).ping()
    except (redis.RedisError, ValueError, OSError) as exc:
        raise BrokerError(f"cannot reach the broker at {safe_url(url)}: {exc}; start Redis (scripts/redis.sh "
                          f"or `docker compose up -d redis`) or set TOMECAST_BROKER_URL") from None


def persistence_warning(url: str) -> str | None:
    """A warning when the Redis at ``url`` keeps nothing on disk (no AOF, no snapshots); None when it does or when
    it will not say (CONFIG disabled)."""
    import redis

    try:
        client = _client(url)
        aof = client.config_get("appendonly").get("appendonly")
        save = client.config_get("save").get("save")
    except (redis.RedisError, OSError):
        return None
    if aof == "yes":
        return None
    if save:
        return (f"the broker at {safe_url(url)} only snapshots (save {save!r}, appendonly no): a crash loses the "
                f"tasks queued since the last snapshot; run Redis with --appendonly yes (scripts/redis.sh)")
    return (f"the broker at {safe_url(url)} keeps nothing on disk (appendonly no, no snapshots): a restart loses "
            f"every queued task until the watchdog dispatches it again; run Redis with --appendonly yes "
            f"(scripts/redis.sh)")


def _step(message: dict) -> tuple[str, Step] | None:
    """(job id, step) of a tomecast task message, or None for anything else."""
    kind = TASK_KINDS.get((message.get("headers") or {}).get("task", ""))
    if kind is None:
        return None
    body = message.get("body", "")
    if (message.get("properties") or {}).get("body_encoding") == "base64":
        body = base64.b64decode(body)
    args = json.loads(body)[0]
    chapter = args[1] if kind in (StepKind.SYNTHESIZE, StepKind.CHECK, StepKind.STITCH) else None
    positions = tuple(args[2]) if kind in (StepKind.SYNTHESIZE, StepKind.CHECK) else ()
    return args[0], Step(kind, chapter, positions)


def queued_steps(url: str, queues: tuple[str, ...], reserved_grace_s: float, now: float) -> dict[str, list[Step]]:
    """Job id -> the steps with a message in the broker: queued, or reserved by a worker less than
    ``reserved_grace_s`` ago (older reservations are live only if their lease says so: a dead worker's stay
    reserved until the visibility timeout)."""
    client = _client(url)
    out: dict[str, list[Step]] = defaultdict(list)
    raw_messages = []
    for q in queues:
        for key in (q, *(f"{q}:{p}" for p in range(1, 10))):
            raw_messages += client.lrange(key, 0, -1)
    reserved = dict(client.zrange("unacked_index", 0, -1, withscores=True))
    for tag, raw in client.hgetall("unacked").items():
        when = reserved.get(tag)
        if when is None or now - when <= reserved_grace_s:
            raw_messages.append(json.dumps(json.loads(raw)[0]))
    for raw in raw_messages:
        try:
            found = _step(json.loads(raw))
        except (ValueError, KeyError, IndexError, TypeError):
            continue
        if found is not None:
            out[found[0]].append(found[1])
    return out
