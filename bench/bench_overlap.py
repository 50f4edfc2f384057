"""Can T3 and S3Gen share one GPU at once? Times them apart and side by side, on a real book's chunks.

    python bench/bench_overlap.py --variant turbo --chunks sherlock-chunks.json --device cuda
    python bench/bench_overlap.py --variant original --chunks sherlock-chunks.json --device cuda --slots 128

Random full-size weights (``model.testing``), stop tokens off, each chunk at its runaway cap (as
``bench_book.py``). Two calls' worth of chunks, A and B (``--texts`` each): T3 on A gives speech tokens;
then, timed with the device synchronized: T3 on B alone, S3Gen on A's tokens alone (token-sorted groups of
``--s3gen-rows``), and both at once (S3Gen in a second thread on its own CUDA stream while T3 decodes B on
the default stream). ``overlap_gain`` is (T3 alone + S3Gen alone) / side by side: 1.0 means no gain. One
JSON line per figure (also appended to ``--out``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", required=True, help="JSON list of chunk texts (bench_book.py --write-chunks)")
    ap.add_argument("--variant", default="turbo", choices=["original", "turbo"])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--preset", default="full", choices=["full", "tiny"])
    ap.add_argument("--texts", type=int, default=256, help="chunks per call (A and B)")
    ap.add_argument("--slots", type=int, default=0, help="T3 rows at once (0: all texts of a call)")
    ap.add_argument("--s3gen-rows", type=int, default=64)
    ap.add_argument("--max-tokens", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    import torch

    from model.facade import S3GEN_SEED_SALT, s3gen_groups
    from model.generate import T3Params
    from model.generate import generate_raw as original_raw
    from model.params import SynthesisParams
    from model.t3 import T3Cond
    from model.testing import write_random_checkpoint
    from model.testing.turbo_checkpoint import write_turbo_checkpoint
    from model.tts import TTS
    from model.turbo.generate import TurboDecodeParams
    from model.turbo.generate import generate_raw as turbo_raw

    chunks = json.loads(Path(args.chunks).read_text())
    texts_a, texts_b = chunks[: args.texts], chunks[args.texts: 2 * args.texts]
    turbo = args.variant == "turbo"
    folder = Path(tempfile.mkdtemp(prefix="tomecast-overlap-"))
    (write_turbo_checkpoint if turbo else write_random_checkpoint)(folder, args.preset)
    tts = TTS.load(folder, device=args.device, watermark=False)
    dev = tts.device
    voice = tts.builtin_voice().to(dev)
    params = SynthesisParams(max_new_tokens=args.max_tokens, tokens_per_char=1.5)
    steps = 2 if turbo else 10
    slots = args.slots or args.texts

    cuda = dev.type == "cuda"

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize(dev)

    with torch.inference_mode():
        if turbo:
            cond = tts.t3.encode_cond(voice.speaker_emb, voice.cond_prompt_speech_tokens)
        else:
            cond = T3Cond(speaker_emb=voice.speaker_emb, prompt_tokens=voice.cond_prompt_speech_tokens,
                          exaggeration=0.5)

    def t3(texts: list[str]) -> list[torch.Tensor]:
        """Speech tokens per text (each at its cap), clamped into S3Gen's vocabulary."""
        ids = [torch.tensor(tts.tokenizer.encode(t), dtype=torch.long) for t in texts]
        caps = [params.token_cap(t) for t in texts]
        seeds = list(range(len(texts)))
        with torch.inference_mode():
            if turbo:
                dp = TurboDecodeParams(max_new_tokens=max(caps), stop_at_eos=False)
                out = [turbo_raw(tts.t3, ids[i:i + slots], cond, dp, seeds[i:i + slots], caps=caps[i:i + slots])
                       .tokens for i in range(0, len(ids), slots)]
                rows = [r for o in out for r in o]
            else:
                raw = original_raw(tts.t3, ids, cond, params, seeds, T3Params(stop_at_eos=False), caps=caps,
                                   slots=slots).tokens
                rows = list(raw)
        return [r[:c].clamp(max=6560).to(dev) for r, c in zip(rows, caps, strict=True)]

    def s3gen(tokens: list[torch.Tensor]) -> None:
        with torch.inference_mode():
            for group in s3gen_groups([t.numel() for t in tokens], args.s3gen_rows):
                gens = [torch.Generator(device=dev).manual_seed((i ^ S3GEN_SEED_SALT) & (2**63 - 1)) for i in group]
                tts.s3gen.synthesize([tokens[i] for i in group], voice.gen, n_steps=steps, generators=gens)

    def timed(fn) -> float:
        best = float("inf")
        for _ in range(args.repeats):
            sync()
            t = time.perf_counter()
            fn()
            sync()
            best = min(best, time.perf_counter() - t)
        return best

    side = torch.cuda.Stream(device=dev) if cuda else None

    def both() -> None:
        failed: list[BaseException] = []

        def render() -> None:
            try:
                with torch.cuda.stream(side) if cuda else contextlib.nullcontext():
                    s3gen(tokens_a)
                sync()
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                failed.append(exc)
        worker = threading.Thread(target=render)
        worker.start()
        t3(texts_b)
        worker.join()
        if failed:
            raise failed[0]

    t3(texts_a[:4])                     # warm-up: allocator, cuBLAS, first graph capture
    tokens_a = t3(texts_a)
    s3gen(tokens_a[:8])
    audio_a = sum(t.numel() for t in tokens_a) / 25
    audio_b = sum(params.token_cap(t) for t in texts_b) / 25
    t_t3 = timed(lambda: t3(texts_b))
    t_s3 = timed(lambda: s3gen(tokens_a))
    both()                              # warm the side stream's allocator pool
    t_both = timed(both)
    row = {"bench": "overlap", "variant": args.variant, "device": torch.cuda.get_device_name(dev) if cuda else "cpu",
           "torch": torch.__version__, "texts": args.texts, "slots": slots, "s3gen_rows": args.s3gen_rows,
           "audio_s_a": round(audio_a, 1), "audio_s_b": round(audio_b, 1),
           "t3_alone_s": round(t_t3, 3), "s3gen_alone_s": round(t_s3, 3), "side_by_side_s": round(t_both, 3),
           "overlap_gain": round((t_t3 + t_s3) / t_both, 3),
           "t3_x_real_time": round(audio_b / t_t3, 1), "s3gen_x_real_time": round(audio_a / t_s3, 1)}
    print(json.dumps(row), flush=True)
    if args.out:
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
