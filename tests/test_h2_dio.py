"""The streamed WHIR encoding's direct I/O and block-ordered leaves (`Whir._encode_streamed`,
`_dio`, `_BlockLeaves`): the same commitment and proof as the in-RAM prover with direct
I/O on or off (`DIRECT_IO`), and the block-ordered leaves' file reads back the leaves
in their natural order."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.plugins.commitments import whir as W
from zklora.zkcore import mle, scratch
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

F = registry().field("goldilocks")
E = F.ext
PROTO = b"test_h2_dio"


@pytest.mark.parametrize("S,per,G,width", [(64, 8, 4, 2), (32, 32, 2, 4), (16, 1, 8, 1),
                                           (128, 16, 1, 3)])
def test_block_leaves_read_back(tmp_path, S, per, G, width):
    rng = np.random.default_rng(S + per + G)
    L = S * G
    leaves = rng.integers(0, 1 << 62, size=(L, width), dtype=np.uint64)
    # the file in `_encode_streamed`'s order: block a0, then run g, then row
    blocks = [leaves[a0 + g * S:a0 + g * S + per] for a0 in range(0, S, per) for g in range(G)]
    path = tmp_path / "leaves.bin"
    np.concatenate(blocks).tofile(path)
    h = W._BlockLeaves(str(path), 0, (L, width), np.dtype(np.uint64).str, S, per)
    assert np.array_equal(h.load(), leaves)
    idx = rng.integers(0, L, size=50)
    assert np.array_equal(h.read_rows(idx), leaves[idx])
    for lo, hi in [(0, 1), (0, per), (per, 2 * per), (3, 3 + per), (L - 5, L), (0, L),
                   (L - 1, L + 4), (7, 7)]:
        assert np.array_equal(h.read_range(lo, hi), leaves[max(0, lo):min(L, hi)])


def _open(s, st, evs) -> bytes:
    ch = ProverChannel(Transcript(PROTO))
    s.open(ch, [OpenItem(st, evs)])
    return ch.proof_bytes()


@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.parametrize("params,n", [({}, 15), ({"folding_factor": 2, "rate_log": 2}, 13)])
def test_dio_same_proof(direct, params, n, monkeypatch):
    monkeypatch.setattr(W, "STREAM_BYTES", 1 << 15)   # several tiles and row blocks
    monkeypatch.setattr(W, "_DIO_ALIGN", 512)         # small files still direct
    monkeypatch.setattr(W, "DIRECT_IO", direct)
    monkeypatch.setattr(scratch, "working_budget", lambda c, *a, **k: 0)   # tiles on file
    s = W.Whir(F, {"direct_vars": 0, **params})
    rng = np.random.default_rng(n)
    t = F.random(rng, 1 << n)
    t.flags.writeable = False
    evs = [Evaluation(r, mle.evaluate(E, t, r, base=True))
           for r in (E.random(rng, n) for _ in range(2))]
    com, st = s.commit(t)
    want = _open(s, st, evs)                        # the in-RAM prover
    modes = []
    dio = W._dio

    def spy(path, want_direct):
        cm = dio(path, want_direct)
        fd, used = cm.__enter__()
        modes.append(used)
        try:
            yield fd, used
        finally:
            cm.__exit__(None, None, None)

    monkeypatch.setattr(W, "_dio", W.contextlib.contextmanager(spy))
    with scratch.session(threshold=0):
        com2, st2 = s.commit(t)
        assert isinstance(st2.tree.leaves, W._BlockLeaves)
        got = _open(s, st2, evs)
    assert modes
    if not direct:
        assert not any(modes)
    elif W.os.environ.get("ZKLORA_TEST_DIO"):   # a file system known to take O_DIRECT
        assert all(modes)
    assert com2 == com
    assert got == want
    ch = VerifierChannel(Transcript(PROTO), got)
    s.verify(ch, [CheckItem(com, n, evs)])
    ch.finish()


def test_writer_writes_in_order_and_reraises(tmp_path):
    path = tmp_path / "w.bin"
    path.write_bytes(b"\0" * 64)
    fd = W.os.open(path, W.os.O_RDWR)
    try:
        wr = W._Writer(fd)
        a, b = np.arange(4, dtype=np.uint64), np.arange(4, 8, dtype=np.uint64)
        wr.put(a, 0)
        wr.put(b, 32)
        wr.wait()
        assert np.array_equal(np.fromfile(path, dtype=np.uint64), np.arange(8))
        wr.put(a, -8)   # an invalid offset: the error comes back from wait
        with pytest.raises(OSError):
            wr.wait()
    finally:
        W.os.close(fd)
    assert W._dio_empty(10).ctypes.data % W._DIO_ALIGN == 0
