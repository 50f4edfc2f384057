"""S3Gen configuration: dataclasses with named presets, or read from a checkpoint's key names and shapes.

The official sizes are fixed in its code; we read every size we can from the state dict so that a
"tiny" random checkpoint with the same key names loads through the same code. Sizes no shape reveals
(HiFT up-sampling rates, resblock dilations, attention head width of the estimator) keep their
official values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

from model.errors import CheckpointError

MEL_BINS = 80
SAMPLE_RATE = 24000
TOKEN_MEL_RATIO = 2
SAMPLES_PER_FRAME = 480          # 24 kHz / 50 Hz mel
SPEECH_VOCAB = 6561


@dataclass(frozen=True)
class EncoderConfig:
    """Upsampling conformer encoder (``flow.encoder``)."""

    d_model: int = 512
    heads: int = 8
    ff_dim: int = 2048
    n_blocks: int = 6
    n_up_blocks: int = 4
    lookahead: int = 3
    up_stride: int = 2


@dataclass(frozen=True)
class EstimatorConfig:
    """CFM estimator U-Net (``flow.decoder.estimator``)."""

    in_channels: int = 320           # x, mu, spk, cond: 4 x 80
    channels: int = 256
    time_dim: int = 1024
    head_dim: int = 64
    heads: int = 8
    n_blocks: int = 4                # transformer blocks per stage
    n_mid: int = 12
    ff_dim: int = 1024
    meanflow: bool = False


@dataclass(frozen=True)
class HiFTConfig:
    """HiFT vocoder (``mel2wav``) with its F0 predictor."""

    base_channels: int = 512
    upsample_rates: tuple[int, ...] = (8, 5, 3)
    upsample_kernels: tuple[int, ...] = (16, 11, 7)
    resblock_kernels: tuple[int, ...] = (3, 7, 11)
    source_resblock_kernels: tuple[int, ...] = (7, 7, 11)
    dilations: tuple[int, ...] = (1, 3, 5)
    n_harmonics: int = 8
    n_fft: int = 16
    hop: int = 4
    f0_channels: int = 512
    f0_layers: int = 5
    sine_amp: float = 0.1
    noise_std: float = 0.003
    voiced_threshold: float = 10.0
    lrelu_slope: float = 0.1
    audio_limit: float = 0.99


@dataclass(frozen=True)
class S3GenConfig:
    """Whole S3Gen: token embedding, speaker projection, encoder, estimator, vocoder."""

    vocab: int = SPEECH_VOCAB
    spk_dim: int = 192
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    estimator: EstimatorConfig = field(default_factory=EstimatorConfig)
    hift: HiFTConfig = field(default_factory=HiFTConfig)

    @classmethod
    def from_name(cls, name: str) -> S3GenConfig:
        """``full`` (official English), ``meanflow`` (turbo decoder) or ``tiny`` (tests)."""
        if name == "full":
            return cls()
        if name == "meanflow":
            return cls(estimator=EstimatorConfig(meanflow=True))
        if name == "tiny":
            return cls(encoder=EncoderConfig(d_model=64, heads=2, ff_dim=128, n_blocks=1, n_up_blocks=1),
                       estimator=EstimatorConfig(channels=64, time_dim=256, heads=1, n_blocks=1, n_mid=1,
                                                 ff_dim=256),
                       hift=HiFTConfig(base_channels=32, f0_channels=32, f0_layers=2, resblock_kernels=(3,),
                                       dilations=(1,)))
        raise ValueError(f"unknown S3Gen preset {name!r} (use full, meanflow or tiny)")

    @classmethod
    def from_state_dict(cls, sd: Mapping[str, torch.Tensor], source: str = "s3gen") -> S3GenConfig:
        """Read every size from key names and shapes of a flow/mel2wav state dict (official names)."""
        def shape(key: str) -> tuple[int, ...]:
            if key in sd:
                return tuple(sd[key].shape)
            for alt in (key.replace("parametrizations.weight.original1", "weight_v"),):
                if alt in sd:
                    return tuple(sd[alt].shape)
            raise CheckpointError(f"{source}: key {key!r} not found (not an S3Gen checkpoint?)")

        def count(prefix: str) -> int:
            pat = re.compile(re.escape(prefix) + r"(\d+)\.")
            idx = {int(m.group(1)) for k in sd for m in [pat.match(k)] if m}
            return max(idx) + 1 if idx else 0

        vocab, d = shape("flow.input_embedding.weight")
        _, spk = shape("flow.spk_embed_affine_layer.weight")
        heads, _ = shape("flow.encoder.encoders.0.self_attn.pos_bias_u")
        ff, _ = shape("flow.encoder.encoders.0.feed_forward.w_1.weight")
        look = shape("flow.encoder.pre_lookahead_layer.conv1.weight")[2] - 1
        up_k = shape("flow.encoder.up_layer.conv.weight")[2]
        enc = EncoderConfig(d_model=d, heads=heads, ff_dim=ff, n_blocks=count("flow.encoder.encoders."),
                            n_up_blocks=count("flow.encoder.up_encoders."), lookahead=look,
                            up_stride=(up_k - 1) // 2)
        p = "flow.decoder.estimator."
        time_dim, in_ch = shape(p + "time_mlp.linear_1.weight")
        ch = shape(p + "down_blocks.0.0.block1.block.0.weight")[0]
        inner = shape(p + "down_blocks.0.1.0.attn1.to_q.weight")[0]
        head_dim = EstimatorConfig.head_dim
        est = EstimatorConfig(in_channels=in_ch, channels=ch, time_dim=time_dim, head_dim=head_dim,
                              heads=max(1, inner // head_dim), n_blocks=count(p + "down_blocks.0.1."),
                              n_mid=count(p + "mid_blocks."),
                              ff_dim=shape(p + "down_blocks.0.1.0.ff.net.0.proj.weight")[0],
                              meanflow=(p + "time_embed_mixer.weight") in sd)
        h = "mel2wav."
        base = shape(h + "conv_pre.parametrizations.weight.original1")[0]
        n_ups = count(h + "ups.")
        ups_k = tuple(shape(f"{h}ups.{i}.parametrizations.weight.original1")[2] for i in range(n_ups))
        n_res = count(h + "resblocks.") // max(1, n_ups)
        res_k = tuple(shape(f"{h}resblocks.{j}.convs1.0.parametrizations.weight.original1")[2] for j in range(n_res))
        src_k = tuple(shape(f"{h}source_resblocks.{i}.convs1.0.parametrizations.weight.original1")[2]
                      for i in range(n_ups))
        n_dil = count(h + "resblocks.0.convs1.")
        n_harm = shape(h + "m_source.l_linear.weight")[1] - 1
        n_fft = shape(h + "conv_post.parametrizations.weight.original1")[0] - 2
        f0_ch = shape(h + "f0_predictor.condnet.0.parametrizations.weight.original1")[0]
        f0_layers = (count(h + "f0_predictor.condnet.") + 1) // 2
        default = HiFTConfig()
        if n_ups != len(default.upsample_rates):
            raise CheckpointError(f"{source}: HiFT has {n_ups} up-sampling stages, expected "
                                  f"{len(default.upsample_rates)}")
        hift = HiFTConfig(base_channels=base, upsample_kernels=ups_k, resblock_kernels=res_k,
                          source_resblock_kernels=src_k, dilations=default.dilations[:n_dil],
                          n_harmonics=n_harm, n_fft=n_fft, f0_channels=f0_ch, f0_layers=f0_layers)
        return cls(vocab=vocab, spk_dim=spk, encoder=enc, estimator=est, hift=hift)
