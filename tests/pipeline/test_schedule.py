"""What a job still needs, from its manifest, and what is left when live tasks are taken away."""

from __future__ import annotations

import pytest

from pipeline.manifest import ChapterEntry, ChunkEntry, Manifest, chunk_id
from pipeline.schedule import Step, StepKind, next_resends, remaining, uncovered
from pipeline.states import ChapterState, ChunkState, JobState
from pipeline.store import Store

S, ST, A, P = StepKind.SYNTHESIZE, StepKind.STITCH, StepKind.ASSEMBLE, StepKind.PREPARE


def job_with(store: Store, chunk_states: list[list[str]], chapter_states: list[str] | None = None,
             state: JobState = JobState.SYNTHESIZING) -> str:
    job_id, _ = store.new_job()
    (store.job_dir(job_id) / "job.json").write_text("{}")
    store.update_state(job_id, state=state)
    chapters, chunks = [], []
    for ci, states in enumerate(chunk_states):
        chapters.append(ChapterEntry(ci, f"ch{ci}", len(states),
                                     (chapter_states or ["pending"] * len(chunk_states))[ci]))
        chunks += [ChunkEntry(chunk_id(ci, p), ci, p, "k", f"c{ci}{p}", 0, s) for p, s in enumerate(states)]
    store.write_manifest(Manifest(job_id, "m", "v", 24000, tuple(chapters), tuple(chunks)))
    return job_id


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path).ensure()


def test_remaining_lists_pending_chunks_in_units_then_stitches_then_assembly(store):
    job = job_with(store, [["done", "pending", "pending", "pending"], ["done", "failed"], ["done"]],
                   ["pending", "pending", "done"])
    assert remaining(store, job, 2) == [Step(S, 0, (1, 2)), Step(S, 0, (3,)), Step(ST, 1)]
    done = job_with(store, [["done"], ["failed"]], ["done", "failed"])
    assert remaining(store, done, 2) == [Step(A)]


def test_a_finished_job_needs_nothing_and_an_unprepared_one_needs_prepare(store):
    assert remaining(store, job_with(store, [["done"]], state=JobState.DONE), 4) == []
    job_id, _ = store.new_job()
    store.update_state(job_id, state=JobState.QUEUED)
    assert remaining(store, job_id, 4) == [Step(P)]


def test_uncovered_takes_away_exactly_what_live_tasks_do():
    needed = [Step(S, 0, (0, 1, 2, 3)), Step(S, 1, (0, 1)), Step(ST, 2)]
    live = [Step(S, 0, (1, 2)), Step(ST, 2)]
    assert uncovered(needed, live, 4) == [Step(S, 0, (0, 3)), Step(S, 1, (0, 1))]
    assert uncovered(needed, [Step(P)], 4) == []
    assert uncovered([Step(A)], [Step(ST, 3)], 4) == [] and uncovered([Step(A)], [], 4) == [Step(A)]
    assert uncovered([Step(ST, 1)], [Step(S, 1, (4,))], 4) == []   # its last synthesize queues it


def test_steps_round_trip_and_have_file_safe_names():
    s = Step(S, 3, (4, 5, 6))
    assert Step.from_dict(s.to_dict()) == s and s.name == "synthesize-3-4-6"
    assert Step(A).name == "assemble_book" and ChapterState.PENDING == "pending" and ChunkState.DONE == "done"


def test_resends_count_up_while_the_manifest_stands_still_and_restart_when_it_moves():
    S = StepKind.SYNTHESIZE
    needed = [Step(S, 0, (1, 2)), Step(StepKind.STITCH, 1)]
    first = next_resends(None, needed)
    assert first.count == 1
    again = next_resends(next_resends(first, needed), needed)
    assert again.count == 3
    moved = next_resends(again, [Step(S, 0, (2,)), Step(StepKind.STITCH, 1)])   # chunk 1 got made
    assert moved.count == 1 and moved.progress != again.progress


C = StepKind.CHECK


def test_unchecked_chunks_need_checks_and_hold_back_their_chapters_stitch(store):
    job = job_with(store, [["done", "unchecked", "unchecked", "pending"], ["unchecked", "done"], ["done", "done"]])
    assert remaining(store, job, 2) == [Step(S, 0, (3,)), Step(C, 0, (1, 2)), Step(C, 1, (0,)), Step(ST, 2)]
    checked = job_with(store, [["done", "done"]])
    assert remaining(store, checked, 2) == [Step(ST, 0)]
    assert remaining(store, job_with(store, [["unchecked"] * 3]), 2) == [Step(C, 0, (0, 1)), Step(C, 0, (2,))]


def test_a_live_check_covers_its_positions_for_both_kinds_and_its_chapters_stitch():
    needed = [Step(S, 0, (0, 3)), Step(C, 0, (1, 2, 4)), Step(C, 1, (0,)), Step(ST, 2)]
    # a synthesize leaves its chunks unchecked and dispatches their check; a check sends back the ones that need
    # new takes and dispatches their synthesize
    assert uncovered(needed, [Step(S, 0, (1, 2)), Step(C, 0, (3,))], 4) == [Step(S, 0, (0,)), Step(C, 0, (4,)),
                                                                           Step(C, 1, (0,)), Step(ST, 2)]
    assert uncovered([Step(ST, 1)], [Step(C, 1, (0,))], 4) == []   # the last check of a chapter queues its stitch
    assert uncovered([Step(ST, 1)], [Step(C, 0, (0,))], 4) == [Step(ST, 1)]
    assert uncovered([Step(A)], [Step(C, 3, (1,))], 4) == []
    assert uncovered([Step(C, 0, (1, 2))], [Step(P)], 4) == []
    assert Step(C, 2, (4, 7)).name == "check_chunks-2-4-7" and Step.from_dict(Step(C, 2, (4, 7)).to_dict()) == \
        Step(C, 2, (4, 7))
