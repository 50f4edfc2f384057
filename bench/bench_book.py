"""Whole-book synthesis speed through the facade: a real book's chunks, random full-size weights.

    python bench/bench_book.py --epub BOOK.epub --write-chunks chunks.json       # text_prep (no torch needed)
    python bench/bench_book.py --chunks chunks.json --device cuda --limit 700     # synthesis
    python bench/bench_book.py --epub BOOK.epub --device cpu --preset tiny --limit 6 --max-tokens 20   # smoke

The chunks come from text_prep (``prepare``) in plan order; each chunk's speech text is synthesized. Random
weights never stop on their own, so stop tokens are disabled and each chunk gets exactly its runaway cap of
``50 + 1.5 x characters`` tokens (about 15 characters per second of speech at 25 tokens/s), the length
real weights would speak. Chunks go through ``TTS.synthesize_takes`` in calls of ``--chunks-per-call`` (as a
worker's tasks would; ``--as-convert``: chapters gathered into calls, as convert's are) with ``--batch-size``
slots (default: ``TTS.suggested_batch_size()``): T3 with continuous batching, S3Gen in token-sorted batches.
Reports audio seconds per wall second, peak device memory per call (flat across the book when the cache is
static), the shares of the wall time spent in T3 and in
S3Gen (each timed with the device synchronized) and the GPU busy share (NVML utilization, where NVML is there),
and the time to first audio of one ~20 s chunk alone. Each figure is one JSON line (also appended to
``--out``); the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class GpuBusy:
    """NVML's utilization (the share of time a kernel ran), sampled every 50 ms in a thread; None without NVML."""

    def __init__(self, device):
        import threading

        self.samples: list[int] = []
        try:
            import pynvml

            pynvml.nvmlInit()
            handle = pynvml.nvmlDeviceGetHandleByIndex(device.index or 0)
        except Exception:  # noqa: BLE001 - optional figure
            self.thread = None
            return
        self.stopping = threading.Event()

        def sample() -> None:
            while not self.stopping.wait(0.05):
                self.samples.append(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)
        self.thread = threading.Thread(target=sample, daemon=True)
        self.thread.start()

    def stop(self) -> float | None:
        if self.thread is None:
            return None
        self.stopping.set()
        self.thread.join()
        return round(sum(self.samples) / max(1, len(self.samples)) / 100, 3)


def book_chapters(epub: Path) -> list[list[str]]:
    from text_prep import PrepareOptions, prepare

    book = prepare(str(epub), PrepareOptions())
    return [[c.speech for c in ch.chunks if c.speech.strip()] for ch in book.chapters]


def calls_of(chapters: list[list[str]], size: int, as_convert: bool, limit: int) -> list[list[str]]:
    """The engine calls of the first ``limit`` chunks (0: all): ``size`` chunks each in plan order, or as convert
    makes them (``pipeline.steps``: consecutive chapters gathered until they fill a call, each group in even
    calls of at most ``size``)."""
    from pipeline.steps import chapter_groups, even_calls

    left, kept = limit or sum(map(len, chapters)), []
    for ch in chapters:
        kept.append(ch[:left])
        left -= len(kept[-1])
    if not as_convert:
        flat = [t for ch in kept for t in ch]
        return [flat[i:i + size] for i in range(0, len(flat), size)]
    groups = chapter_groups({i: len(ch) for i, ch in enumerate(kept) if ch}, size)
    return [c for g in groups for c in even_calls([t for i in g for t in kept[i]], size)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epub", default=None)
    ap.add_argument("--chunks", default=None, help="JSON list of chunk texts (from --write-chunks)")
    ap.add_argument("--write-chunks", default=None, help="write the book's chunk texts here and stop")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default=None)
    ap.add_argument("--preset", default="full", choices=["full", "tiny"])
    ap.add_argument("--variant", default="original", choices=["original", "turbo"],
                    help="turbo: a random ResembleAI/chatterbox-turbo checkpoint (2 meanflow steps, no CFG)")
    ap.add_argument("--limit", type=int, default=700, help="first N chunks (0: all)")
    ap.add_argument("--batch-size", type=int, default=0, help="0: TTS.suggested_batch_size()")
    ap.add_argument("--chunks-per-call", type=int, default=256)
    ap.add_argument("--as-convert", action="store_true",
                    help="calls as convert makes them: whole chapters gathered into calls of about "
                         "--chunks-per-call (chunks files from --write-chunks)")
    ap.add_argument("--s3gen-rows", type=int, default=0, help="most rows per S3Gen call (0: the facade's)")
    ap.add_argument("--max-tokens", type=int, default=1000)
    ap.add_argument("--flow-steps", type=int, default=10)
    ap.add_argument("--time-limit", type=float, default=400.0, help="stop after the call that passes this (s)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--tag", default="")
    args = ap.parse_args()

    if args.chunks:
        chapters = json.loads(Path(args.chunks).read_text())
        if chapters and isinstance(chapters[0], str):    # a flat list (older files): one chapter
            chapters = [chapters]
    else:
        chapters = book_chapters(Path(args.epub))
    texts = [t for ch in chapters for t in ch]
    if args.write_chunks:
        Path(args.write_chunks).write_text(json.dumps(chapters))
        print(json.dumps({"chapters": len(chapters), "chunks": len(texts), "chars": sum(map(len, texts))}))
        return
    if args.limit:
        texts = texts[: args.limit]
    calls = calls_of(chapters, args.chunks_per_call, args.as_convert, args.limit)   # (before the model loads)

    import logging

    import torch

    from model.generate import T3Params
    from model.testing import write_random_checkpoint
    from model.testing.turbo_checkpoint import write_turbo_checkpoint
    from model.tts import TTS, SynthesisParams

    def emit(row: dict) -> None:
        row = {"bench": "book", "tag": args.tag, **row}
        print(json.dumps(row), flush=True)
        if args.out:
            with open(args.out, "a") as f:
                f.write(json.dumps(row) + "\n")

    for name in ("model.tts", "model.turbo.tts"):
        logging.getLogger(name).setLevel(logging.ERROR)  # every chunk "runs away" by design here
    folder = Path(tempfile.mkdtemp(prefix="tomecast-book-"))
    turbo = args.variant == "turbo"
    (write_turbo_checkpoint if turbo else write_random_checkpoint)(folder, args.preset)
    tts = TTS.load(folder, device=args.device, dtype=args.dtype, watermark=False)
    if not turbo:   # random weights: every chunk runs to its cap (Turbo's rarely samples its stop token either)
        tts.decode = T3Params(stop_at_eos=False)
    if args.s3gen_rows:
        tts.s3gen_rows = args.s3gen_rows
    cuda = tts.device.type == "cuda"
    batch = args.batch_size or tts.suggested_batch_size()
    params = SynthesisParams(max_new_tokens=args.max_tokens, tokens_per_char=1.5, n_flow_steps=args.flow_steps)
    voice = tts.builtin_voice()

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    phases = {"t3_s": 0.0, "s3gen_s": 0.0, "t3_admit_s": 0.0}

    def timed_phase(name: str, fn):
        """``fn`` with its wall time (device work included) added to ``phases[name]``: where a book's time goes."""
        def run(*a, **k):
            sync()
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                sync()
                phases[name] += time.perf_counter() - t
        return run

    tts._speech_tokens = timed_phase("t3_s", tts._speech_tokens)
    tts.s3gen.synthesize = timed_phase("s3gen_s", tts.s3gen.synthesize)
    # continuous batching's prefills of admitted texts (inside T3's share)
    if turbo:
        from model.turbo import generate as turbo_generate

        turbo_generate._admit = timed_phase("t3_admit_s", turbo_generate._admit)
    else:
        from model import decode as t3_decode

        t3_decode.admit = timed_phase("t3_admit_s", t3_decode.admit)

    # warm-up (allocator, cuBLAS, the graph's first capture, HiFT's fused Snakes) on a few chunks, then time to
    # first audio
    tts.synthesize_takes(texts[:8], voice, params, list(range(len(texts[:8]))), batch_size=batch)
    first = max(texts, key=len)
    sync()
    t = time.perf_counter()
    (take,) = tts.synthesize_takes([first], voice, params, [7], batch_size=1)
    sync()
    emit({"figure": "time_to_first_audio", "chars": len(first), "audio_s": round(len(take.audio) / 24000, 2),
          "seconds": round(time.perf_counter() - t, 3)})

    audio = 0.0
    done = 0
    peaks = []
    busy = GpuBusy(tts.device) if cuda else None
    phases.update(t3_s=0.0, s3gen_s=0.0, t3_admit_s=0.0)
    t0 = time.perf_counter()
    for group in calls:
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        takes = tts.synthesize_takes(group, voice, params, list(range(done, done + len(group))), batch_size=batch)
        sync()
        tts.release()
        audio += sum(len(t.audio) for t in takes) / 24000
        done += len(group)
        if cuda:
            peaks.append(round(torch.cuda.max_memory_allocated() / 2**30, 2))
        wall = time.perf_counter() - t0
        print(json.dumps({"chunks": done, "audio_s": round(audio, 1), "wall_s": round(wall, 1),
                          "x_real_time": round(audio / wall, 1)}), flush=True)
        if wall > args.time_limit:
            break
    wall = time.perf_counter() - t0
    busy_share = busy.stop() if busy else None
    emit({"figure": "book", "variant": args.variant, "device": str(tts.device),
          "t3_dtype": str(tts.dtype).replace("torch.", ""),
          "preset": args.preset, "chunks": done, "chars": sum(map(len, texts[:done])), "batch_size": batch,
          "chunks_per_call": args.chunks_per_call, "as_convert": args.as_convert, "s3gen_rows": tts.s3gen_rows,
          "audio_s": round(audio, 1),
          "wall_s": round(wall, 1),
          "audio_s_per_wall_s": round(audio / wall, 2), "peak_gib_per_call": peaks,
          "t3_share": round(phases["t3_s"] / wall, 3), "s3gen_share": round(phases["s3gen_s"] / wall, 3),
          "t3_admit_share": round(phases["t3_admit_s"] / wall, 3),
          "gpu_busy_share": busy_share})


if __name__ == "__main__":
    main()
