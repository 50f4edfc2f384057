"""Fixtures of the engines tests: espeak-ng speech (skips clearly when espeak-ng is not installed)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def espeak():
    from engines.espeak import EspeakSpeech, espeak_available

    if not espeak_available():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    return EspeakSpeech()
