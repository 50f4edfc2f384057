"""Optional Perth watermark (``resemble-perth``, the ``watermark`` extra), applied on the CPU like the official path.

What resemble-perth 1.0.1 needs at run time (it declares no dependencies): ``librosa`` (resampling to its
32 kHz) with ``scipy``, ``pyyaml``, ``pkg_resources`` (setuptools < 81, to find its packaged weights) and, from
torchaudio, only three STFT modules (``torchaudio.transforms.Spectrogram``, ``InverseSpectrogram``,
``TimeStretch``; the last is built, never run).
PyPI has no torchaudio for every torch build (none for torch 2.13, and a mismatched torchaudio fails to load its
compiled extension), so where torchaudio cannot be imported, ``_stft_transforms`` provides those three modules as
plain ``torch.stft``/``torch.istft`` wrappers with torchaudio's defaults and buffer names; Perth's weights load
into them strictly and its detector reads back what its embedder wrote (tests/model/test_watermark.py).

``Watermarker.create()`` returns None, with one warning that names what is missing, where Perth cannot be used;
``Watermarker.available()`` says why not (``scripts/install.sh`` prints it after installing the extra).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import math
import sys
import types

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["Watermarker"]

INSTALL_HINT = "scripts/install.sh watermark (or pip install 'tomecast[watermark]')"


def _torchaudio_loads() -> bool:
    if "torchaudio" in sys.modules:
        return getattr(sys.modules["torchaudio"], "_tomecast_stand_in", False) is False
    try:
        importlib.import_module("torchaudio.transforms")
    except Exception:  # noqa: BLE001 - absent, or a build for another torch (its compiled extension fails to load)
        for name in [n for n in sys.modules if n == "torchaudio" or n.startswith("torchaudio.")]:
            del sys.modules[name]
        return False
    return True


def _stft_transforms() -> types.ModuleType:
    """torchaudio.transforms' Spectrogram (complex, power=None), InverseSpectrogram and TimeStretch, as Perth
    builds them: centered, reflect-padded, one-sided, not normalized; the same buffers (``window``,
    ``phase_advance``) so Perth's checkpoint loads strictly."""
    import torch
    from torch import nn

    class Spectrogram(nn.Module):
        def __init__(self, n_fft=400, win_length=None, hop_length=None, pad=0, window_fn=torch.hann_window,
                     power=2.0, normalized=False, center=True, pad_mode="reflect", onesided=True):
            super().__init__()
            if power is not None or normalized or pad:
                raise NotImplementedError("tomecast's Perth stand-in supports only power=None, unnormalized, pad=0")
            self.n_fft, self.win_length = n_fft, win_length or n_fft
            self.hop_length = hop_length or self.win_length // 2
            self.center, self.pad_mode, self.onesided = center, pad_mode, onesided
            self.register_buffer("window", window_fn(self.win_length))

        def forward(self, waveform: torch.Tensor) -> torch.Tensor:
            shape = waveform.shape
            x = waveform.reshape(-1, shape[-1])
            spec = torch.stft(x, self.n_fft, self.hop_length, self.win_length, self.window, center=self.center,
                              pad_mode=self.pad_mode, normalized=False, onesided=self.onesided, return_complex=True)
            return spec.reshape(shape[:-1] + spec.shape[-2:])

    class InverseSpectrogram(nn.Module):
        def __init__(self, n_fft=400, win_length=None, hop_length=None, pad=0, window_fn=torch.hann_window,
                     normalized=False, center=True, pad_mode="reflect", onesided=True):
            super().__init__()
            if normalized or pad:
                raise NotImplementedError("tomecast's Perth stand-in supports only unnormalized, pad=0")
            self.n_fft, self.win_length = n_fft, win_length or n_fft
            self.hop_length = hop_length or self.win_length // 2
            self.center, self.onesided = center, onesided
            self.register_buffer("window", window_fn(self.win_length))

        def forward(self, spectrogram: torch.Tensor, length: int | None = None) -> torch.Tensor:
            shape = spectrogram.shape
            spec = spectrogram.reshape(-1, shape[-2], shape[-1])
            wav = torch.istft(spec, self.n_fft, self.hop_length, self.win_length, self.window, center=self.center,
                              normalized=False, onesided=self.onesided, length=length, return_complex=False)
            return wav.reshape(shape[:-2] + wav.shape[-1:])

    class TimeStretch(nn.Module):
        def __init__(self, hop_length=None, n_freq=201, fixed_rate=None):
            super().__init__()
            hop_length = hop_length if hop_length is not None else n_freq - 1
            self.register_buffer("phase_advance", torch.linspace(0, math.pi * hop_length, n_freq)[..., None])

        def forward(self, *_):  # Perth builds it for training-time augmentation only
            raise NotImplementedError("TimeStretch is not part of tomecast's Perth stand-in")

    mod = types.ModuleType("torchaudio.transforms")
    mod.Spectrogram, mod.InverseSpectrogram, mod.TimeStretch = Spectrogram, InverseSpectrogram, TimeStretch
    return mod


def _install_stand_in() -> None:
    """Make ``import torchaudio.transforms`` give the stand-in (only where the real one cannot load)."""
    pkg = types.ModuleType("torchaudio")
    pkg.__path__ = []
    pkg._tomecast_stand_in = True
    pkg.transforms = _stft_transforms()
    sys.modules["torchaudio"], sys.modules["torchaudio.transforms"] = pkg, pkg.transforms
    log.info("torchaudio cannot be imported here: Perth uses tomecast's torch.stft stand-ins for its 3 modules")


class Watermarker:
    def __init__(self, impl) -> None:
        self._impl = impl

    @staticmethod
    def available() -> str | None:
        """None when Perth can be loaded here, else what is missing (one line, with the fix)."""
        missing = [name for name in ("perth", "librosa", "scipy", "yaml", "pkg_resources")
                   if importlib.util.find_spec(name) is None]
        if missing:
            return f"the watermark needs {', '.join(missing)}: run {INSTALL_HINT}"
        return None

    @classmethod
    def create(cls) -> Watermarker | None:
        """The Perth implicit watermarker, or None (with one warning naming what is missing)."""
        why = cls.available()
        if why is not None:
            log.warning("audio is not watermarked: %s (or pass --no-watermark to silence this)", why)
            return None
        if not _torchaudio_loads():
            _install_stand_in()
        import perth  # type: ignore[import-not-found]

        impl_cls = getattr(perth, "PerthImplicitWatermarker", None)
        if impl_cls is None:  # its import guard swallowed an ImportError: say which
            try:
                importlib.import_module("perth.perth_net.perth_net_implicit.perth_watermarker")
            except ImportError as exc:
                log.warning("audio is not watermarked: resemble-perth cannot load (%s); run %s", exc, INSTALL_HINT)
            return None
        return cls(impl_cls())

    def apply(self, wav: np.ndarray, sample_rate: int) -> np.ndarray:
        out = self._impl.apply_watermark(wav, sample_rate=sample_rate)
        return np.asarray(out, dtype=np.float32).reshape(-1)

    def detect(self, wav: np.ndarray, sample_rate: int) -> float:
        """Fraction of Perth's watermark bits read back as set: ~1 for watermarked audio, ~0 for clean audio."""
        bits = self._impl.get_watermark(np.asarray(wav, dtype=np.float32), sample_rate=sample_rate)
        return float(np.mean(bits))
