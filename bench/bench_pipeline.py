"""Pipeline benchmark: a book (default: 3 chapters of a corpus book) through embedded mode on one device.

    python bench/bench_pipeline.py --device cuda [--model DIR_OR_REPO | --random full] [--book PATH]
                                   [--chapters 3] [--batch-size 8] [--voice CLIP] [--max-new-tokens N]

``--random full`` writes a random-weight checkpoint of the real sizes first (no download; random weights never
emit the stop token, so every chunk runs to --max-new-tokens, default 300 then).

Reports model load, prepare, synthesis and stitching time, audio made and the real-time factor, then the
same book again (everything from the cache). The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared"


def excerpt(src: Path, chapters: int, out: Path) -> Path:
    """The Gutenberg header and the first ``chapters`` chapters of a plain-text Gutenberg book."""
    text = src.read_text("utf-8", errors="replace").replace("\r\n", "\n")
    heads = [m.start() for m in re.finditer(r"^CHAPTER [IVXLC]+\.\s*$", text, flags=re.M)]
    start = text.index("*** START OF")
    body = text[: text.index("\n", start) + 1] + "\n\n" + text[heads[0]: heads[chapters]]
    out.write_text(body + "\n\n*** END OF THIS PROJECT GUTENBERG EBOOK ***\n", "utf-8")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype")
    ap.add_argument("--model")
    ap.add_argument("--book", type=Path)
    ap.add_argument("--chapters", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--voice", type=Path, default=SHARED / "voices" / "LJ001-0001.wav")
    ap.add_argument("--max-new-tokens", type=int)
    ap.add_argument("--random", choices=("tiny", "full"), help="use a random-weight checkpoint of this preset")
    args = ap.parse_args()

    from pipeline import steps
    from pipeline.jobs import submit_job
    from pipeline.store import Store
    from worker.engine import Engine
    from worker.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="tomecast-bench-"))
    if args.random:
        from model.testing import write_random_checkpoint

        args.model = str(write_random_checkpoint(tmp / f"random-{args.random}", preset=args.random))
        args.max_new_tokens = args.max_new_tokens or 300
    book = args.book or excerpt(SHARED / "corpus" / "little-colonels-hero.txt", args.chapters, tmp / "book.txt")
    flags = {"device": args.device, "dtype": args.dtype, "model": args.model, "batch_size": args.batch_size,
             "chunks_per_task": args.batch_size * 2, "data_dir": tmp / "data", "max_new_tokens": args.max_new_tokens}
    settings = Settings.from_env().override(**flags)
    store = Store(settings.data_dir).ensure()
    engine = Engine(settings)
    t0 = time.perf_counter()
    engine.speech()
    load_s = time.perf_counter() - t0

    def run() -> dict:
        job_id = submit_job(store, book, settings.job_options(), voice=args.voice)
        marks = {"start": time.perf_counter()}
        made = {"chunks": 0, "audio": 0.0}

        def on_plan(_):
            marks["planned"] = time.perf_counter()

        def on_batch(n, seconds):
            made["chunks"] += n
            made["audio"] += seconds
            marks["synth_end"] = time.perf_counter()

        out = steps.run_all(store, job_id, engine, settings.batch_size, on_batch=on_batch, on_plan=on_plan)
        end = time.perf_counter()
        manifest = store.manifest(job_id)
        audio = sum(c.duration or 0 for c in manifest.chunks)
        synth_s = marks.get("synth_end", marks["planned"]) - marks["planned"]
        return {"ok": out is not None, "chunks": len(manifest.chunks), "synthesized": made["chunks"],
                "audio_s": round(audio, 2), "prepare_s": round(marks["planned"] - marks["start"], 3),
                "synthesize_s": round(synth_s, 3), "total_s": round(end - marks["start"], 3),
                # stitching, chapter encoding and the M4B (with their loudness checks), after the last batch
                "after_synthesis_s": round(end - marks.get("synth_end", marks["planned"]), 3),
                "realtime_x": round(made["audio"] / synth_s, 2) if synth_s > 0 and made["audio"] else None}

    first = run()
    second = run()
    print(json.dumps({"bench": "pipeline", "device": settings.device, "model": args.random or settings.model,
                      "batch_size": settings.batch_size, "load_s": round(load_s, 2), "first": first,
                      "cached": second}))


if __name__ == "__main__":
    main()
