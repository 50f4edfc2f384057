"""worker: processes, devices and the model's lifetime (settings, engine per process, worker entry)."""
