"""S3Gen: speech tokens -> 24 kHz audio (flow encoder, conditional flow matching, HiFT vocoder).

Knows tensors and state dicts only. Public surface::

    model, voice_parts = load_s3gen("s3gen.safetensors", device, S3GenRuntime.for_device(device))
    wavs = model.synthesize([tokens_a, tokens_b], ref, n_steps=10, cfg_rate=0.7, generators=[g_a, g_b])
"""

from model.s3gen.config import S3GenConfig
from model.s3gen.load import load_s3gen, read_s3gen_checkpoint, split_s3gen_state_dict
from model.s3gen.ref import S3GenRef
from model.s3gen.runtime import S3GenRuntime
from model.s3gen.s3gen import S3Gen

__all__ = ["S3Gen", "S3GenConfig", "S3GenRef", "S3GenRuntime", "load_s3gen", "read_s3gen_checkpoint",
           "split_s3gen_state_dict"]
