"""Stitcher on real speech with real ffmpeg: exact lengths, room tone at the chapter ends, loudness, formats, M4B,
delivered true peaks, memory."""

from __future__ import annotations

import numpy as np
import pytest
from pydub import AudioSegment

from pipeline.errors import SpecError, StitchError
from pipeline.files import read_wav, write_wav
from pipeline.stitch import (
    Stitching,
    encode_chapter,
    measure_loudness,
    prepare_piece,
    probe,
    read_pcm,
    stitch_master,
    write_m4b,
)
from qa.acx import HEAD_TONE, TAIL_TONE
from qa.report import BookReport, ChapterRecord

RATE = 24000


@pytest.fixture(scope="module")
def speech_chunks(tmp_path_factory, request):
    """The two LJ Speech clips at 24 kHz, each with extra silence of different lengths at both ends."""
    shared = request.getfixturevalue("shared_dir")
    folder = tmp_path_factory.mktemp("chunks")
    out = []
    for i, name in enumerate(("LJ001-0001.wav", "LJ001-0003.wav")):
        seg = AudioSegment.from_wav(str(shared / "voices" / name)).set_frame_rate(RATE).set_channels(1)
        seg = AudioSegment.silent(200 + 300 * i, RATE) + seg + AudioSegment.silent(500 - 150 * i, RATE)
        path = folder / f"c{i}.wav"
        seg.export(str(path), format="wav")
        out.append(path)
    return out


def test_prepare_piece_trims_edges_to_the_same_length(speech_chunks):
    st = Stitching()
    for path in speech_chunks:
        pcm, rate = read_pcm(path)
        samples = prepare_piece(pcm, rate, st)
        edge = int(st.edge_ms * RATE / 1000)
        assert rate == RATE and samples.dtype == np.int16
        assert not samples[:edge].any() and not samples[-edge:].any()
        # right after the edge there is sound (the original leading silence is gone)
        assert np.abs(samples[edge: edge + int(0.2 * RATE)]).max() > 300
        assert len(samples) < len(pcm) - 0.4 * RATE


def test_chapter_length_is_head_pieces_pauses_tail_and_loudness_meets_target(speech_chunks, tmp_path):
    st = Stitching()
    pauses = [st.pauses_ms["sentence"], st.pauses_ms["chapter"]]
    master = stitch_master(speech_chunks, pauses, st, tmp_path / "m.wav")
    pieces = [prepare_piece(*read_pcm(p), st) for p in speech_chunks]
    edge = st.edge_ms * RATE // 1000
    # the head replaces the first chunk's leading edge; the tail its last trailing edge and the chapter pause
    expected = (st.head_ms * RATE // 1000 + sum(len(p) for p in pieces) - 2 * edge + pauses[0] * RATE // 1000
                + st.tail_ms * RATE // 1000)
    audio, rate = read_wav(master.path)
    assert rate == RATE and len(audio) == expected == master.frames
    assert master.offsets[0] == st.head_ms / 1000
    first = st.head_ms * RATE // 1000 + len(pieces[0]) - edge   # the first chunk as it lies in the chapter
    assert master.offsets[1] == pytest.approx((first + pauses[0] * RATE // 1000 + edge) / RATE)
    assert not audio[: st.head_ms * RATE // 1000].any() and not audio[-st.tail_ms * RATE // 1000:].any()
    assert np.abs(audio[st.head_ms * RATE // 1000: (st.head_ms + 100) * RATE // 1000]).max() > 0.01
    lufs, peak = measure_loudness(master.path)
    # either at the loudness target, or held down by the true-peak ceiling
    assert peak <= st.true_peak_db + 0.3
    assert abs(lufs - st.loudness_lufs) < 1.0 or abs(peak - st.true_peak_db) < 0.3
    again = stitch_master(speech_chunks, pauses, st, tmp_path / "m2.wav")
    assert (tmp_path / "m2.wav").read_bytes() == master.path.read_bytes() and again.gain_db == master.gain_db


def test_quiet_chapter_is_brought_up_to_target(tmp_path):
    st = Stitching()
    t = np.arange(RATE * 4) / RATE
    tone = 0.01 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 1.5 * t))
    path = write_wav(tmp_path / "quiet.wav", tone, RATE)
    master = stitch_master([path], [350], st, tmp_path / "m.wav")
    lufs, peak = measure_loudness(master.path)
    assert master.gain_db > 10
    assert abs(lufs - st.loudness_lufs) < 1.0 and peak <= st.true_peak_db + 0.3


@pytest.mark.parametrize("fmt", ["mp3", "flac", "opus"])
def test_encode_formats_keep_duration_and_tags(speech_chunks, tmp_path, fmt):
    master = stitch_master(speech_chunks, [350, 800], Stitching(), tmp_path / "m.wav")
    out = encode_chapter(master.path, tmp_path / f"ch.{fmt}", fmt, "64k", {"title": "Chapter One", "track": "1/3"})
    info = probe(out)
    assert abs(float(info["format"]["duration"]) - master.duration) < 0.08
    tags = {k.lower(): v for k, v in info["format"].get("tags", {}).items()}
    tags.update({k.lower(): v for k, v in info["streams"][0].get("tags", {}).items()})
    assert tags["title"] == "Chapter One"


def test_m4b_has_chapter_markers_tags_and_cover(speech_chunks, tmp_path):
    st = Stitching()
    masters = [stitch_master(speech_chunks[:1 + i % 2], [350, 2000][: 1 + i % 2], st, tmp_path / f"m{i}.wav")
               for i in range(3)]
    cover = tmp_path / "cover.png"
    _write_png(cover)
    titles = ["Chapter I. Her Twelfth Birthday", "Chapter II; = odd # title", "Chapter III"]
    out = write_m4b(masters, titles, tmp_path / "book.m4b", title="A Book", author="An Author", language="en",
                    cover=cover)
    info = probe(out)
    chapters = info["chapters"]
    assert [c["tags"]["title"] for c in chapters] == titles
    start = 0.0
    for c, m in zip(chapters, masters, strict=True):
        assert abs(float(c["start_time"]) - start) < 0.001
        assert abs(float(c["end_time"]) - float(c["start_time"]) - m.duration) < 0.001
        start += m.duration
    assert abs(float(info["format"]["duration"]) - start) < 0.1
    assert info["format"]["tags"]["title"] == "A Book" and info["format"]["tags"]["artist"] == "An Author"
    audio = [s for s in info["streams"] if s["codec_type"] == "audio"][0]
    assert audio["codec_name"] == "aac" and audio["tags"]["language"] == "eng"
    assert any(s.get("disposition", {}).get("attached_pic") == 1 for s in info["streams"])


def test_mismatched_inputs_are_errors(speech_chunks, tmp_path):
    with pytest.raises(StitchError, match="2 chunks but 1 pauses"):
        stitch_master(speech_chunks, [350], Stitching(), tmp_path / "x.wav")
    with pytest.raises(StitchError, match="output format 'ogg'"):
        encode_chapter(speech_chunks[0], tmp_path / "x.ogg", "ogg", "64k", {})


def _write_png(path) -> None:
    """A 2x2 red PNG (zlib + crc by hand, no imaging library needed)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    path.write_bytes(png)


SENTENCES = ["It was a cold and windy morning when Holmes came down to breakfast, his pipe already lit.",
             "Sherlock Holmes took his bottle from the corner of the mantelpiece!",
             "Is there any point to which you would wish to draw my attention? To the curious incident of the dog."]


@pytest.fixture(scope="module")
def real_speech_chunks(speech_chunks, tmp_path_factory):
    """LJ Speech clips and espeak-ng sentences (when installed), as 24 kHz chunk WAVs."""
    import shutil
    import subprocess

    folder = tmp_path_factory.mktemp("speech")
    out = list(speech_chunks)
    if shutil.which("espeak-ng"):
        for i, text in enumerate(SENTENCES):
            raw, wav = folder / f"e{i}-22k.wav", folder / f"e{i}.wav"
            subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(raw), text], check=True)
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(raw), "-ar", str(RATE), "-ac", "1", str(wav)],
                           check=True)
            out.append(wav)
    return out


@pytest.mark.parametrize("source", ["lj", "espeak"])
def test_delivered_files_stay_under_the_ceiling_near_the_target(real_speech_chunks, tmp_path, source):
    """The promise is about the files a listener gets: every encoded format and the M4B are measured."""
    chunks = [p for p in real_speech_chunks if p.name.startswith("e") == (source == "espeak")]
    if not chunks:
        pytest.skip("espeak-ng is not installed")
    st = Stitching()
    master = stitch_master(chunks * 2, [350] * (2 * len(chunks)), st, tmp_path / "m.wav")
    delivered = {"wav": master.path}
    for fmt in ("mp3", "opus", "flac"):
        delivered[fmt] = encode_chapter(master.path, tmp_path / f"ch.{fmt}", fmt, "64k", {},
                                        true_peak_db=st.true_peak_db)
    delivered["m4b"] = write_m4b([master, master], ["One", "Two"], tmp_path / "b.m4b", title="B", author="A",
                                 language="en", true_peak_db=st.true_peak_db)
    measured = {fmt: measure_loudness(path) for fmt, path in delivered.items()}
    for fmt, (lufs, peak) in measured.items():
        assert peak <= st.true_peak_db, (fmt, measured)
        assert abs(lufs - st.loudness_lufs) <= 1.5, (fmt, measured)


@pytest.mark.parametrize("source", ["lj", "espeak"])
def test_delivered_chapter_has_acx_room_tone_at_both_ends(real_speech_chunks, tmp_path, source):
    """Chunks that came with 0.2-0.5 s (LJ, padded) or ~0 s (espeak) of their own silence: the chapter file still
    opens with 0.75 s and closes with 2 s of room tone as ACX measures it, and the report says it passes."""
    chunks = [p for p in real_speech_chunks if p.name.startswith("e") == (source == "espeak")]
    if not chunks:
        pytest.skip("espeak-ng is not installed")
    st = Stitching()
    master = stitch_master(chunks * 2, [350] * (2 * len(chunks)), st, tmp_path / "m.wav")
    mp3 = encode_chapter(master.path, tmp_path / "01 One.mp3", "mp3", "64k", {}, true_peak_db=st.true_peak_db)
    rec = ChapterRecord.measure(0, "One", mp3)
    a = rec.acx
    assert HEAD_TONE[0] <= a.head_tone <= HEAD_TONE[1] and a.head_tone == pytest.approx(st.head_ms / 1000, abs=0.03)
    assert TAIL_TONE[0] <= a.tail_tone <= TAIL_TONE[1] and a.tail_tone == pytest.approx(st.tail_ms / 1000, abs=0.03)
    # room tone is digital silence: ACX's noise floor (quietest 0.5 s) is far under -60 dB, not flagged
    assert a.noise_floor_db < -90 and a.peak_db <= st.true_peak_db
    assert not any("room tone" in r or "noise floor" in r for r in a.reasons), a.reasons
    lufs, _ = measure_loudness(mp3)   # as in the test above: the mp3's 8 kHz cutoff costs peaky espeak ~0.5 LU
    assert abs(lufs - st.loudness_lufs) <= 1.5
    md = BookReport("B", "A", (), (rec,), None).summary()
    assert (f"| 1 One | {a.rms_db:.1f} | {a.peak_db:.1f} | {a.noise_floor_db:.1f} | {a.head_tone:.2f} | "
            f"{a.tail_tone:.2f} | {'pass' if a.passed else '; '.join(a.reasons)} |") in md
    assert a.passed and "ACX: 1 of 1 chapters pass (1)." in md, a.reasons


@pytest.mark.parametrize(("head_ms", "tail_ms"), [(500, 1000), (1000, 5000), (0, 0)])
def test_head_and_tail_are_padded_to_their_targets(speech_chunks, tmp_path, head_ms, tail_ms):
    """Whatever silence the chunks bring (200-500 ms here), the chapter's ends are exactly the targets."""
    st = Stitching(head_ms=head_ms, tail_ms=tail_ms)
    master = stitch_master(speech_chunks, [350, 2000], st, tmp_path / "m.wav")
    audio, rate = read_wav(master.path)
    sound = np.flatnonzero(np.abs(audio) > 0)
    fade = st.fade_ms * RATE // 1000   # a fade's first samples round to zero
    assert 0 <= sound[0] - head_ms * RATE // 1000 < fade
    assert 0 <= len(audio) - 1 - sound[-1] - tail_ms * RATE // 1000 < fade
    assert master.offsets[0] == head_ms / 1000


@pytest.mark.parametrize(("field", "value"), [("head_ms", -1), ("tail_ms", 10_001)])
def test_room_tone_out_of_range_is_refused(field, value):
    with pytest.raises(SpecError, match=f"{field[:4]} room tone of {value} ms"):
        Stitching(**{field: value})


def test_an_encode_over_the_ceiling_is_encoded_again_quieter(speech_chunks, tmp_path):
    master = stitch_master(speech_chunks, [350, 350], Stitching(), tmp_path / "m.wav")
    hot = measure_loudness(master.path).true_peak
    out = encode_chapter(master.path, tmp_path / "c.opus", "opus", "64k", {}, true_peak_db=hot - 2.0)
    lufs, peak = measure_loudness(out)
    assert peak <= hot - 2.0 and lufs < measure_loudness(master.path).lufs - 1.5


def test_a_long_chapter_is_stitched_in_bounded_memory(tmp_path):
    """Ten minutes of chunks: the stitcher never holds the chapter (28.8 MB as 16-bit) or a copy of it."""
    import tracemalloc

    rng = np.random.default_rng(1)
    t = np.arange(RATE * 20) / RATE
    chunks = []
    for i in range(3):
        x = (0.1 * rng.standard_normal(len(t)) + 0.2 * np.sin(2 * np.pi * 140 * t)) \
            * np.clip(np.sin(2 * np.pi * 4 * t), 0, None)
        chunks.append(write_wav(tmp_path / f"c{i}.wav", x.astype(np.float32), RATE))
    wavs = [chunks[i % 3] for i in range(30)]
    tracemalloc.start()
    try:
        master = stitch_master(wavs, [350] * 30, Stitching(), tmp_path / "m.wav")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    chapter_bytes = master.frames * 2
    assert master.duration > 600 and peak < chapter_bytes / 3, (peak, chapter_bytes)


def test_silent_and_odd_chunks(speech_chunks, tmp_path):
    st = Stitching()
    silent = write_wav(tmp_path / "silent.wav", np.zeros(RATE, np.float32), RATE)
    empty = write_wav(tmp_path / "empty.wav", np.zeros(0, np.float32), RATE)
    edge = int(st.edge_ms * RATE / 1000)
    assert len(prepare_piece(*read_pcm(silent), st)) == 2 * edge == len(prepare_piece(*read_pcm(empty), st))
    master = stitch_master([speech_chunks[0], silent, empty], [350, 350, 800], st, tmp_path / "m.wav")
    speech = len(prepare_piece(*read_pcm(speech_chunks[0]), st))
    assert master.frames == speech + 2 * edge + (st.head_ms + 350 + 350 + st.tail_ms) * RATE // 1000
    other_rate = write_wav(tmp_path / "16k.wav", np.zeros(16000, np.float32), 16000)
    with pytest.raises(StitchError, match="16000 Hz"):
        stitch_master([speech_chunks[0], other_rate], [350, 350], st, tmp_path / "x.wav")
    assert not list(tmp_path.glob(".x.wav*"))   # nothing half-written left behind
