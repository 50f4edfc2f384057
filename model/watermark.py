"""Optional Perth watermark (``resemble-perth``, the ``watermark`` extra), applied on the CPU like the official path.

resemble-perth 1.0.1 finds its weights through ``pkg_resources``; where that is missing its import guard
leaves ``PerthImplicitWatermarker = None``. Then, and where the package is absent, watermarking is off
with one warning rather than a crash.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


class Watermarker:
    def __init__(self, impl) -> None:
        self._impl = impl

    @classmethod
    def create(cls) -> Watermarker | None:
        """The Perth implicit watermarker, or None (with a warning) when it cannot be used here."""
        try:
            import perth  # type: ignore[import-not-found]
        except ImportError:
            log.warning("resemble-perth is not installed: audio is not watermarked "
                        "(pip install 'tomecast[watermark]', or pass --no-watermark to silence this)")
            return None
        impl_cls = getattr(perth, "PerthImplicitWatermarker", None)
        if impl_cls is None:
            log.warning("resemble-perth cannot load its model here (pkg_resources missing?): audio is not watermarked")
            return None
        return cls(impl_cls())

    def apply(self, wav: np.ndarray, sample_rate: int) -> np.ndarray:
        out = self._impl.apply_watermark(wav, sample_rate=sample_rate)
        return np.asarray(out, dtype=np.float32).reshape(-1)
