"""model: our own Chatterbox inference (T3, S3Gen, voice conditioning).

Knows tensors, token ids and checkpoint folders; nothing of books, chapters, jobs or Celery.
"""
