"""CAMPPlus: the 192-d x-vector S3Gen is conditioned on (§5.5).

Input: Kaldi fbank (80 bins, mean-normalised over time) of 16 kHz audio. Network: a 2-D conv front end
(FCM: conv, two residual stages that halve frequency, a stride-2 conv; 80 bins -> 10) flattened to
channels, a stride-2 TDNN, three densely connected CAM blocks (context-aware masking from the utterance
mean plus 100-frame segment means) with transition layers, BN-ReLU, mean+std statistics pooling and a
1x1 projection with an affine-free BatchNorm. BatchNorms run on their running statistics.

Dimensions: B batch, T frames, C channels, Fq frequency rows. Key names are the ``speaker_encoder.*`` keys
of ``s3gen.safetensors`` without their prefix; block depths and widths are read from the checkpoint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from model.voice.fbank import campplus_features
from model.weights import load_strict

N_MELS = 80
SEGMENT = 100
DILATIONS = (1, 2, 2)


@dataclass(frozen=True)
class CAMPPlusConfig:
    m_channels: int = 32
    init_channels: int = 128
    growth: int = 32
    bottleneck: int = 128
    block_layers: tuple[int, ...] = (12, 24, 16)
    kernel: int = 3
    embedding: int = 192

    @classmethod
    def from_state_dict(cls, sd: dict[str, torch.Tensor]) -> CAMPPlusConfig:
        layers: dict[int, int] = {}
        for k in sd:
            m = re.match(r"xvector\.block(\d+)\.tdnnd(\d+)\.", k)
            if m:
                b, i = int(m.group(1)), int(m.group(2))
                layers[b] = max(layers.get(b, 0), i)
        local = sd["xvector.block1.tdnnd1.cam_layer.linear_local.weight"]
        return cls(m_channels=sd["head.conv1.weight"].shape[0], init_channels=sd["xvector.tdnn.linear.weight"].shape[0],
                   growth=local.shape[0], bottleneck=local.shape[1],
                   block_layers=tuple(layers[b] for b in sorted(layers)), kernel=local.shape[2],
                   embedding=sd["xvector.dense.linear.weight"].shape[0])


def _bn_relu(channels: int) -> nn.Sequential:
    seq = nn.Sequential()
    seq.add_module("batchnorm", nn.BatchNorm1d(channels))
    seq.add_module("relu", nn.ReLU())
    return seq


class ResBlock2d(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=(stride, 1), padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=(stride, 1), bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out)) + self.shortcut(x)
        return F.relu(out)


class FCM(nn.Module):
    """2-D front end: (B, 80, T) -> (B, m * 10, T)."""

    def __init__(self, m: int):
        super().__init__()
        self.conv1 = nn.Conv2d(1, m, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(m)
        self.layer1 = nn.Sequential(ResBlock2d(m, m, 2), ResBlock2d(m, m, 1))
        self.layer2 = nn.Sequential(ResBlock2d(m, m, 2), ResBlock2d(m, m, 1))
        self.conv2 = nn.Conv2d(m, m, 3, stride=(2, 1), padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(m)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x.unsqueeze(1))))                  # (B, m, 80, T)
        out = self.layer2(self.layer1(out))                                  # (B, m, 20, T)
        out = F.relu(self.bn2(self.conv2(out)))                              # (B, m, 10, T)
        b, c, fq, t = out.shape
        return out.reshape(b, c * fq, t)


class TDNN(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int):
        super().__init__()
        self.linear = nn.Conv1d(cin, cout, kernel, stride=stride, padding=(kernel - 1) // 2, bias=False)
        self.nonlinear = _bn_relu(cout)

    def forward(self, x):
        return self.nonlinear(self.linear(x))


class CAMLayer(nn.Module):
    def __init__(self, bottleneck: int, cout: int, kernel: int, dilation: int):
        super().__init__()
        self.linear_local = nn.Conv1d(bottleneck, cout, kernel, padding=(kernel - 1) // 2 * dilation,
                                      dilation=dilation, bias=False)
        self.linear1 = nn.Conv1d(bottleneck, bottleneck // 2, 1)
        self.linear2 = nn.Conv1d(bottleneck // 2, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.linear_local(x)
        t = x.shape[-1]
        seg = F.avg_pool1d(x, kernel_size=SEGMENT, stride=SEGMENT, ceil_mode=True)          # (B, C, ceil(T/100))
        seg = seg.repeat_interleave(SEGMENT, dim=-1)[..., :t]                               # (B, C, T)
        context = x.mean(-1, keepdim=True) + seg
        m = torch.sigmoid(self.linear2(F.relu(self.linear1(context))))
        return y * m


class CAMDenseLayer(nn.Module):
    def __init__(self, cin: int, cout: int, bottleneck: int, kernel: int, dilation: int):
        super().__init__()
        self.nonlinear1 = _bn_relu(cin)
        self.linear1 = nn.Conv1d(cin, bottleneck, 1, bias=False)
        self.nonlinear2 = _bn_relu(bottleneck)
        self.cam_layer = CAMLayer(bottleneck, cout, kernel, dilation)

    def forward(self, x):
        return self.cam_layer(self.nonlinear2(self.linear1(self.nonlinear1(x))))


class CAMDenseBlock(nn.Module):
    def __init__(self, layers: int, cin: int, growth: int, bottleneck: int, kernel: int, dilation: int):
        super().__init__()
        for i in range(layers):
            self.add_module(f"tdnnd{i + 1}", CAMDenseLayer(cin + i * growth, growth, bottleneck, kernel, dilation))

    def forward(self, x):
        for layer in self.children():
            x = torch.cat([x, layer(x)], dim=1)
        return x


class Transit(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.nonlinear = _bn_relu(cin)
        self.linear = nn.Conv1d(cin, cout, 1, bias=False)

    def forward(self, x):
        return self.linear(self.nonlinear(x))


class Dense(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.linear = nn.Conv1d(cin, cout, 1, bias=False)
        self.nonlinear = nn.Sequential()
        self.nonlinear.add_module("batchnorm", nn.BatchNorm1d(cout, affine=False))

    def forward(self, x):                                                    # (B, C) -> (B, E)
        return self.nonlinear(self.linear(x.unsqueeze(-1)).squeeze(-1))


class CAMPPlus(nn.Module):
    """``xvector(wav16)`` -> (1, 192); ``forward(feats (B, T, 80))`` -> (B, 192)."""

    def __init__(self, cfg: CAMPPlusConfig = CAMPPlusConfig()):
        super().__init__()
        self.cfg = cfg
        self.head = FCM(cfg.m_channels)
        xv = nn.Module()
        xv.add_module("tdnn", TDNN(cfg.m_channels * (N_MELS // 8), cfg.init_channels, 5, 2))
        c = cfg.init_channels
        for i, n in enumerate(cfg.block_layers):
            xv.add_module(f"block{i + 1}", CAMDenseBlock(n, c, cfg.growth, cfg.bottleneck, cfg.kernel,
                                                         DILATIONS[i] if i < len(DILATIONS) else 2))
            c += n * cfg.growth
            xv.add_module(f"transit{i + 1}", Transit(c, c // 2))
            c //= 2
        xv.add_module("out_nonlinear", _bn_relu(c))
        xv.add_module("dense", Dense(2 * c, cfg.embedding))
        self.xvector = xv

    @classmethod
    def from_state_dict(cls, sd: dict[str, torch.Tensor], source: str = "s3gen.safetensors") -> CAMPPlus:
        model = cls(CAMPPlusConfig.from_state_dict(sd))
        load_strict(model, sd, source=source)
        return model.eval()

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        x = self.head(feats.permute(0, 2, 1))                               # (B, m*10, T)
        xv = self.xvector
        x = xv.tdnn(x)
        for i in range(len(self.cfg.block_layers)):
            x = getattr(xv, f"transit{i + 1}")(getattr(xv, f"block{i + 1}")(x))
        x = xv.out_nonlinear(x)
        stats = torch.cat([x.mean(dim=-1), x.std(dim=-1, unbiased=True)], dim=-1)   # (B, 2C)
        return xv.dense(stats)

    @torch.inference_mode()
    def xvector_of(self, wav16: torch.Tensor) -> torch.Tensor:
        """(L,) float 16 kHz -> (1, 192) x-vector."""
        dtype = self.head.conv1.weight.dtype
        feats = campplus_features(wav16.float().to(self.head.conv1.weight.device))
        return self(feats[None].to(dtype)).float()
