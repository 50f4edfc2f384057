"""The chunk cache is verified before reuse: truncated, empty, altered and header-inconsistent entries are found,
discarded and named in the log; whole entries (and old ones without a sum) are kept."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from pipeline.store import Store

KEY = "ab" + "0" * 30


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "data").ensure()


def tone(seconds: float = 1.0) -> np.ndarray:
    return (0.3 * np.sin(np.linspace(0, 2000, int(24000 * seconds)))).astype(np.float32)


def test_a_written_chunk_has_its_size_and_hash_and_is_accepted(store):
    path = store.write_chunk(KEY, tone(), 24000)
    summary = json.loads(store.chunk_sum_path(KEY).read_text())
    assert summary["bytes"] == path.stat().st_size and len(summary["sha256"]) == 64
    assert store.chunk_ok(KEY) and store.chunk_ok(KEY, deep=False)


@pytest.mark.parametrize("damage, why", [
    (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "truncated"),
    (lambda p: p.write_bytes(b""), "empty (0 bytes)"),
    (lambda p: p.write_bytes(p.read_bytes()[:-2] + b"\x01\x02"), "corrupt"),
])
def test_a_damaged_chunk_is_discarded_and_named_in_the_log(store, caplog, damage, why):
    path = store.write_chunk(KEY, tone(), 24000)
    damage(path)
    with caplog.at_level(logging.WARNING, logger="pipeline.store"):
        assert not store.chunk_ok(KEY)
    assert not path.exists() and not store.chunk_sum_path(KEY).exists()
    assert str(path) in caplog.text and why in caplog.text


def test_the_quick_check_catches_a_size_change_without_reading_the_audio(store):
    path = store.write_chunk(KEY, tone(), 24000)
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size - 100)
    assert not store.chunk_ok(KEY, deep=False)


def test_an_old_entry_without_a_sum_is_checked_against_its_header(store):
    path = store.write_chunk(KEY, tone(), 24000)
    store.chunk_sum_path(KEY).unlink()
    assert store.chunk_ok(KEY) and store.chunk_sum_path(KEY).is_file()   # whole: kept, and given a sum
    store.chunk_sum_path(KEY).unlink()
    path.write_bytes(path.read_bytes()[:-4800])
    assert not store.chunk_ok(KEY) and not path.exists()                # its header promises more: discarded
