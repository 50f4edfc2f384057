"""model.voice: a reference clip -> a reusable ``Voice`` (VoiceEncoder, S3 tokenizer, CAMPPlus, prompt mel).

Knows float waveforms and sample rates, never files: decoding a clip file is ``tasks.clips``' job.
"""

from model.voice.campplus import CAMPPlus
from model.voice.prepare import VoiceModels, prepare_voice, read_voice_keys
from model.voice.s3_tokenizer import S3Tokenizer
from model.voice.voice import Voice
from model.voice.voice_encoder import VoiceEncoder

__all__ = ["CAMPPlus", "S3Tokenizer", "Voice", "VoiceEncoder", "VoiceModels", "prepare_voice", "read_voice_keys"]
