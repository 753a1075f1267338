"""The ligero commitment: NTT / Merkle kernels against slow references, parameters,
layout choice, query-path tampering, cheating provers, and a graph proof under ligero."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from zklora.kernels import merkle, ntt
from zklora.kernels.goldilocks import P_INT
from zklora.plugins.commitments.ligero import Layout, Ligero, LigeroState, num_queries
from zklora.zkcore import graph as graphlib
from zklora.zkcore import mle
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem
from zklora.zkcore.errors import ConfigError, ProofFormatError, ProverError, VerificationError
from zklora.zkcore.graph import Graph
from zklora.zkcore.testing.commitment_suite import Harness, check, expect_reject, prove
from zklora.zkcore.transcript import ProverChannel, Transcript

from .conftest import backend_for


@pytest.fixture(scope="module")
def F(reg):
    return reg.field("goldilocks")


@pytest.fixture(scope="module")
def scheme(F):
    return Ligero(F)


def _u64(rng, shape):
    return rng.integers(0, P_INT, size=shape, dtype=np.uint64)


# -- NTT / Reed–Solomon ---------------------------------------------------------------


def test_roots_of_unity():
    for log_n in (0, 1, 5, 17, 32):
        w = ntt.root_of_unity(log_n)
        assert pow(w, 1 << log_n, P_INT) == 1
        if log_n:
            assert pow(w, 1 << (log_n - 1), P_INT) == P_INT - 1  # primitive
    assert pow(ntt.root_of_unity(10), 2, P_INT) == ntt.root_of_unity(9)
    with pytest.raises(ValueError):
        ntt.root_of_unity(33)


@pytest.mark.parametrize("log_k", [0, 1, 2, 3, 6])
@pytest.mark.parametrize("rate_log", [0, 1, 2, 3])
def test_rs_encode_matches_reference(log_k, rate_log):
    rng = np.random.default_rng(log_k * 10 + rate_log)
    M = _u64(rng, (3, 1 << log_k))
    out = ntt.rs_encode(M, rate_log)
    assert out.shape == ((1 << log_k) << rate_log, 3)
    for r in range(3):
        assert [int(x) for x in out[:, r]] == ntt.rs_encode_ref(M[r], rate_log)


def test_rs_encode_parallel_path_and_ext():
    """Large enough for the parallel kernel; extension rows encode component-wise."""
    rng = np.random.default_rng(7)
    M = _u64(rng, (8, 1 << 12))
    out = ntt.rs_encode(M, 2)
    for r in (0, 7):
        ser = ntt.rs_encode(M[r:r + 1], 2)[:, 0]  # one row: serial kernel
        assert np.array_equal(out[:, r], ser)
    sample = M[3, :16]
    assert [int(x) for x in ntt.rs_encode(sample[None], 2)[:, 0]] == \
        ntt.rs_encode_ref(sample, 2)
    w = _u64(rng, (1 << 12, 2))
    enc = ntt.rs_encode_ext(w, 2)
    assert np.array_equal(enc[:, 0], ntt.rs_encode(w[:, 0][None], 2)[:, 0])
    assert np.array_equal(enc[:, 1], ntt.rs_encode(w[:, 1][None], 2)[:, 0])
    # rate-1 NTT is the plain DFT
    a = _u64(rng, 8)
    assert [int(x) for x in ntt.ntt(a)] == ntt.rs_encode_ref(a, 0)


def test_rs_code_has_low_degree():
    """A codeword is low-degree: its inverse DFT vanishes above the message length."""
    rng = np.random.default_rng(3)
    k, rate_log = 8, 2
    msg = _u64(rng, (1, k))
    cw = [int(x) for x in ntt.rs_encode(msg, rate_log)[:, 0]]
    L = k << rate_log
    winv = pow(ntt.root_of_unity(L.bit_length() - 1), P_INT - 2, P_INT)
    ninv = pow(L, P_INT - 2, P_INT)
    coeffs = [sum(cw[i] * pow(winv, i * j, P_INT) for i in range(L)) * ninv % P_INT
              for j in range(L)]
    assert coeffs[:k] == [int(x) for x in msg[0]] and not any(coeffs[k:])


@pytest.mark.parametrize("shape", [(3, 5), (4, 1 << 13), (1 << 13, 4)])
def test_matvec_kernels_match_reference(shape):
    rng = np.random.default_rng(shape[0])
    M = _u64(rng, shape)
    e_c = _u64(rng, (shape[1], 2))
    e_r = _u64(rng, (shape[0], 2))
    y = ntt.mat_evec(M, e_c)
    w = ntt.evec_mat(e_r, M)
    rows = range(min(3, shape[0]))
    ref_y = ntt.mat_evec_ref([M[i] for i in rows], e_c)
    assert [tuple(map(int, y[i])) for i in rows] == ref_y
    cols = [0, shape[1] - 1]
    ref_w = ntt.mat_evec_ref([M[:, j] for j in cols], e_r)  # wᵀ = Mᵀ·e
    assert [tuple(map(int, w[j])) for j in cols] == ref_w


@pytest.mark.parametrize("n", [0, 3, 16])
def test_eq_and_dot_match_field(F, n):
    E = F.ext
    rng = np.random.default_rng(n)
    r = E.random(rng, n)
    assert np.array_equal(ntt.eq_table(r), mle.eq_table(E, r))
    a, b = E.random(rng, 1 << n), E.random(rng, 1 << n)
    assert np.array_equal(ntt.edot(a, b), E.dot(a, b))


def test_evec_mat_reference_small():
    rng = np.random.default_rng(11)
    M = _u64(rng, (3, 4))
    e = _u64(rng, (3, 2))
    assert [tuple(map(int, x)) for x in ntt.evec_mat(e, M)] == \
        ntt.evec_mat_ref(e.tolist(), M.tolist())


# -- Merkle ---------------------------------------------------------------------------


@pytest.mark.parametrize("hash_name", ["blake3", "sha256"])
@pytest.mark.parametrize("nleaves", [1, 2, 8, 64])
def test_merkle_root_matches_reference(hash_name, nleaves):
    rng = np.random.default_rng(nleaves)
    cols = _u64(rng, (nleaves, 3))
    levels = merkle.build(merkle.hash_leaves(cols, hash_name), hash_name)
    ref = merkle.root_ref([c.astype("<u8").tobytes() for c in cols], hash_name)
    assert merkle.root(levels) == ref


@pytest.mark.parametrize("hash_name", ["blake3", "sha256"])
def test_merkle_multiproof(hash_name):
    rng = np.random.default_rng(5)
    depth = 7
    cols = _u64(rng, (1 << depth, 2))
    leaves = merkle.hash_leaves(cols, hash_name)
    levels = merkle.build(leaves, hash_name)
    root = merkle.root(levels)
    sets = [[0], [127], [0, 1], [3, 4], list(range(128)), sorted(set(rng.integers(0, 128, 20)))]
    for idx in sets:
        proof = merkle.open_multi(levels, idx)
        assert len(proof) == 32 * merkle.num_siblings(idx, depth)
        got = merkle.root_from_multi([leaves[i].tobytes() for i in idx], idx, depth, proof,
                                     hash_name)
        assert got == root
        if proof:
            bad = bytearray(proof)
            bad[len(bad) // 2] ^= 1
            assert merkle.root_from_multi([leaves[i].tobytes() for i in idx], idx, depth,
                                          bytes(bad), hash_name) != root
        wrong = [leaves[(i + 1) % 128].tobytes() for i in idx]
        assert merkle.root_from_multi(wrong, idx, depth, proof, hash_name) != root
    assert merkle.num_siblings(list(range(128)), depth) == 0
    assert merkle.num_siblings([5], depth) == depth
    with pytest.raises(ValueError):
        merkle.root_from_multi([], [], depth, b"", hash_name)


def test_merkle_leaf_node_domains_differ():
    """A node preimage is 65 bytes, a leaf preimage a multiple of 8: a leaf made of the
    bytes of two child digests does not hash to their parent."""
    rng = np.random.default_rng(2)
    cols = _u64(rng, (2, 8))
    leaves = merkle.hash_leaves(cols, "blake3")
    parent = merkle.hash_nodes(leaves, "blake3")[0]
    fake_leaf = np.frombuffer(leaves.tobytes(), dtype="<u8").reshape(1, 8)
    assert merkle.hash_leaves(fake_leaf, "blake3")[0].tobytes() != parent.tobytes()


# -- parameters and layout ------------------------------------------------------------


def test_query_count_formula():
    assert num_queries(2, 100) == 149
    for rate_log, lam in [(1, 100), (2, 100), (3, 100), (4, 128), (2, 80)]:
        q = num_queries(rate_log, lam)
        per = math.log2(1 - (1 - 2.0 ** -rate_log) / 2)
        assert q * per <= -(lam + 1) < (q - 1) * per
    assert num_queries(1, 100) > num_queries(2, 100) > num_queries(3, 100)


def test_params(F):
    assert Ligero(F).cfg.num_queries == 149
    assert Ligero(F, {"rate": "1/8"}).cfg.rate_log == 3
    assert Ligero(F, {"rate": 0.25, "rate_log": 2}).cfg.rate_log == 2
    assert Ligero(F, {"num_queries": 7}).cfg.num_queries == 7
    assert Ligero(F, {"security_bits": 128}).cfg.num_queries == num_queries(2, 128)
    for bad in [{"rate_log": 0}, {"rate_log": 5}, {"rate_log": "2"}, {"rate": "1/3"},
                {"rate": 0.5, "rate_log": 2}, {"hash": "md5"}, {"security_bits": 0},
                {"num_queries": 0}, {"bogus": 1}, {"rate_log": True}]:
        with pytest.raises(ConfigError):
            Ligero(F, bad)
    with pytest.raises(ConfigError):
        Ligero(registry_field("bls12-381-fr"))
    assert set(Ligero.param_names()) >= {"rate_log", "hash", "security_bits", "num_queries"}


def registry_field(name):
    from zklora.zkcore.plugins import registry

    return registry().field(name)


def test_config_resolution(reg):
    from zklora.zkcore.config import Stack, resolve

    be = resolve(Stack("goldilocks", "ligero", "", "blake3"), reg,
                 {"ligero": {"rate_log": 3, "hash": "sha256"}})
    assert be.scheme.cfg.rate_log == 3 and be.scheme.cfg.hash == "sha256"
    with pytest.raises(ConfigError):
        resolve(Stack("goldilocks", "ligero", "", "blake3"), reg, {"ligero": {"rate": 3}})


def test_layout_choice(scheme):
    lay = scheme.layout(20)
    assert (lay.rows, lay.cols, lay.direct) == (1 << 7, 1 << 13, False)
    assert all(scheme.layout(n).direct for n in range(0, 12))
    assert not any(scheme.layout(n).direct for n in range(12, 30))
    for n in range(0, 30):
        lay = scheme.layout(n)
        est = Layout.opening_bytes(n, lay.log_cols, 2, 149)
        assert all(est <= Layout.opening_bytes(n, b, 2, 149) for b in range(n + 1))


def _proof_size(F, n, log_cols, seed=0):
    s = Ligero(F)
    s._layouts[n] = Layout(n, log_cols, 2, False)
    rng = np.random.default_rng(seed)
    t = F.random(rng, 1 << n)
    com, st = s.commit(t)
    r = F.ext.random(rng, n)
    ev = [Evaluation(r, mle.evaluate(F.ext, t, r, base=True))]
    ch = ProverChannel(Transcript(b"size"))
    s.open(ch, [OpenItem(st, ev)])
    return len(ch.proof_bytes())


def test_chosen_shape_gives_the_smallest_proof(F, scheme):
    """Measured, not estimated: the chosen column count beats its neighbours, and the
    direct opening of a small table is smaller than a queried one."""
    n = 16
    b = scheme.layout(n).log_cols
    sizes = {c: _proof_size(F, n, c) for c in (b - 1, b, b + 1)}
    assert sizes[b] == min(sizes.values()), sizes
    assert 8 * (1 << 11) < _proof_size(F, 11, scheme.layout(11).log_cols)
    assert 8 * (1 << 12) > _proof_size(F, 12, scheme.layout(12).log_cols)


# -- prover-side errors ---------------------------------------------------------------


def test_commit_rejects_bad_tables(scheme):
    for bad in [np.zeros(3, np.uint64), np.zeros(0, np.uint64), np.zeros(4, np.float64),
                np.array([P_INT, 0], np.uint64), np.array([-1, 0], np.int64)]:
        with pytest.raises(ProverError):
            scheme.commit(bad)
    com, st = scheme.commit(np.arange(16, dtype=np.int64))
    assert len(com) == 32 and isinstance(st, LigeroState)
    E = scheme.field.ext
    with pytest.raises(ProverError):
        scheme.open(ProverChannel(Transcript(b"x")),
                    [OpenItem(st, [Evaluation(E.zeros(3), E.zeros(()))])])
    with pytest.raises(ProverError):
        scheme.open(ProverChannel(Transcript(b"x")), [OpenItem("nope", [])])


# -- query path: sections of the proof ------------------------------------------------


def _single(F, scheme, n, claims=1, seed=0, hash_name="blake3"):
    h = Harness(Ligero, F, {"hash": hash_name})
    s = h.scheme() if hash_name != "blake3" else scheme
    rng = np.random.default_rng(seed)
    t = F.random(rng, 1 << n)
    com, st = s.commit(t)
    evs = [Evaluation(r, mle.evaluate(F.ext, t, r, base=True))
           for r in (F.ext.random(rng, n) for _ in range(claims))]
    proof = prove(h, s, [st], [evs])
    return h, s, t, st, [CheckItem(com, n, evs)], proof


@pytest.mark.parametrize("hash_name", ["blake3", "sha256"])
def test_query_path_roundtrip_and_size(F, scheme, hash_name):
    h, s, _, st, items, proof = _single(F, scheme, 14, claims=2, hash_name=hash_name)
    check(h, s, items, proof)
    assert not st.layout.direct


def test_query_path_sections_tampered(F, scheme):
    """A flipped byte in y, w, the columns or the Merkle paths, and a value ≥ p in y, w
    or a column, are each rejected (offsets from the layout)."""
    n = 14
    h, s, _, st, items, proof = _single(F, scheme, n)
    lay = st.layout
    off_w = 16 * lay.rows
    off_cols = off_w + 16 * lay.cols
    for pos in (3, off_w + 5, off_cols + 9, len(proof) - 1, len(proof) - 40):  # y w col path
        bad = bytearray(proof)
        bad[pos] ^= 0x10
        with pytest.raises(VerificationError):
            check(h, s, items, bytes(bad))
    for pos in (0, off_w, off_cols):
        bad = bytearray(proof)
        bad[pos:pos + 8] = b"\xff" * 8
        with pytest.raises(ProofFormatError):
            check(h, s, items, bytes(bad))


def test_query_path_mixed_batch(F, scheme):
    """Direct and queried tensors, two of the same codeword length (shared queries), in
    one proof; claims moved between the two same-shape tensors are rejected."""
    h = Harness(Ligero, F)
    rng = np.random.default_rng(9)
    states, items = [], []
    for n in (14, 14, 15, 5, 0):
        t = F.random(rng, 1 << n)
        com, st = scheme.commit(t)
        evs = [Evaluation(r, mle.evaluate(F.ext, t, r, base=True))
               for r in (F.ext.random(rng, n) for _ in range(2))]
        states.append(st)
        items.append(CheckItem(com, n, evs))
    proof = prove(h, scheme, states, [it.evals for it in items])
    check(h, scheme, items, proof)
    swapped = list(items)
    swapped[0] = CheckItem(items[0].commitment, 14, items[1].evals)
    swapped[1] = CheckItem(items[1].commitment, 14, items[0].evals)
    expect_reject(h, scheme, swapped, proof, "claims swapped between same-shape tensors")
    reordered = [items[1], items[0]] + items[2:]
    expect_reject(h, scheme, reordered, proof, "items reordered")


def test_verifier_rejects_malformed_claims(F, scheme):
    h, s, _, _, items, proof = _single(F, scheme, 14)
    ev = items[0].evals[0]
    big = ev.point.copy()
    big[0, 0] = np.uint64(P_INT)
    for bad_ev in [Evaluation(big, ev.value), Evaluation(ev.point, np.array([P_INT, 0],
                                                                            np.uint64)),
                   Evaluation(ev.point.astype(object), ev.value),
                   Evaluation(ev.point[:, 0], ev.value), Evaluation("x", ev.value)]:
        with pytest.raises(VerificationError):
            check(h, s, [CheckItem(items[0].commitment, 14, [bad_ev])], proof)
    for n in (-1, 99, 14.0, True):
        with pytest.raises(VerificationError):
            check(h, s, [CheckItem(items[0].commitment, n, items[0].evals)], proof)
    with pytest.raises(VerificationError):
        check(h, s, [CheckItem("a" * 32, 14, items[0].evals)], proof)


def test_parameters_must_match(F, scheme):
    """A proof made under one parameter set does not verify under another."""
    h, _, _, _, items, proof = _single(F, scheme, 14)
    for params in ({"hash": "sha256"}, {"rate_log": 3}, {"num_queries": 100}):
        other = Ligero(F, params)
        expect_reject(h, other, items, proof, f"verified under {params}")


# -- cheating provers -----------------------------------------------------------------


def _cheat_open(scheme, ch, st, evs, fake_value=None, fix_w=False):
    """The honest opening with optional lies: a y consistent with a false value; a w
    adjusted to pass the ⟨w, eq(c)⟩ check."""
    F, E = scheme.field, scheme.field.ext
    lay = st.layout
    ch.observe_public("ligero/batch",
                      scheme._statement([(st.commitment, lay.n, evs)]))
    ys = []
    for j, ev in enumerate(evs):
        c, a = Ligero._split(lay, ev)
        y = ntt.mat_evec(st.matrix, ntt.eq_table(c))
        if j == 0 and fake_value is not None:
            eqa = ntt.eq_table(a)
            diff = E.sub(fake_value, ntt.edot(eqa, y))
            y = y.copy()
            y[0] = E.add(y[0], E.mul(diff, E.inv(eqa[0])))
        ch.send_field("ligero/y", E, y)
        ys.append((ntt.eq_table(c), y))
    beta = ch.challenges("ligero/beta", E, lay.rows)
    w = ntt.evec_mat(beta, st.matrix)
    if fix_w:
        eqc, y = ys[0]
        gap = E.sub(ntt.edot(beta, y), ntt.edot(w, eqc))
        w = w.copy()
        w[0] = E.add(w[0], E.mul(gap, E.inv(eqc[0])))
    ch.send_field("ligero/w", E, w)
    idx = scheme._queries(ch, {lay.length})[lay.length]
    ch.send_field("ligero/columns", F, st.encoded[idx])
    ch.send_bytes("ligero/paths", merkle.open_multi(st.levels, idx))


def _cheat(F, scheme, **kw):
    h, s, t, st, items, _ = _single(F, scheme, 14)
    evs = list(items[0].evals)
    if kw.get("fake_value") is not None:
        evs[0] = Evaluation(evs[0].point, kw["fake_value"])
    ch = ProverChannel(Transcript(b"zklora/commitment-suite/v1", h.hash))
    _cheat_open(s, ch, st, evs, **kw)
    return h, s, [CheckItem(items[0].commitment, 14, evs)], ch.proof_bytes()


def test_cheat_baseline_is_honest(F, scheme):
    """The cheating prover with no lie verifies: the tests below fail for their lie."""
    h, s, items, proof = _cheat(F, scheme)
    check(h, s, items, proof)


def test_cheat_false_value_caught_by_combined_row(F, scheme):
    v = F.ext.from_ints(np.array(12345))
    h, s, items, proof = _cheat(F, scheme, fake_value=v)
    with pytest.raises(VerificationError, match="combined row"):
        check(h, s, items, proof)


def test_cheat_false_value_and_row_caught_by_columns(F, scheme):
    v = F.ext.from_ints(np.array(12345))
    h, s, items, proof = _cheat(F, scheme, fake_value=v, fix_w=True)
    with pytest.raises(VerificationError, match="proximity"):
        check(h, s, items, proof)


def test_commitment_to_non_codewords_caught(F, scheme):
    """A prover who commits to a matrix far from any codeword (random columns) and
    answers with the honest combined row fails the column checks."""
    rng = np.random.default_rng(4)
    n = 14
    t = F.random(rng, 1 << n)
    _, st = scheme.commit(t)
    lay = st.layout
    st.encoded = F.random(rng, st.encoded.shape)
    st.levels = merkle.build(merkle.hash_leaves(st.encoded, "blake3"), "blake3")
    st.commitment = scheme._digest(lay, merkle.root(st.levels))
    r = F.ext.random(rng, n)
    evs = [Evaluation(r, mle.evaluate(F.ext, t, r, base=True))]
    h = Harness(Ligero, F)
    proof = prove(h, scheme, [st], [evs])
    with pytest.raises(VerificationError, match="proximity"):
        check(h, scheme, [CheckItem(st.commitment, n, evs)], proof)


# -- a whole graph proof under ligero -------------------------------------------------


def test_graph_proof_under_ligero(reg):
    """Matmul graph with tensors on both opening paths (X, Y queried; W direct)."""
    be = backend_for(reg, "goldilocks", "ligero")
    g = Graph()
    g.tensor("X", (4, 64, 64), "committed")
    g.tensor("W", (64, 32), "committed")
    g.tensor("Y", (4, 64, 32), "committed")
    g.op("matmul", "mm", ["X", "W"], ["Y"])
    g.outputs = ["Y"]
    gen = torch.Generator().manual_seed(0)
    wit = {"X": torch.randint(-99, 100, (4, 64, 64), generator=gen),
           "W": torch.randint(-99, 100, (64, 32), generator=gen)}
    st = {"t": 1}
    assert not be.scheme.layout(14).direct and be.scheme.layout(11).direct
    proof, sections = graphlib.prove(g, wit, be, st)
    graphlib.verify(g, proof, be, st, sections)
    with pytest.raises((VerificationError, ProofFormatError)):
        graphlib.verify(g, proof, be, {"t": 2}, sections)
    opening = next(s for s in sections if s[0] == "openings")
    for pos in (opening[1] + 1, (opening[1] + opening[2]) // 2, opening[2] - 1, 40):
        bad = bytearray(proof)
        bad[pos] ^= 0x04
        with pytest.raises((VerificationError, ProofFormatError)):
            graphlib.verify(g, bytes(bad), be, st, sections)
