"""The op-group progress of a segmented proof counts up: the local executor proves the
segments in order, so the count is the nodes proven so far (a 30-layer run showed it
counting down with a nonsense ETA)."""

from __future__ import annotations

import pytest

from zklora.zkcore import graph as graphlib

from .conftest import backend_for
from .test_llama_train import micro

# the ZK-off paths (executors, model commitments, adapter checks, WHIR): pinned
pytestmark = pytest.mark.usefixtures("zk_off")


def test_prove_progress_counts_up(reg):
    _, g, inputs, _, st = micro(1)
    assert len(g.segments()) > 1
    seen = []

    def progress(phase, done, total):
        if phase == "prove":
            seen.append((done, total))

    be = backend_for(reg, "goldilocks", "plain", "logup-gkr")
    graphlib.prove(g, inputs, be, st, progress=progress)
    done = [d for d, _ in seen]
    assert {t for _, t in seen} == {len(g.nodes)}
    assert done == sorted(done) and done[0] == 0 and done[-1] < len(g.nodes)
    assert len(done) == len(g.nodes)
