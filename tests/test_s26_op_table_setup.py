"""The op table charges a segment's setup (its fork, the dropped witness's recompute,
the outputs' claims) to a row of its own, not to the segment's first node."""

from __future__ import annotations

import time

from zklora.zkcore import graph as graphlib
from zklora.zkcore import pyapi


def test_segment_setup_has_its_own_row(tmp_path, monkeypatch):
    delay = 0.25
    calls: list[int] = []
    real = graphlib._recompute

    def slow(*a, **k):
        calls.append(1)
        time.sleep(delay)
        return real(*a, **k)

    monkeypatch.setattr(graphlib, "_recompute", slow)
    res = pyapi.prove(model="tiny", task="train", out=tmp_path / "p.zkp",
                      zero_knowledge=False, progress=None)
    assert calls, "the tiny train proof has segments"
    setup = res.op_timings.get("segment-setup", 0.0)
    assert setup >= delay * len(calls)
    # no op kind absorbed the recompute's sleep (the tiny ops take milliseconds)
    ops = {k: v for k, v in res.op_timings.items() if k != "segment-setup"}
    assert max(ops.values()) < delay * len(calls), ops
