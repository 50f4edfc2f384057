"""Where a decode step's GPU time goes: the top kernels of T3 decoding, profiled eagerly (kernels as a graph
replays them, each launch visible).

    python bench/bench_decode_profile.py --variant turbo --batch 256 --steps 64 --prompt 600

A random full-size checkpoint of ``--variant`` is written and loaded through ``TTS.load``; ``--batch`` copies of
one text decode ``--steps`` tokens (stop token ignored) after ``--prompt`` warm-up tokens have filled the cache
(so attention reads a realistic length). Prints one JSON line per kernel (the ``--top`` by GPU time: total ms,
calls, share of the step's kernel time), then a summary line: kernel ms per step and wall ms per step of the
same loop replayed from a CUDA graph.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", default="turbo", choices=["original", "turbo"])
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--prompt", type=int, default=600, help="tokens decoded before the profiled ones")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--preset", default="full", choices=["full", "tiny"])
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    import torch
    from torch.profiler import ProfilerActivity, profile

    from model.generate import T3Params, generate_raw
    from model.params import SynthesisParams
    from model.t3 import T3Cond
    from model.testing import write_random_checkpoint
    from model.testing.turbo_checkpoint import write_turbo_checkpoint
    from model.tts import TTS
    from model.turbo.generate import TurboDecodeParams
    from model.turbo.generate import generate_raw as turbo_generate_raw

    folder = Path(tempfile.mkdtemp(prefix="tomecast-profile-"))
    (write_turbo_checkpoint if args.variant == "turbo" else write_random_checkpoint)(folder, args.preset)
    tts = TTS.load(folder, device="cuda", watermark=False)
    voice = tts.builtin_voice().to(tts.device)
    ids = torch.tensor(tts.tokenizer.encode("The quick brown fox jumps over the lazy dog, and runs away."))
    b = args.batch

    def decode(n: int, graph: bool) -> None:
        if args.variant == "turbo":
            cond = tts.t3.encode_cond(voice.speaker_emb, voice.cond_prompt_speech_tokens)
            dp = TurboDecodeParams(max_new_tokens=n, stop_at_eos=False, cuda_graph=graph)
            turbo_generate_raw(tts.t3, [ids] * b, cond, dp, list(range(b)))
        else:
            cond = T3Cond(speaker_emb=voice.speaker_emb, prompt_tokens=voice.cond_prompt_speech_tokens)
            generate_raw(tts.t3, [ids] * b, cond, SynthesisParams(max_new_tokens=n), list(range(b)),
                         T3Params(stop_at_eos=False, cuda_graph=graph))

    def wall(n: int, graph: bool) -> float:
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        decode(n, graph)
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end)

    with torch.inference_mode():
        decode(8, False)
        decode(8, True)
        # the profiled steps' share: the difference of two runs that differ only in their last ``steps`` tokens
        graph_ms = (wall(args.prompt + args.steps, True) - wall(args.prompt, True)) / args.steps
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            decode(args.prompt + args.steps, False)
    events = [e for e in prof.key_averages() if e.device_time_total > 0 and e.key and not e.key.startswith("Memcpy")]
    kernel_total = sum(e.device_time_total for e in events)
    steps = args.prompt + args.steps
    rows = []
    for e in sorted(events, key=lambda e: -e.device_time_total)[: args.top]:
        rows.append({"bench": "decode_profile", "variant": args.variant, "batch": b, "kernel": e.key[:90],
                     "ms_per_step": round(e.device_time_total / 1000 / steps, 4), "calls_per_step":
                     round(e.count / steps, 1), "share": round(e.device_time_total / kernel_total, 3)})
    rows.append({"bench": "decode_profile", "variant": args.variant, "batch": b, "figure": "summary",
                 "kernel_ms_per_step": round(kernel_total / 1000 / steps, 3),
                 "kernels_per_step": round(sum(e.count for e in events) / steps, 1), "graph_wall_ms_per_step":
                 round(graph_ms, 3), "tokens_per_s_at_depth": round(b * 1000 / graph_ms, 1),
                 "cache_depth": args.prompt + args.steps, "gpu": torch.cuda.get_device_name()})
    for r in rows:
        print(json.dumps(r), flush=True)
        if args.out:
            with open(args.out, "a") as f:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
