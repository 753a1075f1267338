"""s39h5: the streamed LogUp-GKR layers' work arrays (chunk buffers, folded stack W, the
window's eq tables) are reusable scratch buffers (`logup_gkr._work`, `scratch.Store.buffer`)
kept from layer to layer, and the window kernels read the eq tables from one joined
array (`KL.join`).  Reuse must never alias live data: the proof with buffers reused (and
poisoned with stale values before each use) equals the in-RAM prover's."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_logup_streaming import FIELD, _lookups, _small
from zklora.kernels import lookup_gkr as KL
from zklora.plugins.lookups import logup_gkr as L
from zklora.plugins.lookups.logup_gkr import LogUpGKR
from zklora.zkcore import scratch
from zklora.zkcore.testing import lookup_suite as S


def test_work_is_the_stores_buffer_per_tag():
    with scratch.session():
        a = L._work("t-a", 100)
        b = L._work("t-b", 100)
        assert not np.shares_memory(a, b)
        a2 = L._work("t-a", 50)
        assert np.shares_memory(a, a2)   # the same tag: the same pages again
        big = L._work("t-a", 1000)
        assert big.shape == (1000,) and big.dtype == np.uint64
        assert not np.shares_memory(big, b)
    x, y = L._work("t-a", 10), L._work("t-a", 10)   # no store: fresh arrays
    assert not np.shares_memory(x, y)


def test_work_off_is_fresh(monkeypatch):
    monkeypatch.setattr(L, "REUSE_WORK", False)
    with scratch.session():
        assert not np.shares_memory(L._work("t", 10), L._work("t", 10))


def test_join_reads_the_joined_array():
    rng = np.random.default_rng(1)
    lens = [8, 4, 2]
    Eall = np.asarray(rng.integers(0, 2**63, size=(14, 2)), np.uint64)
    Es = KL.join(Eall, lens)
    assert [len(e) for e in Es] == lens
    assert KL._eall(Es) is Eall
    assert np.array_equal(KL._eall(list(Es)), Eall)   # a plain list: concatenated
    with pytest.raises(ValueError):
        KL.join(Eall, [8, 4])


def test_scale_into_is_e_mul():
    from zklora.zkcore.plugins import registry
    E = registry().field(FIELD).ext
    rng = np.random.default_rng(2)
    for n in (1, 5, 1 << 12, (1 << 12) + 3):   # serial and parallel kernels
        a = np.asarray(rng.integers(0, 2**64 - 2**32, size=(n, 2), dtype=np.uint64))
        s = np.asarray(rng.integers(0, 2**64 - 2**32, size=2, dtype=np.uint64))
        out = np.full((n, 2), 7, np.uint64)
        L._scale_into(a, s, out)
        assert np.array_equal(out, E.mul(a, s)), n


def _poisoned(monkeypatch):
    """`_work` with every buffer filled with stale non-field values before it is handed
    out (a reader of unwritten entries, or a second user of the same pages, shows)."""
    orig = L._work
    calls = []

    def work(tag, count):
        a = orig(tag, count)
        a[:] = np.uint64(0xFFFF_FFFF_FFFF_FFFF - len(calls))
        calls.append((tag, count))
        return a

    monkeypatch.setattr(L, "_work", work)
    return calls


@pytest.mark.parametrize("stream_bytes,keep", [(64, 1), (256, 1), (1024, 0), (4096, 3)])
def test_reused_buffers_same_proof(monkeypatch, stream_bytes, keep):
    arg = LogUpGKR()
    lk = _lookups(3)
    g, be, proof, sections = S.prove_tables(arg, FIELD, lk)
    streamed = _small(monkeypatch, stream_bytes, keep)
    calls = _poisoned(monkeypatch)
    with scratch.session():
        g2, be2, proof2, sections2 = S.prove_tables(arg, FIELD, lk)
    assert any(s > 0 for s in streamed), "no layer was streamed"
    tags = {t for t, _ in calls}
    assert tags >= {"lookup-gkr-chunk", "lookup-gkr-chunk-fold", "lookup-gkr-E"}
    if stream_bytes >= 256:   # rounds left after the streamed ones: W component-major
        assert "lookup-gkr-W" in tags
    # W's buffer reserved at its bound before the first layer (`RESERVE_W`)
    assert ("lookup-gkr-W", stream_bytes // 8) in calls
    assert proof2 == proof
    S.verify(g2, proof2, be2, S.STATEMENT, sections2)
