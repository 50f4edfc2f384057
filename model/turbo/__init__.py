"""model.turbo: Chatterbox-Turbo (GPT-2 T3 without CFG, meanflow S3Gen) on our own code.

Layers, bottom up: ``config`` -> ``gpt2`` -> ``t3`` -> ``sampling`` -> ``generate`` (static KV cache, batched
ragged decoding, CUDA-graph step); ``tags`` and ``tokenizer`` (text front end); ``loudness`` -> ``voice``
(reference clip -> Voice); ``checkpoint`` (files and variant detection); ``tts`` (the ``TurboTTS`` facade).
S3Gen, the voice networks, the KV cache and weight loading are the shared ones of ``model``.
"""
