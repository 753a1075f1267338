"""One kernel signature per sumcheck kernel for in-memory and read-only (memory-mapped)
tables (`zklora.kernels.sumcheck._ro`), and `sumcheck.warm`, which `pyapi.warmup` runs so
the first prove at a real shape compiles nothing: same proof bytes for read-only and
writable tables, and after `warm` a prove at the warmed sizes adds no signature."""

from __future__ import annotations

import numpy as np

from zklora.kernels import sumcheck as KS
from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import selfcheck, sumcheck
from zklora.zkcore.transcript import ProverChannel, Transcript

E = GOLDILOCKS.ext


def _tables(n, base, ro, seed=5):
    rng = np.random.default_rng(seed)
    out = [rng.integers(0, 1 << 32, (1 << n,) if i in base else (1 << n, 2),
                        dtype=np.uint64) for i in range(4)]
    for t in out if ro else ():
        t.flags.writeable = False
    return out


def _proof(tables, terms, eq=None):
    ch = ProverChannel(Transcript("s20h5"))
    with selfcheck.disabled():
        sumcheck.prove(ch, E, tables, terms, np.zeros(2, np.uint64), eq=eq)
    return bytes(ch.buf)


def _nsigs():
    return {name: len(f.signatures) for name, f in vars(KS).items()
            if hasattr(f, "signatures")}


C = np.array([3, 5], np.uint64)
PAIR = [(C, (0, 1)), (C, (2, 3)), (C, (0, 3))]
GEN = [(C, (0, 1, 2)), (C, (1, 3)), (C, (2,))]
EQT = [(C, (0, 1, 2)), (C, (0, 3))]


def test_readonly_tables_same_bytes_and_signatures():
    sumcheck.warm(E)
    before = _nsigs()
    e = np.random.default_rng(3).integers(1, 1 << 32, (12, 2, 2), dtype=np.uint64)
    for n in (6, 12):
        for terms, eq in ((PAIR, None), (GEN, None), (EQT, (0, e[:n]))):
            if eq is not None and n < sumcheck.EQ_MIN_VARS:
                continue
            for base in ((), (1, 3)):
                a = _proof(_tables(n, base, False), terms, eq)
                b = _proof(_tables(n, base, True), terms, eq)
                assert a == b
    assert _nsigs() == before  # nothing compiled after warm (read-only or not)


def test_ro_view():
    a = np.arange(6, dtype=np.uint64).reshape(3, 2)
    v = KS._ro(a)
    assert not v.flags.writeable and a.flags.writeable and np.shares_memory(a, v)
    assert KS._ro(v) is v
    A = _tables(4, (), False)[0]
    B = _tables(4, (), True)[1]
    assert np.array_equal(KS.pair_sums(A, B), KS.ref_pair_sums(A, B))
