"""Golden S3Gen tensors from the official chatterbox-tts package, at full size with fill.py weights.

Run in the official package's venv (never in CI):

    /work/official-venv/bin/python scripts/golden_s3gen.py [--out tests/golden/s3gen]

Builds the official S3Gen (and a meanflow estimator), fills flow.* and mel2wav.* with the shared rule
of model/fill.py (loaded by file path), runs fixed inputs with explicit noise or a fixed torch seed,
and writes small tensors to ``s3gen_golden.safetensors`` plus ``meta.json``. The CI test rebuilds the
same weights from fill.py and compares our implementation.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
import types
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
SEED = 0            # fill seed
N_PROMPT = 20       # prompt tokens (prompt mel 40 frames)
N_GEN = 30          # generated tokens (60 mel frames, 28800 samples)


def load_fill():
    spec = importlib.util.spec_from_file_location("tomecast_fill", ROOT / "model" / "fill.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def inputs() -> dict[str, torch.Tensor]:
    """The fixed inputs (also rebuilt by the CI test from the same seeds; stored anyway)."""
    g = torch.Generator().manual_seed(1234)
    return {
        "prompt_token": torch.randint(0, 6561, (1, N_PROMPT), generator=g),
        "prompt_feat": torch.randn(1, 2 * N_PROMPT, 80, generator=g) * 2.0 - 5.0,
        "embedding": torch.randn(1, 192, generator=g),
        "speech_tokens": torch.randint(0, 6561, (1, N_GEN), generator=g),
        "z": torch.randn(1, 80, 2 * (N_PROMPT + N_GEN), generator=g),
        "est_x": torch.randn(2, 80, 2 * (N_PROMPT + N_GEN), generator=g),
        "est_t": torch.tensor([0.3, 0.7]),
        "est_r": torch.tensor([0.6, 0.9]),
    }


def fill_prefixed(module: torch.nn.Module, prefix: str, fill) -> None:
    sd = module.state_dict()
    keys = [k for k, v in sd.items() if v.dtype.is_floating_point]
    filled = fill.fill_state_dict({prefix + k: sd[k].shape for k in keys}, seed=SEED)
    missing, unexpected = module.load_state_dict({k: filled[prefix + k] for k in keys}, strict=False)
    assert not unexpected and all(not sd[k].dtype.is_floating_point for k in missing), (missing, unexpected)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "tests" / "golden" / "s3gen"))
    args = ap.parse_args()
    sys.modules.setdefault("perth", types.ModuleType("perth"))
    from importlib.metadata import version

    import chatterbox  # noqa: F401  (for the version only)
    from chatterbox.models.s3gen import S3Gen
    from chatterbox.models.s3gen.decoder import ConditionalDecoder

    fill = load_fill()
    torch.manual_seed(0)
    model = S3Gen().eval()
    fill_prefixed(model.flow, "flow.", fill)
    fill_prefixed(model.mel2wav, "mel2wav.", fill)
    x = inputs()
    out: dict[str, torch.Tensor] = {f"in.{k}": v.contiguous() for k, v in x.items()}
    ref = {"prompt_token": x["prompt_token"], "prompt_token_len": torch.tensor([N_PROMPT]),
           "prompt_feat": x["prompt_feat"], "prompt_feat_len": None, "embedding": x["embedding"]}
    flow = model.flow
    with torch.inference_mode():
        # encoder and mu
        tok = torch.cat([x["prompt_token"], x["speech_tokens"]], dim=1)
        lens = torch.tensor([tok.shape[1]])
        h, _ = flow.encoder(flow.input_embedding(tok), lens)
        mu = flow.encoder_proj(h).transpose(1, 2).contiguous()
        out["encoder_out"] = h.contiguous()
        out["mu"] = mu
        spk = flow.spk_embed_affine_layer(torch.nn.functional.normalize(x["embedding"], dim=1))
        out["spks"] = spk
        T = mu.shape[2]
        cond = torch.zeros(1, 80, T)
        cond[:, :, :2 * N_PROMPT] = x["prompt_feat"].transpose(1, 2)
        mask = torch.ones(1, 1, T)
        # one estimator evaluation (CFG layout: conditional row, then zeroed row)
        est = flow.decoder.estimator
        out["estimator_out"] = est(x["est_x"], torch.ones(2, 1, T), torch.cat([mu, torch.zeros_like(mu)]),
                                   x["est_t"], torch.cat([spk, torch.zeros_like(spk)]),
                                   torch.cat([cond, torch.zeros_like(cond)]))
        # 10-step CFG Euler from explicit noise
        t_span = 1 - torch.cos(torch.linspace(0, 1, 11) * 0.5 * torch.pi)
        out["solve_mel_full"] = flow.decoder.solve_euler(x["z"].clone(), t_span, mu, mask, spk, cond)
        # flow end to end, noise drawn from the torch seed
        torch.manual_seed(11)
        mel, _ = flow.inference(token=x["speech_tokens"], token_len=torch.tensor([N_GEN]), finalize=True,
                                n_timesteps=10, **ref)
        out["flow_mel"] = mel
        # HiFT: f0, source + waveform from a torch seed, deterministic decode
        out["f0"] = model.mel2wav.f0_predictor(mel)
        torch.manual_seed(22)
        wav, s = model.mel2wav.inference(speech_feat=mel, cache_source=torch.zeros(1, 1, 0))
        out["hift_source"] = s
        out["hift_wav"] = wav
        out["hift_decode"] = model.mel2wav.decode(x=mel, s=s)
        # whole chain with one seed (flow noise, then HiFT source draws), trim/fade included
        torch.manual_seed(33)
        full, _ = model.inference(speech_tokens=x["speech_tokens"], ref_dict=dict(ref))
        out["full_wav"] = full
        # meanflow estimator (turbo): one evaluation with r, and a 2-step basic Euler
        torch.manual_seed(0)
        mf = ConditionalDecoder(in_channels=320, out_channels=80, causal=True, channels=[256], dropout=0.0,
                                attention_head_dim=64, n_blocks=4, num_mid_blocks=12, num_heads=8, act_fn="gelu",
                                meanflow=True).eval()
        fill_prefixed(mf, "flow.decoder.estimator.", fill)
        out["mf_estimator_out"] = mf(x["est_x"][:1], torch.ones(1, 1, T), mu, x["est_t"][:1], spk, cond,
                                     r=x["est_r"][:1])
        flow.decoder.estimator = mf
        out["mf_solve_mel_full"] = flow.decoder.basic_euler(x["z"].clone(), torch.linspace(0, 1, 3), mu, mask,
                                                            spk, cond)
    dest = Path(args.out)
    dest.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save_file
    save_file({k: v.detach().float().contiguous() if v.dtype.is_floating_point else v.contiguous()
               for k, v in out.items()}, str(dest / "s3gen_golden.safetensors"))
    meta = {"package": "chatterbox-tts", "version": version("chatterbox-tts"), "torch": torch.__version__,
            "command": "/work/official-venv/bin/python scripts/golden_s3gen.py", "fill_seed": SEED,
            "n_prompt_tokens": N_PROMPT, "n_gen_tokens": N_GEN, "flow_seed": 11, "hift_seed": 22, "full_seed": 33,
            "shapes": {k: list(v.shape) for k, v in out.items()},
            "note": "flow.* and mel2wav.* filled by model/fill.py; meanflow estimator built alone, same names"}
    (dest / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {len(out)} tensors to {dest} ({math.fsum(v.numel() for v in out.values()) * 4 / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
