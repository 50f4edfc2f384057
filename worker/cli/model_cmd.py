"""Model commands: `say` (one text to an audio file) and `voice` (a clip to a reusable .voice file).

Both load the model in this process (torch is imported when they run, not when --help is built).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from worker.cli.options import (
    CLIP_HELP,
    add_engine_options,
    add_model_options,
    add_sampling_options,
    add_voice_options,
    add_watermark_options,
    settings_from,
)

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("say", help="speak one text into an audio file",
                       description="Synthesize TEXT with the voice of CLIP (or the built-in voice) into OUT "
                                   "(.wav, .mp3, .flac or .opus, by its suffix).",
                       epilog='example: tomecast say "Call me Ishmael." --voice narrator.wav -o ishmael.wav')
    p.add_argument("text")
    p.add_argument("-o", "--output", required=True, help="output audio file")
    add_voice_options(p)
    add_model_options(p)
    add_engine_options(p)
    add_watermark_options(p)
    add_sampling_options(p)
    p.set_defaults(func=cmd_say)

    p = sub.add_parser("voice", help="prepare a voice clip once, reuse it as a .voice file",
                       description=f"Compute the voice conditioning of CLIP ({CLIP_HELP}) and save it to OUT, "
                                   "to pass as --voice to convert, submit and say. Only the voice networks load.",
                       epilog="example: tomecast voice narrator.wav -o narrator.voice")
    p.add_argument("clip")
    p.add_argument("-o", "--output", required=True, help="output .voice file")
    add_model_options(p)
    add_engine_options(p)
    add_watermark_options(p, help="accepted for symmetry; a voice file holds no audio, so it is never watermarked")
    p.set_defaults(func=cmd_voice)


def _voice_path(voice: str | None) -> Path | None:
    """The voice file, checked before any model loads (ffmpeg must read a clip); None: the built-in voice."""
    from pipeline.clips import probe_sample_rate
    from pipeline.errors import ClipError

    if voice is None:
        return None
    path = Path(voice).expanduser()
    if not path.is_file():
        raise ClipError(f"voice clip {str(path)!r} does not exist or is not a file")
    if path.suffix != ".voice":
        probe_sample_rate(path)
    return path


def _voice(speech, path: Path | None):
    if path is None:
        return speech.prepare_voice(None)
    return speech.load_voice(path) if path.suffix == ".voice" else speech.prepare_voice(path)


def cmd_say(args: argparse.Namespace) -> int:
    from pipeline.errors import PipelineError
    from pipeline.files import write_wav
    from pipeline.keys import chunk_seed
    from pipeline.stitch import CODECS, encode_chapter
    from text_prep.types import speech_key
    from worker.engine import Engine

    text = args.text.strip()
    if not text:
        raise PipelineError("nothing to say: the text is empty")
    out = Path(args.output)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in CODECS:
        raise PipelineError(f"output {str(out)!r}: the suffix must be one of {', '.join('.' + c for c in CODECS)}")
    settings = settings_from(args)
    voice_path = _voice_path(settings.voice)
    speech = Engine(settings).speech()
    voice = _voice(speech, voice_path)
    seed = chunk_seed(settings.seed, speech_key(text))
    (audio,) = speech.synthesize([text], voice, settings.sampling, [seed])
    if fmt == "wav":
        write_wav(out, audio, speech.sample_rate)
    else:
        with tempfile.TemporaryDirectory(prefix="tomecast-say-") as tmp:
            wav = write_wav(Path(tmp) / "say.wav", audio, speech.sample_rate)
            encode_chapter(wav, out, fmt, "64k", {"title": text[:80]})
    print(out)
    return 0


def cmd_voice(args: argparse.Namespace) -> int:
    from worker.engine import Engine

    clip = _voice_path(args.clip)
    settings = settings_from(args).override(watermark=False)   # no audio made: no watermarker, no warning
    speech = Engine(settings).speech(purpose="voice")  # only the voice networks, not T3/S3Gen
    voice = _voice(speech, clip)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    voice.save(out)
    print(f"{out} (voice {voice.key})")
    return 0
