"""worker: the process side of tomecast, on top of every other package.

    settings.py   Settings.from_env(): broker, data folder, model, device, sampling (model.params.SynthesisParams),
                  stitching (pipeline.stitch.Stitching); flags override; job_options() for submitting
    engine.py     the model's lifetime in a process; adapts model.tts.TTS to pipeline.speech.Speech
    app.py        the Celery app (Redis broker, gpu and cpu queues, late acks)
    tasks.py      thin Celery tasks "tomecast.*" over pipeline.steps
    run.py        start a Celery worker (tomecast worker, python -m worker)
    cli/          the tomecast command line (python -m worker.cli)

May import pipeline, model, text_prep, Celery; nothing imports worker. Building the CLI parser and submitting
a job never import torch (tests/test_layers.py).
"""
