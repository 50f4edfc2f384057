"""One book across several synthesis workers: throughput with 1 worker and with N, and the scheduling behind it.

    python bench/bench_workers.py --devices cuda:0,cuda:1 --model FULL_DIR --chapters 12 --limit 0   # multi-GPU
    python bench/bench_workers.py --devices cpu,cpu --chapters 3 --limit 6                       # CPU proof (tiny)
    python bench/bench_workers.py --devices cpu,cpu --model espeak --chapters 4 --limit 8

Starts a real ``redis-server`` (free port, temporary folder), one ``tomecast worker --queues gpu --device DEV``
per device given (``cpu,cpu``: two workers sharing the CPU; ``cuda:0,cuda:0``: two sharing one GPU) and one CPU
worker (prepare, stitch, assemble), submits one book and waits for its M4B. The book is ``--book`` cut to its
first ``--chapters`` chapters of at most ``--limit`` chunks each (written as Markdown, one chunk a paragraph).
It runs twice, each in a fresh data folder and an emptied Redis: first with the first device's worker alone, then
with all of them (``--no-single`` skips the first).

``--model``: a checkpoint folder (``scripts/make_random_checkpoint.py DIR --preset full`` on GPUs), ``espeak``,
or nothing for a fresh tiny random checkpoint. Random weights never sample the stop token, and the bench sets
``TOMECAST_TOKENS_PER_CHAR=1.5``, so each chunk runs to ``50 + 1.5 x characters`` tokens: its length comes from
its text, as in ``bench_book.py``. (``bench_book`` also sets ``T3Params(stop_at_eos=False)`` on the model; a
worker has no setting for that, so here the guarantee rests on random weights not stopping.) QA is signal-only
without repairs (``TOMECAST_QA_ASR=0``, ``TOMECAST_QA_REPAIR=0``) so synthesis calls equal chunks.

Figures come from Celery's task events (workers run with ``-E``; ``task-sent`` is on) and from the job's
manifest: audio seconds per wall second (wall: submit to M4B; also the synthesis span, first synthesize start to
last synthesize end), each worker's busy share of the synthesis span and chunks made, the queue wait of synthesize
tasks (sent to started), duplicates (chunks synthesized more than once: the manifest's attempts beyond one, and
events' ``synthesized`` beyond the plan; a killed worker's last events never come, so there it reads low), each
chapter's stitch start against the end of its own chunks and of the whole synthesis (a stitch is queued from
inside the chapter's last synthesize task, so it may start a moment before that task's ``succeeded`` event: a
small negative ``after_own_chunks_s``), how many stitches began while synthesize tasks were still to start, and
whether the M4B is complete (ffprobe: chapter count, duration = sum of chapters). On a machine shared with other
work, read ``loadavg_1m_at_end`` beside the figures.
``--kill-one-after S`` SIGKILLs the second worker S seconds after submit in the N-worker run and reports the
chunks it had in flight and the chunks made again (the target: no more than its in-flight task).

One JSON line per run, then a summary line (``speedup``, ``efficiency`` = speedup / N); all appended to ``--out``.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.procs import start_redis  # noqa: E402

DEFAULT_BOOK = REPO.parent / "shared" / "corpus" / "adventures-of-sherlock-holmes.epub"


# ---- the book ---------------------------------------------------------------------------------------------------

def cut_book(src: Path, chapters: int, limit: int, out: Path) -> tuple[int, int]:
    """Write the first ``chapters`` chapters of ``src`` (at most ``limit`` chunks each; 0: all) as Markdown, one
    chunk a paragraph. Returns (chapters, chunks) written."""
    from text_prep import PrepareOptions, prepare

    book = prepare(str(src), PrepareOptions(speak_title=False, speak_chapter_titles=False))
    title = (book.title or src.stem).replace('"', "'")
    lines = ["---", f'title: "{title}"', f'author: "{book.author or ""}"', "---", ""]
    n = 0
    for ch in book.chapters[:chapters]:
        chunks = [c for c in ch.chunks if c.text.strip()]
        chunks = chunks[:limit] if limit else chunks
        if not chunks:
            continue
        lines += [f"# {ch.title}", ""]
        for c in chunks:
            lines += [c.text.strip().replace("\n", " "), ""]
        n += len(chunks)
    out.write_text("\n".join(lines), "utf-8")
    return min(chapters, len(book.chapters)), n


# ---- processes --------------------------------------------------------------------------------------------------

class Worker:
    """A ``tomecast worker`` subprocess in its own process group (SIGKILL takes its pool child too)."""

    def __init__(self, env: dict, queues: str, device: str, name: str, log: Path):
        self.name = f"{name}@bench"
        self.log = log
        cmd = [sys.executable, "-m", "worker", "--queues", queues, "--device", device, "--name", self.name,
               "--concurrency", "1", "--loglevel", "info"]
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()


class Events:
    """Celery task events of the broker, collected in a thread: uuid -> {name, hostname, sent, started, ...}."""

    def __init__(self, broker: str):
        from celery import Celery

        self.tasks: dict[str, dict] = {}
        self.online: set[str] = set()
        self._lock = threading.Lock()
        self._app = Celery(broker=broker)
        self._ready = threading.Event()
        self._recv = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            sys.exit("bench_workers: could not listen to task events")

    def _run(self) -> None:
        with self._app.connection() as conn:
            self._recv = self._app.events.Receiver(conn, handlers={"*": self._on})
            self._ready.set()
            self._recv.capture(limit=None, timeout=None, wakeup=False)

    def _on(self, ev: dict) -> None:
        kind = ev.get("type", "")
        with self._lock:
            if kind == "worker-online":
                self.online.add(ev["hostname"])
            if not kind.startswith("task-"):
                return
            t = self.tasks.setdefault(ev["uuid"], {})
            what = kind[5:]
            t[what] = ev["timestamp"]
            if what == "sent":
                t["name"] = ev.get("name")
                t["args"] = ev.get("args")
            if what == "received":
                t.setdefault("name", ev.get("name"))
                t.setdefault("args", ev.get("args"))
            if what in ("started", "received"):
                t["hostname"] = ev["hostname"]
            if what == "succeeded":
                t["runtime"] = ev.get("runtime")
                t["result"] = ev.get("result")

    def snapshot(self) -> dict[str, dict]:
        with self._lock:
            return {k: dict(v) for k, v in self.tasks.items()}

    def close(self) -> None:
        if self._recv is not None:
            self._recv.should_stop = True
        self._thread.join(timeout=5)


# ---- one run ----------------------------------------------------------------------------------------------------

def worker_env(args, data: Path, broker: str, model: str) -> dict:
    env = dict(os.environ)
    env.update({
        "TOMECAST_DATA": str(data), "TOMECAST_BROKER_URL": broker, "TOMECAST_MODEL": model,
        "TOMECAST_WATERMARK": "0", "TOMECAST_SEED": "7", "TOMECAST_QA_ASR": "0", "TOMECAST_QA_REPAIR": "0",
        "TOMECAST_TOKENS_PER_CHAR": "1.5", "TOMECAST_MAX_NEW_TOKENS": str(args.max_new_tokens),
        "TOMECAST_N_FLOW_STEPS": str(args.flow_steps), "TOMECAST_HEARTBEAT": str(args.heartbeat),
        "TOMECAST_VISIBILITY_TIMEOUT": str(args.visibility_timeout), "TOMECAST_FORMAT": "flac",
        "PYTHONPATH": str(REPO),
    })
    if args.batch_size:
        env["TOMECAST_BATCH_SIZE"] = str(args.batch_size)
    if args.chunks_per_task:
        env["TOMECAST_CHUNKS_PER_TASK"] = str(args.chunks_per_task)
    if args.threads:
        env["TOMECAST_THREADS"] = env["OMP_NUM_THREADS"] = str(args.threads)
    if model == "espeak":
        env["TOMECAST_ENGINE"] = "espeak"
    return env


def _result(t: dict) -> dict:
    try:
        r = ast.literal_eval(t.get("result") or "{}")
        return r if isinstance(r, dict) else {}
    except (ValueError, SyntaxError):
        return {}


def run_book(args, broker: str, book: Path, model: str, voice: Path | None, devices: list[str], work: Path,
             kill_after: float | None) -> dict:
    import redis

    from pipeline import steps
    from pipeline.stitch import probe
    from pipeline.store import Store

    redis.Redis.from_url(broker).flushall()
    data = work / "data"
    data.mkdir(parents=True)
    env = worker_env(args, data, broker, model)
    events = Events(broker)
    cpu = Worker(env, "cpu", "cpu", "cpu", work / "cpu.log")
    gpus = [Worker(env, "gpu", d, f"gpu{i}-{d.replace(':', '')}", work / f"gpu{i}.log") for i, d in enumerate(devices)]
    everyone = [cpu, *gpus]
    try:
        deadline = time.monotonic() + 120
        while len(events.online) < len(everyone) and time.monotonic() < deadline:
            if any(w.proc.poll() is not None for w in everyone):
                break
            time.sleep(0.1)
        cmd = [sys.executable, "-m", "worker.cli", "submit", str(book)] + (["--voice", str(voice)] if voice else [])
        t0 = time.time()
        r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        if r.returncode:
            raise SystemExit(f"bench_workers: submit failed: {r.stderr.strip()}")
        job = r.stdout.strip().splitlines()[-1]
        store = Store(data)
        killed, in_flight = None, []
        deadline = time.monotonic() + args.timeout
        while store.state(job).state not in ("done", "failed", "cancelled"):
            if time.monotonic() > deadline:
                raise SystemExit(f"bench_workers: job {job} still {store.state(job).state} after {args.timeout} s "
                                 f"(logs in {work})")
            if kill_after is not None and killed is None and time.time() - t0 >= kill_after and len(gpus) > 1:
                victim = gpus[1]
                snap = events.snapshot()
                victim.kill()
                killed = victim.name
                in_flight = [t["args"] for t in snap.values() if t.get("hostname") == victim.name
                             and t.get("name") == "tomecast.synthesize" and "started" in t
                             and not ({"succeeded", "failed"} & t.keys())]
            time.sleep(0.1)
        t_end = time.time()
        time.sleep(1.0)   # the last events
        tasks = events.snapshot()
    finally:
        for w in everyone:
            w.stop()
        events.close()

    state = store.state(job)
    manifest = store.manifest(job)
    plan = steps.load_plan(store, job)
    planned = sum(len(ch.chunks) for ch in plan.chapters)
    synth = [t for t in tasks.values() if t.get("name") == "tomecast.synthesize" and "started" in t]
    done_synth = [t for t in synth if "succeeded" in t]
    span0 = min(t["started"] for t in synth)
    span1 = max(t["succeeded"] for t in done_synth)
    span = span1 - span0
    last_start = max(t["started"] for t in synth)
    workers = {}
    for w in gpus:
        mine = [t for t in done_synth if t.get("hostname") == w.name]
        busy = sum(t.get("runtime") or 0.0 for t in mine)
        workers[w.name] = {"tasks": len(mine), "chunks": sum(_result(t).get("synthesized", 0) for t in mine),
                           "audio_s": round(sum(_result(t).get("audio_s", 0.0) for t in mine), 2),
                           "busy_s": round(busy, 2), "busy_share": round(busy / span, 3) if span else None}
    waits = sorted(t["started"] - t["sent"] for t in synth if "sent" in t)
    made_by_events = sum(_result(t).get("synthesized", 0) for t in done_synth)
    extra_attempts = sum(max(0, c.attempts - 1) for c in manifest.chunks)

    # chapters stitched as soon as their chunks exist
    chapters = []
    for t in tasks.values():
        if t.get("name") != "tomecast.stitch_chapter" or "started" not in t:
            continue
        ch = int(t["args"].strip("()[] ").split(",")[1]) if t.get("args") else None
        ends = [s["succeeded"] for s in done_synth if s.get("args") and
                int(s["args"].strip("()[] ").split(",")[1]) == ch]
        chapters.append({"chapter": ch, "stitch_start_s": round(t["started"] - t0, 2),
                         "after_own_chunks_s": round(t["started"] - max(ends), 2) if ends else None,
                         "before_synthesis_end_s": round(span1 - t["started"], 2)})
    chapters.sort(key=lambda c: (c["chapter"], c["stitch_start_s"]))

    audio = sum(c.duration or 0.0 for c in manifest.chunks)
    wall = t_end - t0
    m4b = {"complete": False}
    if state.output and Path(state.output).is_file():
        info = probe(Path(state.output))
        dur = float(info["format"]["duration"])
        total = sum(c.duration or 0.0 for c in manifest.chapters)
        m4b.update(duration_s=round(dur, 2), chapters_sum_s=round(total, 2), chapters=len(info["chapters"]),
                   planned_chapters=len(plan.chapters),
                   complete=len(info["chapters"]) == len(plan.chapters) and abs(dur - total) < 0.5)
    out = {"bench": "workers", "tag": args.tag, "workers": len(gpus), "devices": devices, "model": args.model_label,
           "loadavg_1m_at_end": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(), "job_state": str(state.state),
           "chapters": len(plan.chapters), "chunks": planned,
           "audio_s": round(audio, 2), "wall_s": round(wall, 2), "synthesis_span_s": round(span, 2),
           "audio_s_per_wall_s": round(audio / wall, 3), "audio_s_per_synthesis_s": round(audio / span, 3),
           "per_worker": workers,
           "queue_wait_s": {"synthesize_tasks": len(waits), "median": round(waits[len(waits) // 2], 2) if waits
                            else None, "max": round(waits[-1], 2) if waits else None},
           "synthesized_by_events": made_by_events, "duplicates": {"extra_attempts": extra_attempts,
                                                                    "beyond_plan": made_by_events - planned,
                                                                    "job_duplicates": state.duplicates or 0},
           "stitches": chapters,
           # stitches that began while synthesis of other chapters was still to start (the last chapter's stitch
           # always follows its own last chunk, so it is never counted)
           "stitched_while_synthesizing": sum(1 for c in chapters if c["stitch_start_s"] < last_start - t0),
           "m4b": m4b}
    if kill_after is not None:
        out["killed"] = {"worker": killed, "after_s": kill_after, "in_flight_tasks": in_flight,
                         "in_flight_chunks": sum(len(ast.literal_eval(a)[2]) for a in in_flight),
                         "chunks_redone": extra_attempts}
    return out


# ---- main -------------------------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--book", type=Path, default=DEFAULT_BOOK)
    ap.add_argument("--chapters", type=int, default=3, help="first N chapters")
    ap.add_argument("--limit", type=int, default=6, help="at most N chunks per chapter (0: all)")
    ap.add_argument("--model", default=None, help="checkpoint folder, or espeak (default: a fresh tiny checkpoint)")
    ap.add_argument("--voice", type=Path, default=None, help="clip or .voice (default: the model's built-in)")
    ap.add_argument("--devices", default="cpu,cpu", help="one synthesis worker per entry")
    ap.add_argument("--no-single", action="store_true", help="skip the 1-worker run")
    ap.add_argument("--kill-one-after", type=float, default=None, metavar="S")
    ap.add_argument("--max-new-tokens", type=int, default=1000)
    ap.add_argument("--flow-steps", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=0, help="0: the worker's auto choice")
    ap.add_argument("--chunks-per-task", type=int, default=0, help="0: the worker's auto choice")
    ap.add_argument("--threads", type=int, default=0, help="torch threads per worker (CPU; 0: torch's choice)")
    ap.add_argument("--heartbeat", type=float, default=15)
    ap.add_argument("--visibility-timeout", type=int, default=1800)
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run before giving up")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--tag", default="")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, data)")
    args = ap.parse_args()
    devices = [d.strip() for d in args.devices.split(",") if d.strip()]
    if not devices:
        sys.exit("bench_workers: --devices names no device")
    if not args.book.is_file():
        sys.exit(f"bench_workers: book not found: {args.book}")

    tmp = Path(tempfile.mkdtemp(prefix="tomecast-workers-"))
    model = args.model
    if model is None:
        from model.testing import write_random_checkpoint

        model = str(write_random_checkpoint(tmp / "tiny", "tiny"))
        args.model_label = "tiny-random"
    else:
        args.model_label = model if model == "espeak" else f"{Path(model).name} (random)"
    book = tmp / "book.md"
    n_ch, _ = cut_book(args.book, args.chapters, args.limit, book)

    def emit(row: dict) -> None:
        print(json.dumps(row), flush=True)
        if args.out:
            with open(args.out, "a") as f:
                f.write(json.dumps(row) + "\n")

    redis_proc, broker = start_redis(tmp, "bench_workers")
    try:
        rows = []
        plans = ([devices[:1]] if not args.no_single and len(devices) > 1 else []) + [devices]
        for i, devs in enumerate(plans):
            kill = args.kill_one_after if devs is devices else None
            row = run_book(args, broker, book, model, args.voice, devs, tmp / f"run{i}-{len(devs)}w", kill)
            rows.append(row)
            emit(row)
        if len(rows) == 2:
            one, many = rows
            speedup = many["audio_s_per_wall_s"] / one["audio_s_per_wall_s"]
            span_speedup = many["audio_s_per_synthesis_s"] / one["audio_s_per_synthesis_s"]
            emit({"bench": "workers", "tag": args.tag, "figure": "scaling", "workers": len(devices),
                  "devices": devices, "model": args.model_label, "book": args.book.name, "chapters": n_ch,
                  "chunks": one["chunks"], "speedup": round(speedup, 3), "efficiency": round(speedup / len(devices), 3),
                  "synthesis_speedup": round(span_speedup, 3),
                  "synthesis_efficiency": round(span_speedup / len(devices), 3),
                  "target_efficiency": 0.9, "no_duplicates": all(
                      r["duplicates"]["extra_attempts"] == 0 for r in rows if "killed" not in r),
                  "m4b_complete": all(r["m4b"]["complete"] for r in rows)})
    finally:
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        if args.keep:
            print(f"bench_workers: kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
