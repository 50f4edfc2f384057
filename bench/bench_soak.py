"""A soak: many short chunks, book after book, through ONE worker process; its memory and open files sampled.

    python bench/bench_soak.py                                      # 2,000 chunks in 5 books, tiny model
    python bench/bench_soak.py --chunks 20000 --books 50            # a longer soak
    python bench/bench_soak.py --model espeak                       # espeak-ng instead of a model
    python bench/bench_soak.py --model FULL_DIR --device cuda --max-new-tokens 300 --flow-steps 10

Starts a real ``redis-server`` (free port, temporary folder) and one ``tomecast worker --queues gpu,cpu
--concurrency 1``: a Celery main process and one pool child that runs every task (prepare, synthesize, stitch,
assemble). ``--chunks`` are split over ``--books`` one-chapter Markdown books of distinct short paragraphs (one
chunk each, no two alike in the whole run, so the chunk cache never answers for the engine), submitted one after
the other: each book is submitted when the one before is done. Every ``--interval`` seconds the bench reads, from
``/proc``, the resident memory (VmRSS) and the open file descriptors of the main process and of the pool child, with
the chunks made so far (audio files in the cache); ``--keep`` keeps every sample (``samples.json``) and the log.

Flat means: the books that make the first ``--warmup`` share of the chunks (0.2; at least one book) are warm-up
(the model loads, first imports, allocator high-water marks); from the end of the warm-up to the end of the last book
the idle RSS (sampled once a book is done) and the fd count should not grow (each book's peak RSS, from the stitch
and the QA report plots, varies by tens of MB from book to book). The pool child's pid must not change (a replaced
child would hide a leak). Per book: chunks, seconds, chunks per
second, RSS when done and at its peak, fds when done. The last line is JSON (also appended to ``--out``).

``--model``: ``tiny`` (default: a fresh tiny random checkpoint; on a CPU keep ``--max-new-tokens`` and
``--flow-steps`` small), ``espeak``, or a checkpoint folder. QA is signal-only without repairs, so synthesis calls
equal chunks; each chunk is followed by a ``--pause-ms`` pause only, so stitching and assembling stay short.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.procs import children, start_redis, usage  # noqa: E402

WORDS = ("quiet", "morning", "river", "lantern", "orchard", "letter", "harbour", "garden", "window", "meadow",
         "station", "village", "shadow", "market", "candle", "bridge", "forest", "kettle", "ribbon", "stable")


def write_book(path: Path, title: str, first: int, chunks: int) -> None:
    """A one-chapter Markdown book of ``chunks`` short paragraphs, numbered from ``first`` (no two alike)."""
    lines = ["---", f'title: "{title}"', 'author: "Bench"', "---", "", f"# {title}", ""]
    for n in range(first, first + chunks):
        a, b, c = (WORDS[n // len(WORDS) ** i % len(WORDS)] for i in range(3))
        lap = n // len(WORDS) ** 3   # 8,000 distinct sentences, then numbered
        lines += [f"{a.capitalize()} {b} {c}{f' {lap}' if lap else ''}.", ""]
    path.write_text("\n".join(lines), "utf-8")


def chunk_files(data: Path) -> int:
    """Chunk audio files in the cache so far (cheaper than parsing manifests of thousands of chunks)."""
    return sum(1 for _ in (data / "cache" / "chunks").rglob("*.wav"))


def flatness(samples: list[dict], ends: list[int], warm_books: int) -> dict:
    """Figures of one process: ``samples`` in time order, ``ends[i]`` the index of the first sample after book i was
    done. The warm-up is the first ``warm_books`` books."""
    idle = [samples[i] for i in ends]
    starts = [0, *ends[:-1]]
    peaks = [max(s["rss"] for s in samples[a: b + 1]) for a, b in zip(starts, ends, strict=True)]
    warm, last = idle[warm_books - 1], idle[-1]
    return {"pids": sorted({s["pid"] for s in samples}), "samples": len(samples),
            "rss_mb": {"first": round(samples[0]["rss"], 1), "warm": round(warm["rss"], 1),
                       "last": round(last["rss"], 1), "max": round(max(s["rss"] for s in samples), 1)},
            "rss_growth_mb": round(last["rss"] - warm["rss"], 1),
            "rss_growth_pct": round(100 * (last["rss"] - warm["rss"]) / warm["rss"], 2),
            "idle_rss_mb_per_book": [round(s["rss"], 1) for s in idle],
            "peak_rss_mb_per_book": [round(p, 1) for p in peaks],
            # the last book's peak over the largest after the warm-up before it
            "peak_step_mb": round(peaks[-1] - max(peaks[warm_books:-1]), 1) if len(peaks) > warm_books + 1
            else None,
            "fds": {"first": samples[0]["fds"], "warm": warm["fds"], "last": last["fds"],
                    "max_after_warmup": max(s["fds"] for s in samples[ends[warm_books - 1]:])},
            "fds_per_book": [s["fds"] for s in idle], "fd_growth": last["fds"] - warm["fds"]}


def worker_env(args, data: Path, broker: str, model: str) -> dict:
    env = dict(os.environ)
    env.update({
        "TOMECAST_DATA": str(data), "TOMECAST_BROKER_URL": broker, "TOMECAST_MODEL": model,
        "TOMECAST_DEVICE": args.device, "TOMECAST_WATERMARK": "0", "TOMECAST_SEED": "7", "TOMECAST_QA_ASR": "0",
        "TOMECAST_QA_REPAIR": "0", "TOMECAST_MAX_NEW_TOKENS": str(args.max_new_tokens),
        "TOMECAST_N_FLOW_STEPS": str(args.flow_steps), "TOMECAST_BATCH_SIZE": str(args.batch_size),
        "TOMECAST_CHUNKS_PER_TASK": str(args.chunks_per_task), "TOMECAST_PAUSES": f"paragraph={args.pause_ms}",
        "PYTHONPATH": str(REPO),
    })
    if args.threads:
        env["TOMECAST_THREADS"] = env["OMP_NUM_THREADS"] = str(args.threads)
    if model == "espeak":
        env["TOMECAST_ENGINE"] = "espeak"
    return env


class Sampler:
    """RSS and fds of the worker's main process and its one pool child, with the chunks made so far."""

    def __init__(self, worker: subprocess.Popen, data: Path):
        self.worker, self.data, self.t0 = worker, data, time.monotonic()
        self.main: list[dict] = []
        self.child: list[dict] = []

    def sample(self) -> None:
        kids = children(self.worker.pid)
        if len(kids) != 1:   # the pool is still starting (or being replaced: seen as a new pid later)
            return
        t, done = round(time.monotonic() - self.t0, 1), chunk_files(self.data)
        for pid, into in ((self.worker.pid, self.main), (kids[0], self.child)):
            rss, fds = usage(pid)
            into.append({"t": t, "pid": pid, "done": done, "rss": rss, "fds": fds})


def soak(args, work: Path, broker: str, model: str) -> dict:
    from pipeline.states import ChunkState
    from pipeline.store import Store

    data = work / "data"
    env = worker_env(args, data, broker, model)
    store = Store(data)
    sizes = [args.chunks // args.books + (i < args.chunks % args.books) for i in range(args.books)]
    log = work / "worker.log"
    worker = subprocess.Popen([sys.executable, "-m", "worker", "--queues", "gpu,cpu", "--concurrency", "1", "--name",
                               "soak@bench", "--loglevel", "info"], cwd=REPO, env=env, stdout=open(log, "ab"),
                              stderr=subprocess.STDOUT, start_new_session=True)
    sampler = Sampler(worker, data)
    books, ends = [], []
    t_start = time.monotonic()
    try:
        for i, n in enumerate(sizes):
            book = work / f"book{i + 1}.md"
            write_book(book, f"Soak {i + 1}", sum(sizes[:i]), n)
            t0 = time.monotonic()
            r = subprocess.run([sys.executable, "-m", "worker.cli", "submit", str(book)], cwd=REPO, env=env,
                               capture_output=True, text=True, timeout=120)
            if r.returncode:
                raise SystemExit(f"bench_soak: submit failed: {r.stderr.strip()}")
            job = r.stdout.strip().splitlines()[-1]
            deadline = t0 + args.timeout
            while (state := store.state(job).state) not in ("done", "failed", "cancelled"):
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"bench_soak: job {job} still {state} (worker exit {worker.poll()}); log {log}")
                sampler.sample()
                time.sleep(args.interval)
            if state != "done":
                raise SystemExit(f"bench_soak: job {job} {state}: {store.state(job).error}; log {log}")
            sampler.sample()
            ends.append(len(sampler.child) - 1)
            made = store.manifest(job).count(ChunkState.DONE)
            wall = time.monotonic() - t0
            books.append({"chunks": made, "wall_s": round(wall, 1), "chunks_per_s": round(made / wall, 2)})
        wall = time.monotonic() - t_start
    finally:
        (work / "samples.json").write_text(json.dumps({"main": sampler.main, "pool_child": sampler.child}))
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=60)
    total = sum(b["chunks"] for b in books)
    warm_books = next(i + 1 for i in range(len(books)) if sum(b["chunks"] for b in books[: i + 1])
                      >= args.warmup * total)
    return {"bench": "soak", "tag": args.tag, "model": args.model_label, "device": args.device, "chunks": total,
            "books": len(books), "warmup_books": warm_books, "wall_s": round(wall, 1),
            "chunks_per_s": round(total / wall, 2), "per_book": books, "interval_s": args.interval,
            "pool_child": flatness(sampler.child, ends, warm_books),
            "main": flatness(sampler.main, ends, warm_books),
            "loadavg_1m_at_end": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", type=int, default=2000, help="chunks in all")
    ap.add_argument("--books", type=int, default=5, help="books the chunks are split over (at least 2)")
    ap.add_argument("--model", default="tiny", help="tiny, espeak, or a checkpoint folder")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--max-new-tokens", type=int, default=8)
    ap.add_argument("--flow-steps", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--chunks-per-task", type=int, default=32)
    ap.add_argument("--pause-ms", type=int, default=100, help="pause after each paragraph (less audio to stitch)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads of the worker (0: torch's choice)")
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    ap.add_argument("--warmup", type=float, default=0.2, help="share of the chunks (whole books) of warm-up")
    ap.add_argument("--timeout", type=float, default=7200, help="seconds per book before giving up")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--tag", default="")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (log, samples, data)")
    args = ap.parse_args()
    if args.books < 2 or args.chunks < args.books:
        sys.exit("bench_soak: --books must be at least 2 (the first is warm-up) and at most --chunks")
    if not Path("/proc/self/status").is_file():
        sys.exit("bench_soak: needs Linux /proc to sample the worker")

    tmp = Path(tempfile.mkdtemp(prefix="tomecast-soak-"))
    model = args.model
    args.model_label = model if model in ("tiny", "espeak") else f"{Path(model).name}"
    if model == "tiny":
        from model.testing import write_random_checkpoint

        model = str(write_random_checkpoint(tmp / "tiny", "tiny"))
    redis_proc, broker = start_redis(tmp, "bench_soak")
    try:
        row = soak(args, tmp, broker, model)
    finally:
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        if args.keep:
            print(f"bench_soak: kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(row), flush=True)
    if args.out:
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
