"""Prover memory of ``ligero``'s hiding variant (issue 14 under the zero-knowledge
default): the state keeps M by reference and only the random coefficients, never the
padded message matrix; inside a scratch session whose threshold the codewords reach, the
codewords and Merkle levels live in scratch files.  With the mask randomness seeded
(`zk.MaskRng.seeded`), the commitments and the opening (claims and sum claims) are
byte-for-byte those of the in-RAM path, and the commitment is the one of the padded
message matrix [M | random | 0; r_0 | 0] encoded whole (the construction before)."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import merkle
from zklora.kernels.goldilocks import P_INT
from zklora.plugins.commitments import ligero
from zklora.plugins.commitments.ligero import Ligero
from zklora.zkcore import mle, scratch, zk
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem, SumClaim, SumTerm
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

SIZES = (7, 12, 14)
SEED = b"test/zk-ligero-memory"


@pytest.fixture(scope="module")
def F(reg):
    return reg.field("goldilocks")


def _tables(n_list, seed=5):
    rng = np.random.default_rng(seed)
    out = []
    for n in n_list:
        t = rng.integers(0, P_INT, 1 << n, dtype=np.uint64)
        t.flags.writeable = False     # kept by reference, like the kernel's stack
        out.append(t)
    return out


def _claims(F, tables):
    E = F.ext
    rng = np.random.default_rng(1)
    evals = [[Evaluation(r, mle.evaluate(E, t, r, base=True))
              for r in (E.random(rng, t.shape[0].bit_length() - 1) for _ in range(2))]
             for t in tables]
    # one sum claim over two tensors (two terms on the first)
    terms = []
    for item, t in ((0, tables[0]), (0, tables[0]), (2, tables[2])):
        terms.append(SumTerm(item, E.random(rng, t.shape[0].bit_length() - 1),
                             E.random(rng, 1)[0]))
    value = E.scalar(0)
    for term in terms:
        v = mle.evaluate(E, tables[term.item], term.point, base=True)
        value = E.add(value, E.mul(term.coefficient, v))
    return evals, [SumClaim(terms, value)]


def _prove(F, tables, evals, sums, threshold, tmp):
    """Commit and open every table in a ZK session with seeded masks, inside a scratch
    session of ``threshold`` (None: no session); (commitments, proof, states)."""
    scheme = Ligero(F)

    def run():
        coms, states = zip(*(scheme.commit(t) for t in tables))
        ch = ProverChannel(Transcript(b"test/zk-ligero-memory", "blake3"))
        scheme.open(ch, [OpenItem(s, e) for s, e in zip(states, evals)], sums=sums)
        return list(coms), ch.proof_bytes(), list(states)

    with zk.session(rng=zk.MaskRng.seeded(SEED)):
        if threshold is None:
            return run()
        with scratch.session(str(tmp), threshold=threshold):
            coms, proof, states = run()
            # the opening reads the spilled state back: check it while the files exist
            return coms, proof, [s.spilled is not None for s in states]


@pytest.mark.parametrize("chunk", [None, 4096])   # one slab; many slabs and column blocks
def test_spilled_hiding_is_identical(F, tmp_path, monkeypatch, chunk):
    if chunk:
        monkeypatch.setattr(ligero, "CHUNK_BYTES", chunk)
    tables = _tables(SIZES)
    evals, sums = _claims(F, tables)
    c_ram, p_ram, states = _prove(F, tables, evals, sums, None, tmp_path)
    c_dflt, p_dflt, s_dflt = _prove(F, tables, evals, sums, scratch.DEFAULT_THRESHOLD,
                                    tmp_path)
    c_disk, p_disk, s_disk = _prove(F, tables, evals, sums, 0, tmp_path)
    assert c_ram == c_dflt == c_disk and p_ram == p_dflt == p_disk
    assert s_dflt == [False] * 3 and s_disk == [True] * 3
    assert [p for p in tmp_path.iterdir()] == []       # the scratch files are gone
    # the state: M by reference, the random part only (no padded copy of M; the
    # random columns are a small share of a large table's)
    for t, st in zip(tables, states):
        assert np.shares_memory(st.matrix, t) and st.hiding is not None
    assert 4 * states[-1].hiding.rand.size < states[-1].matrix.size
    with zk.session():
        ch = VerifierChannel(Transcript(b"test/zk-ligero-memory", "blake3"), p_disk)
        Ligero(F).verify(ch, [CheckItem(c, t.shape[0].bit_length() - 1, e)
                              for c, t, e in zip(c_disk, tables, evals)], sums=sums)
        ch.finish()


def test_commitment_is_the_padded_matrix_encoded_whole(F, tmp_path):
    """The commitment (in RAM and spilled) is the digest of the Merkle tree over the
    codewords of [M | random | 0; r_0 | 0], the random coefficients drawn in one call."""
    scheme = Ligero(F)
    (t,) = _tables([12], seed=9)
    lay = scheme.hiding_layout(12)
    sh = scheme.hiding_shape(lay)
    m, k, used = lay.rows, lay.cols, sh.used
    rand = zk.MaskRng.seeded(SEED).elements(F, (m + 1) * used - m * k)
    full = np.zeros((m + 1, sh.K), dtype=np.uint64)
    full[:m, :k] = t.reshape(m, k)
    full[:m, k:used] = rand[:m * (used - k)].reshape(m, used - k)
    full[m, :used] = rand[m * (used - k):]
    _, levels = scheme._encode_tree(None, full, sh.rate_log)
    want = scheme._digest(lay, merkle.root(levels), hiding=True)
    for threshold in (None, 0):
        with zk.session(rng=zk.MaskRng.seeded(SEED)):
            if threshold is None:
                com, st = scheme.commit(t)
                assert np.array_equal(st.message_rows(), full[:, :used])
            else:
                with scratch.session(str(tmp_path), threshold=threshold):
                    com, st = scheme.commit(t)
                    assert st.spilled is not None
                    idx = np.array([0, 5, sh.L - 1])
                    assert np.array_equal(st.columns(idx),
                                          scheme._encode_tree(None, full, sh.rate_log)[0][idx])
        assert com == want


def test_graph_proof_spilled_is_identical(reg, tmp_path):
    """The matmul + rescale + lookup graph in zero knowledge under ligero, masks seeded:
    proven with every scratch array spilled (threshold 0) it sends the bytes of the
    default-threshold proof, and verifies."""
    from zklora.zkcore import graph as graphlib

    from .conftest import backend_for
    from .test_rescale_op import rescale_graph, wit

    be = backend_for(reg, "goldilocks", "ligero", "logup-gkr")
    g = rescale_graph()
    out = []
    for threshold in (scratch.DEFAULT_THRESHOLD, 0):
        with zk.session(rng=zk.MaskRng.seeded(SEED)), \
                scratch.session(str(tmp_path), threshold=threshold):
            out.append(graphlib.prove(g, wit(), be, {}))
    assert out[0][0] == out[1][0]
    with zk.session():
        graphlib.verify(g, out[1][0], be, {}, out[1][1])
