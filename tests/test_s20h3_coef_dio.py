"""The streamed commitment's coefficient file through direct I/O (s20h3): the same
commitment and proof whether the file takes ``O_DIRECT`` or not, the tiles read back
into one reusable buffer, and the encode's prefetching reader (`whir._Job`) re-raising
a read's error."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.plugins.commitments import whir as W
from zklora.zkcore import mle, scratch
from zklora.zkcore.commit import Evaluation, OpenItem
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript

F = registry().field("goldilocks")
E = F.ext
PROTO = b"s20h3-coef-dio"


def _open(s, st, evs) -> bytes:
    ch = ProverChannel(Transcript(PROTO))
    s.open(ch, [OpenItem(st, evs)])
    return ch.proof_bytes()


@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.parametrize("stream", [1 << 14, 1 << 16])
def test_coef_file_direct_same_commitment(direct, stream, monkeypatch):
    monkeypatch.setattr(W, "STREAM_BYTES", stream)      # several tiles and row blocks
    monkeypatch.setattr(W, "_DIO_ALIGN", 512)           # small files still direct
    monkeypatch.setattr(W, "DIRECT_IO", direct)
    monkeypatch.setattr(scratch, "working_budget", lambda c, *a, **k: 0)
    s = W.Whir(F, {"direct_vars": 0})
    n = 14
    rng = np.random.default_rng(7)
    t = F.random(rng, 1 << n)
    t[:4] = np.array([0, 1, W.P_INT - 1, W.P_INT - 2], dtype=np.uint64)
    t.flags.writeable = False
    evs = [Evaluation(r, mle.evaluate(E, t, r, base=True))
           for r in (E.random(rng, n) for _ in range(2))]
    com, st = s.commit(t)
    want = _open(s, st, evs)
    seen = []
    tiled = W._Tiled

    def spy(*a, **k):
        x = tiled(*a, **k)
        seen.append(x)
        return x

    monkeypatch.setattr(W, "_Tiled", spy)
    with scratch.session(threshold=0):
        com2, st2 = s.commit(t)
        got = _open(s, st2, evs)
    assert seen and all(x.direct == direct for x in seen)
    assert com2 == com
    assert got == want


def test_job_reraises_and_runs_in_order():
    out = []
    j = W._Job()
    j.start(out.append, 1)
    j.wait()
    j.start(out.append, 2)
    j.wait()
    assert out == [1, 2]

    def boom():
        raise OSError("read failed")

    j.start(boom)
    with pytest.raises(OSError, match="read failed"):
        j.wait()
    j.wait()   # the error is raised once
