"""Embedded mode's host side on a whole book: everything ``tomecast convert`` does but the model.

    python bench/bench_host.py                                   # Sherlock Holmes (../shared/corpus), 500x engine
    python bench/bench_host.py --book BOOK.epub --engine-speed 0 --profile 25

The engine is a stand-in that returns each chunk's audio (a voiced-like tone, ~15 characters per second of
speech, as the speed benchmarks assume) after sleeping as long as a GPU making ``--engine-speed`` seconds of
audio per second would take (0: at once), so the figures show what the host adds to a book at that speed:
prepare, chunk writes and their signal checks, the manifest, chapter stitching and encoding, the M4B, the QA
report. Prints the wall time, the engine's share, the host seconds per audio hour, the assembly's time (M4B and
report) and, with ``--profile N``, the top N functions by cumulative time. The last line is JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHERLOCK = REPO.parent / "shared" / "corpus" / "adventures-of-sherlock-holmes.epub"


@dataclasses.dataclass
class StandInVoice:
    key: str = "stand-in-voice-01"

    def save(self, path) -> None:
        Path(path).write_bytes(b"stand-in")


class StandInSpeech:
    """Audio of each text's speaking length, made as fast as ``speed`` x real time (0: at once)."""

    model_id = "stand-in@1"
    sample_rate = 24000

    def __init__(self, speed: float, batch_size: int) -> None:
        import numpy as np

        t = np.arange(self.sample_rate * 40) / self.sample_rate
        self.tone = (0.2 * np.sin(2 * np.pi * 180 * t) * (1 + 0.3 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
        self.speed, self.batch_size, self.call_size = speed, batch_size, 8 * batch_size
        self.engine_s = 0.0

    def prepare_voice(self, clip):
        return StandInVoice()

    def load_voice(self, path):
        return StandInVoice()

    def synthesize(self, texts, voice, params, seeds):
        t = time.perf_counter()
        out = [self.tone[: int(self.sample_rate * min(39.0, max(0.5, len(x) / 15)))].copy() for x in texts]
        if self.speed:
            time.sleep(sum(len(a) for a in out) / self.sample_rate / self.speed)
        self.engine_s += time.perf_counter() - t
        return out


class StandInEngine:
    def __init__(self, speech: StandInSpeech) -> None:
        self.speech_ = speech

    def speech(self, model, revision, purpose=None):
        return self.speech_


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--book", default=str(SHERLOCK))
    ap.add_argument("--engine-speed", type=float, default=500.0, help="audio s per engine s (0: instant)")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--profile", type=int, default=0, help="print the top N functions by cumulative time")
    ap.add_argument("--data", default=None, help="data folder (default: a temporary one)")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    if not Path(args.book).is_file():
        sys.exit(f"bench_host: no book at {args.book}")

    from pipeline import steps
    from pipeline.jobs import submit_job
    from pipeline.spec import JobOptions
    from pipeline.store import Store

    store = Store(Path(args.data or tempfile.mkdtemp(prefix="tomecast-host-")))
    job = submit_job(store, Path(args.book), JobOptions(model="stand-in", qa={"repair": False, "asr": False}))
    speech = StandInSpeech(args.engine_speed, args.batch_size)
    assembly = [0.0]
    assemble = steps.assemble_book

    def timed_assembly(*a, **k):
        t = time.perf_counter()
        try:
            return assemble(*a, **k)
        finally:
            assembly[0] += time.perf_counter() - t

    steps.assemble_book = timed_assembly
    prof = cProfile.Profile() if args.profile else None
    t0 = time.perf_counter()
    if prof:
        prof.enable()
    out = steps.run_all(store, job, StandInEngine(speech), None)
    if prof:
        prof.disable()
    wall = time.perf_counter() - t0
    if out is None:
        sys.exit(f"bench_host: the book failed: {store.state(job).error}")
    hours = sum(c.duration or 0.0 for c in store.manifest(job).chunks) / 3600
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(args.profile)
    print(json.dumps({"bench": "host", "tag": args.tag, "book": Path(args.book).name, "engine_speed": args.engine_speed,
                      "chunks": len(store.manifest(job).chunks), "audio_h": round(hours, 2), "wall_s": round(wall, 1),
                      "engine_s": round(speech.engine_s, 1), "assembly_s": round(assembly[0], 1),
                      "host_s_per_audio_h": round((wall - speech.engine_s) / hours, 1),
                      "x_real_time": round(hours * 3600 / wall, 1)}))


if __name__ == "__main__":
    main()
