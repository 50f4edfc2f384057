"""T3 decode throughput: speech tokens per second at several batch sizes (CUDA bf16 by default).

    python bench/bench_t3_gpu.py --device cuda                        # full size, batch 1, 16, 64
    python bench/bench_t3_gpu.py --device cpu --preset tiny --steps 20   # smoke test
    python bench/bench_t3_gpu.py --device cuda --compile --batches 1   # the graph replays the inductor-compiled step

Every row runs exactly ``--steps`` tokens (stop token ignored) with CFG 0.5; the time includes the prefill.
Each row is printed as one JSON line (also appended to ``--out``): tokens/s, ms per step, and the achieved
weight bandwidth (every step reads all weights once). The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.device import resolve_device, resolve_dtype  # noqa: E402
from model.generate import T3Params, generate_raw, release_memory  # noqa: E402
from model.params import SynthesisParams  # noqa: E402
from model.t3 import T3, T3Cond  # noqa: E402
from model.testing.t3_checkpoint import t3_config, t3_state_dict  # noqa: E402


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default=None, help="default: bf16 on CUDA, fp32 on CPU")
    ap.add_argument("--preset", default="full", choices=["full", "tiny"])
    ap.add_argument("--batches", default="1,64,256")
    ap.add_argument("--compile", action="store_true", help="inductor-compiled step inside the CUDA graph")
    ap.add_argument("--out", default=None, help="append each row as a JSON line to this file")
    ap.add_argument("--tag", default="", help="label stored in each row")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--text-len", type=int, default=60)
    ap.add_argument("--cfg-weight", type=float, default=0.5)
    ap.add_argument("--cuda-graph", action=argparse.BooleanOptionalAction, default=T3Params().cuda_graph,
                    help="replay the decode step from a CUDA graph (CUDA only; default: the T3Params default)")
    args = ap.parse_args()
    device = resolve_device(args.device)
    dtype = resolve_dtype(args.dtype, device)
    sd = t3_state_dict(args.preset, seed=0)
    with torch.device("meta"):
        model = T3(t3_config(args.preset))
    model.load_state_dict(sd, assign=True)
    del sd
    model = model.to(device=device, dtype=dtype).eval()
    g = torch.Generator().manual_seed(0)
    cond = T3Cond(torch.randn(1, 256, generator=g), torch.randint(0, 6561, (1, 150), generator=g), 0.5)
    cond_emb = model.encode_cond(cond)
    params = SynthesisParams(max_new_tokens=args.steps, cfg_weight=args.cfg_weight)
    dec = T3Params(stop_at_eos=False, cuda_graph=args.cuda_graph, compile=args.compile)
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    results = []
    for b in (int(x) for x in args.batches.split(",")):
        texts = [torch.randint(3, 700, (args.text_len - (i % 7),), generator=g) for i in range(b)]
        generate_raw(model, texts, cond_emb, params, list(range(b)), dec)  # warm-up: same shapes (compile)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        sync(device)
        t0 = time.perf_counter()
        generate_raw(model, texts, cond_emb, params, list(range(b)), dec)
        sync(device)
        dt = time.perf_counter() - t0
        row = {"bench": "t3_gpu", "tag": args.tag, "device": str(device), "dtype": str(dtype).replace("torch.", ""),
               "cuda_graph": args.cuda_graph, "compile": args.compile, "batch": b, "steps": args.steps,
               "seconds": round(dt, 3), "tokens_per_s": round(b * args.steps / dt, 1),
               "steps_per_s": round(args.steps / dt, 2), "ms_per_step": round(1000 * dt / args.steps, 3),
               "weight_gb_per_s": round(weight_bytes * args.steps / dt / 1e9, 1)}
        if device.type == "cuda":
            row["peak_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        print(json.dumps(row), flush=True)
        if args.out:
            with open(args.out, "a") as f:
                f.write(json.dumps(row) + "\n")
        results.append(row)
        release_memory(device)
    print(json.dumps({"bench": "t3_gpu", "device": str(device), "dtype": str(dtype).replace("torch.", ""),
                      "preset": args.preset, "steps": args.steps, "cfg_weight": args.cfg_weight,
                      "cuda_graph": args.cuda_graph and device.type == "cuda", "results": results}))


if __name__ == "__main__":
    main()
