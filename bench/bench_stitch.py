"""Stitcher benchmark: hours of chunk audio joined into chapter masters on this CPU, time and memory.

    python bench/bench_stitch.py [--hours 10] [--chapter-minutes 30] [--encode-hours 1] [--format mp3]

Makes speech-like chunks (noise shaped like a voice: syllables at ~4 Hz, words and breath pauses, a spectral
tilt, silent edges of random length; 24 kHz, 4-20 s each) in a temp folder, then stitches ``--hours`` of them
into chapters of ``--chapter-minutes`` with ``pipeline.stitch.stitch_master`` (the same call the pipeline
makes), and encodes the first ``--encode-hours`` of chapters to ``--format`` and into an M4B with the
true-peak check on. Prints one JSON line: seconds per audio hour for stitching and for encoding, the peak
RSS of this process (the stitcher; the chunks are made in a child process) and its RSS after each chapter, and
the true peak / loudness of what came out. (ffmpeg children's peak RSS is not reported: a forked child's
high-water mark is its parent's at the fork.)
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RATE = 24000


def speechlike(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Noise with a voice's envelope: syllables, word gaps, a falling spectrum, silent edges."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    syllables = np.clip(np.sin(2 * np.pi * rng.uniform(3.5, 5.0) * t + rng.uniform(0, 6)), 0, None) ** 1.5
    words = (np.sin(2 * np.pi * rng.uniform(0.6, 1.1) * t + rng.uniform(0, 6)) > -0.6).astype(np.float32)
    noise = rng.standard_normal(n).astype(np.float32)
    voiced = np.sin(2 * np.pi * rng.uniform(90, 180) * t) * 0.6
    tilt = np.cumsum(noise) * 0.02                  # a crude 1/f tilt
    tilt -= np.convolve(tilt, np.ones(400) / 400, mode="same")
    x = (0.5 * tilt + voiced + 0.15 * noise) * syllables * words
    x *= 0.25 / (np.abs(x).max() + 1e-9) * rng.uniform(0.5, 1.2)
    lead, tail = (np.zeros(int(rng.uniform(0.05, 0.5) * RATE), np.float32) for _ in range(2))
    return np.concatenate([lead, x.astype(np.float32), tail])


def make_chunks(folder: Path, count: int) -> list[Path]:
    from pipeline.files import write_wav

    rng = np.random.default_rng(0)
    return [write_wav(folder / f"c{i:04d}.wav", speechlike(rng, rng.uniform(4, 20)), RATE) for i in range(count)]


def rss_mb() -> float:
    """This process's resident set now (not its high-water mark)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=10.0)
    ap.add_argument("--chapter-minutes", type=float, default=30.0)
    ap.add_argument("--encode-hours", type=float, default=1.0, help="of the chapters, encoded and put in an M4B")
    ap.add_argument("--format", default="mp3")
    ap.add_argument("--distinct", type=int, default=120, help="distinct chunk files (reused in a shuffled order)")
    args = ap.parse_args()

    from pipeline.loudness import Loudness, measure_loudness
    from pipeline.stitch import Stitching, encode_chapter, stitch_master, write_m4b

    tmp = Path(tempfile.mkdtemp(prefix="tomecast-bench-stitch-"))
    try:
        with ProcessPoolExecutor(1) as pool:   # made in a child, so this process's peak RSS is the stitcher's
            chunks = pool.submit(make_chunks, tmp, args.distinct).result()
        rng = np.random.default_rng(1)
        seconds = {p: p.stat().st_size / 2 / RATE for p in chunks}
        st = Stitching(format=args.format)
        pauses = list(st.pauses_ms.values())
        rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        masters, per_chapter, audio_s, stitch_s = [], [], 0.0, 0.0
        target = args.hours * 3600
        while audio_s < target:
            wavs, chapter_s = [], 0.0
            while chapter_s < args.chapter_minutes * 60 and audio_s + chapter_s < target:
                p = chunks[int(rng.integers(len(chunks)))]
                wavs.append(p)
                chapter_s += seconds[p]
            gaps = [pauses[int(rng.integers(2))] for _ in wavs]
            t0 = time.perf_counter()
            m = stitch_master(wavs, gaps, st, tmp / "masters" / f"ch{len(masters):03d}.wav")
            dt = time.perf_counter() - t0
            stitch_s += dt
            audio_s += m.duration
            per_chapter.append({"audio_s": round(m.duration, 1), "chunks": len(wavs), "wall_s": round(dt, 2),
                                "rss_mb": round(rss_mb(), 1)})
            masters.append(m)
        enc = []
        enc_audio = 0.0
        for m in masters:
            if enc_audio >= args.encode_hours * 3600:
                break
            enc.append(m)
            enc_audio += m.duration
        t0 = time.perf_counter()
        chapter_files = [encode_chapter(m.path, tmp / f"ch{i:03d}.{args.format}", args.format, st.bitrate, {},
                                        true_peak_db=st.true_peak_db) for i, m in enumerate(enc)]
        encode_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        m4b = enc and write_m4b(enc, [f"Chapter {i + 1}" for i in range(len(enc))], tmp / "book.m4b",
                                title="Bench", author="tomecast", language="en", bitrate=st.bitrate,
                                true_peak_db=st.true_peak_db)
        m4b_s = time.perf_counter() - t0
        hours = audio_s / 3600
        enc_hours = enc_audio / 3600 if enc_audio else None
        files = [measure_loudness(f) for f in chapter_files]
        book = measure_loudness(m4b) if m4b else Loudness(None, None)
        print(json.dumps({
            "bench": "stitch", "audio_hours": round(hours, 3), "chapters": len(masters),
            "chapter_minutes": args.chapter_minutes, "chunks": sum(c["chunks"] for c in per_chapter),
            "stitch_s": round(stitch_s, 1), "stitch_s_per_audio_hour": round(stitch_s / hours, 2),
            "slowest_chapter_s_per_audio_hour": round(max(c["wall_s"] / c["audio_s"] * 3600 for c in per_chapter), 2),
            "encode_hours": enc_hours and round(enc_hours, 3), "format": args.format,
            "encode_s_per_audio_hour": enc_hours and round(encode_s / enc_hours, 2),
            "m4b_s_per_audio_hour": enc_hours and round(m4b_s / enc_hours, 2),
            "longest_chapter_hours": round(max(c["audio_s"] for c in per_chapter) / 3600, 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "peak_rss_before_stitching_mb": round(rss_start / 1024, 1),
            "rss_after_each_chapter_mb": {"first": per_chapter[0]["rss_mb"], "last": per_chapter[-1]["rss_mb"],
                                          "max": max(c["rss_mb"] for c in per_chapter)},
            "master_lufs": [m.master_lufs for m in masters][:8],
            "true_peak_ceiling_db": st.true_peak_db, "loudness_target_lufs": st.loudness_lufs,
            "chapter_files_max_true_peak_db": max((f.true_peak for f in files if f.true_peak is not None),
                                                  default=None),
            "chapter_files_lufs": [f.lufs for f in files][:8],
            "m4b_true_peak_db": book.true_peak, "m4b_lufs": book.lufs,
        }))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
