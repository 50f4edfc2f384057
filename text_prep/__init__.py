"""text_prep: a manuscript file becomes a lossless, ordered plan of synthesis chunks.

Never imports torch (checked by tests/test_layers.py).
"""
