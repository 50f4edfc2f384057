"""engines: speech engines other than Chatterbox, behind the pipeline's ``Speech`` protocol.

``espeak`` speaks real words with espeak-ng (tests, proof-listening drafts); ``faults`` wraps any engine and
plants the failures QA must catch. Layering: imports numpy, stdlib and ``qa`` (for ``Take``); never model, tasks,
pipeline, worker, celery or torch.
"""

from engines.errors import EngineError, EspeakUnavailableError
from engines.espeak import EspeakEngine, EspeakSpeech, EspeakVoice, espeak_available
from engines.faults import Fault, FaultySpeech, Planted, plant

__all__ = [
    "EngineError",
    "EspeakEngine",
    "EspeakSpeech",
    "EspeakUnavailableError",
    "EspeakVoice",
    "Fault",
    "FaultySpeech",
    "Planted",
    "espeak_available",
    "plant",
]
