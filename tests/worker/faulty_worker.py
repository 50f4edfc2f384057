"""A `tomecast worker` whose espeak engine plants faults, for the integration tests of QA:
``python -m tests.worker.faulty_worker --queues gpu,cpu ...`` (the arguments of ``tomecast worker``).

``TOMECAST_TEST_FAULTS`` (JSON: speech text -> ``engines.faults.Fault``) names the chunks whose first take is faulty.
One ``FaultySpeech`` per worker process remembers what it spoke, so a re-take (new seed) is clean, as
``engines.faults`` plants; run the synthesis queue with one process. No CLI flag exposes the wrapper: tests only.
"""

from __future__ import annotations

import json
import os
import sys

import engines
from engines.faults import Fault, FaultySpeech

_speech: FaultySpeech | None = None


class FaultyEspeakEngine:
    """``engines.EspeakEngine`` with the process's one ``FaultySpeech`` around its speech."""

    def speech(self, model=None, revision=None, purpose="synthesis") -> FaultySpeech:
        global _speech
        if _speech is None:
            faults = json.loads(os.environ.get("TOMECAST_TEST_FAULTS", "{}"))
            _speech = FaultySpeech(engines.EspeakSpeech(), {t: Fault(f) for t, f in faults.items()})
        return _speech


if __name__ == "__main__":
    engines.EspeakEngine = FaultyEspeakEngine   # worker.engine imports it from `engines` when a job asks espeak
    from worker.cli.main import main

    sys.exit(main(["worker", *sys.argv[1:]]))
