"""s43h3: WHIR commitments and openings of a table held as its integers
(`published.IntTable`, where the scheme takes one: `Whir.takes_int_tables`) against the
converted table: the same commitment, the same opening bytes, alone and in a batch;
the work arrays scribbled over between calls (the state must not alias them).
Skipped where the scheme does not take int tables (the lead applies that change)."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.plugins.commitments import whir as W
from zklora.zkcore import mle, published, scratch
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

F = registry().field("goldilocks")
E = F.ext
PROTO = b"test_s43h3_whir_int_tables"
pytestmark = pytest.mark.skipif(not hasattr(W.Whir, "takes_int_tables"),
                                reason="whir does not take int tables (request pending)")


def _open(s, items) -> bytes:
    ch = ProverChannel(Transcript(PROTO))
    s.open(ch, [OpenItem(st, evs) for st, evs in items])
    return ch.proof_bytes()


def _scribble(store) -> None:
    for a in store._bufs.values():
        a[...] = 0x5A5A5A5A5A5A5A5A if a.dtype == np.uint64 else 1


def _ints(rng, n):
    a = rng.integers(-(1 << 20), 1 << 20, 1 << n, dtype=np.int64)
    a[:6] = [0, -1, 1 << 62, -(1 << 62), (1 << 63) - 1, -(1 << 63)]
    return a


@pytest.mark.parametrize("tables", [1, 3])
def test_int_tables_same_commitments_and_proofs(tables, monkeypatch):
    monkeypatch.setattr(W, "STREAM_BYTES", 1 << 15)   # several tiles and row blocks
    monkeypatch.setattr(W, "_DIO_ALIGN", 512)
    s = W.Whir(F, {"direct_vars": 0})
    rng = np.random.default_rng(tables)
    n = 14
    ints = [_ints(rng, n) for _ in range(tables)]
    conv = [F.from_ints(a) for a in ints]
    evs = [[Evaluation(r, mle.evaluate(E, t, r, base=True))
            for r in (E.random(rng, n) for _ in range(2))] for t in conv]
    with scratch.session(threshold=0) as store:
        assert s.takes_int_tables(n) and not s.takes_int_tables(W.STREAM_MIN_VARS - 1)
        want = []
        for t in conv:
            t.flags.writeable = False
            want.append(s.commit(t))
        want_proof = _open(s, [(st, ev) for (_, st), ev in zip(want, evs)])
        got = []
        for a in ints:
            com, st = s.commit(published.IntTable(F, a))
            assert isinstance(st.table, published.IntTable)   # kept, not converted
            got.append((com, st))
            _scribble(store)
        assert [c for c, _ in got] == [c for c, _ in want]
        assert _open(s, [(st, ev) for (_, st), ev in zip(got, evs)]) == want_proof
    ch = VerifierChannel(Transcript(PROTO), want_proof)
    s.verify(ch, [CheckItem(c, n, ev) for (c, _), ev in zip(want, evs)])
    ch.finish()


def test_int_table_outside_session_converted():
    s = W.Whir(F, {"direct_vars": 0})
    rng = np.random.default_rng(7)
    a = _ints(rng, 12)
    t = F.from_ints(a)
    assert not s.takes_int_tables(12)   # no scratch session: in RAM, converted
    com, st = s.commit(published.IntTable(F, a))
    assert isinstance(st.table, np.ndarray) and np.array_equal(st.table, t)
    assert com == s.commit(t)[0]
