"""Model commands: `say` (one text to an audio file) and `voice` (a clip to a reusable .voice file).

Both load the model in this process (torch is imported when they run, not when --help is built).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tasks.cli.options import add_engine_options, settings_from

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("say", help="speak one text into an audio file",
                       description="Synthesize TEXT with the voice of CLIP (or the built-in voice) into OUT "
                                   "(.wav, .mp3, .flac or .opus, by its suffix).",
                       epilog='example: tomecast say "Call me Ishmael." --voice narrator.wav -o ishmael.wav')
    p.add_argument("text")
    p.add_argument("-o", "--output", required=True, help="output audio file")
    add_engine_options(p, stitching=False)
    p.set_defaults(func=cmd_say)

    p = sub.add_parser("voice", help="prepare a voice clip once, reuse it as a .voice file",
                       description="Compute the voice conditioning of CLIP (5-20 s of clean speech; wav, flac, mp3, "
                                   "m4a) and save it to OUT, to pass as --voice to convert, submit and say.",
                       epilog="example: tomecast voice narrator.wav -o narrator.voice")
    p.add_argument("clip")
    p.add_argument("-o", "--output", required=True, help="output .voice file")
    p.add_argument("--model", help="Hugging Face repo id or local checkpoint folder (TOMECAST_MODEL)")
    p.add_argument("--revision", help="model revision")
    p.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--dtype", help="float32, bfloat16 or float16")
    p.add_argument("--threads", type=int, help="torch CPU threads (TOMECAST_THREADS)")
    p.set_defaults(func=cmd_voice)


def _voice(speech, voice: str | None):
    from tasks.errors import ClipError

    if voice is None:
        return speech.prepare_voice(None)
    path = Path(voice).expanduser()
    if not path.is_file():
        raise ClipError(f"voice clip {str(path)!r} does not exist or is not a file")
    return speech.load_voice(path) if path.suffix == ".voice" else speech.prepare_voice(path)


def cmd_say(args: argparse.Namespace) -> int:
    from tasks.errors import TaskError
    from tasks.stitch import CODECS, encode_chapter
    from tasks.store import chunk_seed, write_wav
    from text_prep.types import speech_key
    from worker.engine import Engine

    text = args.text.strip()
    if not text:
        raise TaskError("nothing to say: the text is empty")
    out = Path(args.output)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in CODECS:
        raise TaskError(f"output {str(out)!r}: the suffix must be one of {', '.join('.' + c for c in CODECS)}")
    settings = settings_from(args)
    speech = Engine(settings).speech()
    voice = _voice(speech, settings.voice)
    seed = chunk_seed(settings.seed, speech_key(text))
    (audio,) = speech.synthesize([text], voice, settings.sampling.to_dict(), [seed])
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

    settings = settings_from(args)
    speech = Engine(settings).speech(purpose="voice")  # only the voice networks, not T3/S3Gen
    voice = _voice(speech, args.clip)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    voice.save(out)
    print(f"{out} (voice {voice.key})")
    return 0
