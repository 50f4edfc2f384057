"""Leases: a running step is seen live while its heartbeat thread touches the file, dead once it stops, and gone
when the step ends; a lease that cannot be written never fails the step."""

from __future__ import annotations

import os
import time

from pipeline.leases import Lease, drop_stale, live_steps
from pipeline.schedule import Step, StepKind
from pipeline.store import Store


def test_a_lease_beats_while_its_step_runs_and_is_removed_after(tmp_path):
    store = Store(tmp_path).ensure()
    job_id, _ = store.new_job()
    step = Step(StepKind.SYNTHESIZE, 1, (4, 5))
    with Lease(store, job_id, step, interval=0.05) as lease:
        old = time.time() - 100
        os.utime(lease.path, (old, old))
        time.sleep(0.3)                                      # the heartbeat thread touches it again
        assert live_steps(store, job_id, stale_s=1) == [step]
        assert store.last_activity(job_id) > time.time() - 1
    assert live_steps(store, job_id, stale_s=1) == [] and not lease.path.exists()


def test_a_dead_workers_lease_goes_stale_and_is_dropped(tmp_path):
    store = Store(tmp_path).ensure()
    job_id, _ = store.new_job()
    lease = Lease(store, job_id, Step(StepKind.STITCH, 2), interval=10)
    lease.__enter__()
    lease._stop.set()                                        # as if the process died: no more heartbeats
    old = time.time() - 100
    os.utime(lease.path, (old, old))
    assert live_steps(store, job_id, stale_s=60) == []
    assert drop_stale(store, job_id, 60) == 1 and not lease.path.exists()


def test_an_unwritable_lease_does_not_fail_the_step(tmp_path, caplog):
    store = Store(tmp_path).ensure()
    job_id, _ = store.new_job()
    (store.job_dir(job_id) / "leases").write_text("a file where the folder should be")
    with Lease(store, job_id, Step(StepKind.ASSEMBLE), interval=0.05):
        pass
    assert "cannot write lease" in caplog.text
