"""tasks: orchestration of book jobs (plain pipeline functions, thin Celery tasks, store, stitcher, CLI).

Importing tasks (and submitting a job) must not import torch.
"""
