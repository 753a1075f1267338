"""Sumcheck and GKR kernels against their pure-Python twins (random inputs and edge
values: 0, 1, p − 1, limbs that carry), and the fast prover paths against the generic
ones: same proof bytes, and the verifier accepts."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT
from zklora.plugins.lookups import logup_gkr
from zklora.plugins.lookups.tables import silu_table
from zklora.zkcore.plugins import registry
from zklora.zkcore.range import range_table
from zklora.zkcore.testing import lookup_suite as S

E = registry().field("goldilocks").ext
EDGE = [0, 1, 2, P_INT - 1, P_INT - 2, (1 << 32) - 1, 1 << 32, (1 << 63) + 5, P_INT >> 1]


def _rand(rng, shape, edge_frac=0.3):
    """Random extension elements with a share of edge limbs."""
    a = E.random(rng, shape)
    flat = a.reshape(-1)
    mask = rng.random(flat.shape[0]) < edge_frac
    flat[mask] = rng.choice(np.array(EDGE, dtype=np.uint64), int(mask.sum()))
    return a


@pytest.mark.parametrize("m", [1, 2, 8, 4096])
@pytest.mark.parametrize("want1", [False, True])
def test_gkr_sums_match_reference(m, want1):
    rng = np.random.default_rng(m + 7 * want1)
    W = _rand(rng, (6, 2 * m))
    Ej = _rand(rng, m)
    slots = np.array([[0, 1, 2, 3], [-1, -1, 4, 5]], np.int64)
    got, got_en = KL.gkr_sums(W, W, slots, Ej, want1)
    if m > 64:  # the reference is slow: check a prefix through the serial kernel too
        W, Ej = W[:, :128].copy(), Ej[:64].copy()
        got, got_en = KL.gkr_sums(W, W, slots, Ej, want1)
    want, want_en = KL.ref_gkr_sums(W, W, slots, Ej, want1)
    assert np.array_equal(got, want)
    assert np.array_equal(got_en, want_en)


def test_gkr_sums_parallel_matches_serial():
    rng = np.random.default_rng(3)
    m = 1 << 13
    W = _rand(rng, (6, 2 * m))
    Ej = _rand(rng, m)
    slots = np.array([[0, 1, 2, 3], [-1, -1, 4, 5]], np.int64)
    en1 = np.empty((m // 2, 2), np.uint64)
    en2 = np.empty((m // 2, 2), np.uint64)
    a = KL.e_gkr_sums(W, W, slots, Ej, en1, True, 5)
    b = KL.e_gkr_sums_s(W, W, slots, Ej, en2, True)
    assert np.array_equal(a, b) and np.array_equal(en1, en2)


@pytest.mark.parametrize("want1", [False, True])
def test_gkr_message_matches_reference(want1):
    rng = np.random.default_rng(11)
    for _ in range(20):
        sums = _rand(rng, (2, 3, 2))
        coefs, mu, r, c = _rand(rng, 2), _rand(rng, ()), _rand(rng, ()), _rand(rng, ())
        pref = _rand(rng, ())
        if not r.any():
            r[0] = 1
        got = KL.e_gkr_message(sums, coefs, mu, r, c, pref, want1)
        want = KL.ref_gkr_message(sums, coefs, mu, r, c, pref, want1)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        x = _rand(rng, ())
        qc = got[1]
        ref = KL._ref_add(KL._ref_add(tuple(int(v) for v in qc[0]),
                                      KL._ref_mul(tuple(int(v) for v in x),
                                                  tuple(int(v) for v in qc[1]))),
                          KL._ref_mul(KL._ref_mul(tuple(int(v) for v in x),
                                                  tuple(int(v) for v in x)),
                                      tuple(int(v) for v in qc[2])))
        assert tuple(int(v) for v in KL.e_quad_eval(qc, x)) == ref


def test_gkr_message_derives_q1_from_the_claim():
    """With q(1) implied by the claim, s(0) + s(1) = claim (s(1) from the message's
    interpolation), and summing q(1) directly gives the same message."""
    rng = np.random.default_rng(5)
    sums = _rand(rng, (1, 3, 2))
    coefs, mu, r = E.ones(1), _rand(rng, ()), _rand(rng, ())
    # the claim implied by a directly summed q(1)
    one = E.ones(())
    _, qc = KL.e_gkr_message(sums, coefs, mu, r, E.zeros(()), one, True)
    q0, q1 = qc[0], E.add(E.add(qc[0], qc[1]), qc[2])
    claim = E.add(E.mul(E.sub(E.ones(()), r), q0), E.mul(r, q1))
    m1, qc1 = KL.e_gkr_message(sums, coefs, mu, r, claim, one, True)
    m2, qc2 = KL.e_gkr_message(sums, coefs, mu, r, claim, one, False)
    assert np.array_equal(m1, m2) and np.array_equal(qc1, qc2)


def _proofs(table, sizes, seed=0):
    """Proof bytes of one lookup argument with the fast and the generic layer prover."""
    out = []
    for fast in (True, False):
        logup_gkr.FAST_LAYERS = fast
        try:
            g, be, proof, sections = S.prove_requests(
                logup_gkr.LogUpGKR(), "goldilocks", table,
                S._requests(table, sizes, seed))
            S.verify(g, proof, be, S.STATEMENT, sections)
        finally:
            logup_gkr.FAST_LAYERS = True
        out.append(proof)
    return out


@pytest.mark.parametrize("table,sizes", [
    (range_table(0), (1,)),
    (range_table(1), (2,)),
    (range_table(4), (32, 16, 16, 1)),
    (range_table(8), (1 << 9, 4)),
    (silu_table(4, 6, 7), (64, 8, 2)),
])
def test_fast_layers_same_proof_as_generic(table, sizes):
    fast, generic = _proofs(table, sizes)
    assert fast == generic


def test_fast_layers_zero_coordinate():
    """A layer point with a zero coordinate (q(1) not implied by the claim) still gives
    the generic prover's bytes: prove the layer sumcheck directly at such a point."""
    from zklora.zkcore.op import ProverContext
    from zklora.zkcore.transcript import ProverChannel, Transcript

    rng = np.random.default_rng(9)
    n = 4
    trees = [logup_gkr.build_tree(E, None, _rand(rng, 1 << (n + 1), 0.0)),
             logup_gkr.build_tree(E, _rand(rng, 1 << (n + 1), 0.0),
                                  _rand(rng, 1 << (n + 1), 0.0))]
    r = _rand(rng, n, 0.0)
    r[1] = 0
    r[3] = 0
    mu = _rand(rng, (), 0.0)
    unit_leaf = {0: True, 1: False}
    terms, _, coefs, _ = logup_gkr._layer_terms(E, [0, 1], unit_leaf, mu)
    from zklora.zkcore import mle, sumcheck

    tabs = [mle.eq_table(E, r)]
    h = 1 << n
    for i in (0, 1):
        if not unit_leaf[i]:
            tabs += [trees[i].p[n + 1][:h], trees[i].p[n + 1][h:]]
        tabs += [trees[i].q[n + 1][:h], trees[i].q[n + 1][h:]]
    claim = E.scalar(0)
    for x in range(h):
        claim = E.add(claim, sumcheck.combine(E, terms, [t[x] for t in tabs]))

    ch1 = ProverChannel(Transcript("t"))
    p1, f1 = sumcheck.prove(ch1, E, tabs, terms, claim, label="L", public=[0])

    class Ctx:
        pass

    ctx = Ctx()
    ctx.E, ctx.ch = E, ProverChannel(Transcript("t"))
    assert isinstance(ctx.ch, ProverChannel) and ProverContext.prover
    p2, f2 = logup_gkr._prove_layer(ctx, "L", n, r, trees, [0, 1], unit_leaf, coefs, mu, claim)
    assert ch1.proof_bytes() == ctx.ch.proof_bytes()
    assert np.array_equal(p1, p2)
    assert all(np.array_equal(a, b) for a, b in zip(f1[1:], f2[1:]))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 17])
def test_mle_evaluate_base_split_matches_eq_dot(n):
    """`mle.evaluate` of a base table (eq_hiᵀ·M·eq_lo) equals Σ_x eq(r, x)·t[x]."""
    from zklora.zkcore import mle

    F = registry().field("goldilocks")
    rng = np.random.default_rng(n)
    t = F.random(rng, 1 << n)
    t[: min(len(t), 4)] = np.array(EDGE[: min(len(t), 4)], np.uint64) % np.uint64(P_INT)
    r = _rand(rng, n)
    want = E.dot(mle.lift(E, t, True), mle.eq_table(E, r))
    assert np.array_equal(mle.evaluate(E, t, r, base=True), want)


# -- the engine's pairwise-product fast path (zklora.kernels.sumcheck) --------------------


@pytest.mark.parametrize("m", [1, 2, 16, 4096])
def test_p2_kernels_match_reference(m):
    from zklora.kernels import sumcheck as KS

    rng = np.random.default_rng(m)
    st = _rand(rng, (3, 4 * m))
    fa = np.array([0, 1, 2, 0], np.int64)
    fb = np.array([1, 2, 2, 0], np.int64)
    r = _rand(rng, ())
    small = st[:, : min(4 * m, 64)].copy()
    assert np.array_equal(KS.p2_sums(small, fa, fb), KS.ref_p2_sums(small, fa, fb))
    out, sums = KS.p2_fold_sums(small, r, fa, fb)
    assert np.array_equal(out, KS.ref_fold(small, r))
    assert np.array_equal(sums, KS.ref_p2_sums(out, fa, fb))
    # parallel against serial on the full size
    par = KS.e_p2_sums(st, fa, fb, 3)
    assert np.array_equal(par, KS.e_p2_sums_s(st, fa, fb))
    o1 = np.empty((3, 2 * m, 2), np.uint64)
    o2 = np.empty((3, 2 * m, 2), np.uint64)
    a = KS.e_p2_fold_sums(st, r[0], r[1], o1, fa, fb, 3)
    b = KS.e_p2_fold_sums_s(st, r[0], r[1], o2, fa, fb)
    assert np.array_equal(a, b) and np.array_equal(o1, o2)


@pytest.mark.parametrize("nv", [1, 2, 5, 13])
@pytest.mark.parametrize("terms", [[(1, (0, 1))], [(3, (0, 1)), (5, (2, 2)), (7, (1, 0))]])
def test_p2_fast_path_same_proof_as_generic(nv, terms):
    from zklora.zkcore import sumcheck
    from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

    rng = np.random.default_rng(nv)
    tables = [_rand(rng, 1 << nv) for _ in range(3)]
    tables[0] = E.embed(registry().field("goldilocks").random(rng, 1 << nv))  # a base table
    claim = E.scalar(0)
    for x in range(1 << nv) if nv < 10 else ():
        claim = E.add(claim, sumcheck.combine(E, terms, [t[x] for t in tables]))
    if nv >= 10:
        for c, (a, b) in terms:
            claim = E.add(claim, E.mul(E.scalar(c), E.dot(tables[a], tables[b])))
    proofs = []
    for fast in (True, False):
        sumcheck.FAST = fast
        try:
            ch = ProverChannel(Transcript("p2"))
            pt, fin = sumcheck.prove(ch, E, tables, terms, claim, public=[1])
        finally:
            sumcheck.FAST = True
        proofs.append((ch.proof_bytes(), pt, fin))
    assert proofs[0][0] == proofs[1][0]
    vch = VerifierChannel(Transcript("p2"), proofs[0][0])
    sumcheck.verify(vch, E, nv, 3, terms, claim, public={1: proofs[0][2][1]})
    vch.finish()


@pytest.mark.parametrize("want1", [False, True])
def test_gkr_fold_sums_matches_fold_then_sums(want1):
    from zklora.kernels import sumcheck as KS

    rng = np.random.default_rng(21)
    for m in (1, 4, 4096):
        W = _rand(rng, (6, 4 * m))
        Ej = _rand(rng, m)
        r = _rand(rng, ())
        slots = np.array([[0, 1, 2, 3], [-1, -1, 4, 5]], np.int64)
        out, sums, En = KL.gkr_fold_sums(W, r, slots, Ej, want1)
        folded = KS.ref_fold(W, r) if m < 64 else None
        if folded is not None:
            assert np.array_equal(out, folded)
        s2, en2 = KL.gkr_sums(out, out, slots, Ej, want1)
        assert np.array_equal(sums, s2) and np.array_equal(En, en2)


# -- mixed-field first round, message and weight-table kernels ----------------------------

_BASE = registry().field("goldilocks")


def _table(rng, kind, n):
    """A table of n entries: ``b`` base (n,), ``e`` extension (n, 2), with edge values."""
    if kind == "e":
        return _rand(rng, n)
    t = _BASE.random(rng, n)
    k = min(n, 4)
    t[:k] = np.array([P_INT - 1, 0, 1, P_INT - 2][:k], np.uint64)
    return t


@pytest.mark.parametrize("kinds", ["bb", "be", "eb", "ee"])
@pytest.mark.parametrize("m", [1, 2, 16])
def test_pair_sums_match_reference(kinds, m):
    from zklora.kernels import sumcheck as KS

    rng = np.random.default_rng(m)
    A, B = _table(rng, kinds[0], 2 * m), _table(rng, kinds[1], 2 * m)
    assert np.array_equal(KS.pair_sums(A, B), KS.ref_pair_sums(A, B))


@pytest.mark.parametrize("kinds", ["bb", "be", "eb", "ee"])
def test_pair_sums_parallel_match_serial(kinds):
    from zklora.kernels import sumcheck as KS

    rng = np.random.default_rng(4)
    m = 1 << 13
    A, B = _table(rng, kinds[0], 2 * m), _table(rng, kinds[1], 2 * m)
    got = KS.pair_sums(A, B)  # parallel at this size
    a, b = (B, A) if kinds == "eb" else (A, B)
    rng_fn = {"bb": KS._pair_range_bb, "be": KS._pair_range_be, "eb": KS._pair_range_be,
              "ee": KS._pair_range_ee}[kinds]
    acc = np.zeros((2, 2), np.uint64)
    rng_fn(a, b, 0, m, acc)
    assert np.array_equal(got, acc)
    # and one product of the reference on a prefix of the pairs
    assert np.array_equal(KS.pair_sums(A[:64], B[:64]), KS.ref_pair_sums(A[:64], B[:64]))


@pytest.mark.parametrize("kind", ["b", "e"])
@pytest.mark.parametrize("m", [1, 8, 1 << 13])
def test_fold_into_matches_reference(kind, m):
    from zklora.kernels import sumcheck as KS

    rng = np.random.default_rng(m)
    t = _table(rng, kind, 2 * m)
    r = _rand(rng, ())
    r[0] = P_INT - 1
    out = np.empty((m, 2), np.uint64)
    KS.fold_into(t, r, out)
    k = min(m, 32)
    assert np.array_equal(out[:k], KS.ref_fold_one(t[: 2 * k], r))
    if kind == "b":
        assert np.array_equal(out, E.sc_fold(E.embed(t)[None], r)[0])
    else:
        assert np.array_equal(out, E.sc_fold(t[None], r)[0])


def test_p2_message_matches_reference():
    from zklora.kernels import sumcheck as KS

    rng = np.random.default_rng(8)
    for T in (1, 2, 5):
        for _ in range(10):
            sums, coeffs, running = _rand(rng, (T, 2)), _rand(rng, T), _rand(rng, ())
            assert np.array_equal(KS.e_p2_message(sums, coeffs, running),
                                  KS.ref_p2_message(sums, coeffs, running))
    z = np.zeros((1, 2, 2), np.uint64)
    full = np.full((1, 2, 2), P_INT - 1, np.uint64)
    for s in (z, full):
        one = np.array([[1, 0]], np.uint64)
        run = np.array([P_INT - 1, 0], np.uint64)
        assert np.array_equal(KS.e_p2_message(s, one, run), KS.ref_p2_message(s, one, run))


@pytest.mark.parametrize("nvs", [[0], [3], [12], [2, 2, 0, 5], [12, 3, 12]])
def test_eq_acc_matches_reference(nvs):
    """Claims accumulate into their own blocks (two claims may share one); n = 12 takes
    the outer-product path (`EQ_LO` = 11 low variables)."""
    from zklora.kernels import sumcheck as KS

    rng = np.random.default_rng(len(nvs) + sum(nvs))
    nmax = max(max(nvs), 1)
    pts = _rand(rng, (len(nvs), nmax))
    offs, pos = [], 0
    for k, n in enumerate(nvs):
        if k and nvs[k - 1] == n and n == 12:
            offs.append(offs[-1])  # same block as the previous claim
        else:
            offs.append(pos)
            pos += 1 << n
    size = max(o + (1 << n) for o, n in zip(offs, nvs))
    coefs = _rand(rng, len(nvs))
    coefs[0] = [P_INT - 1, 0]
    out = _rand(rng, size)
    got = out.copy()
    KS.eq_acc(pts, nvs, offs, coefs, got)
    if max(nvs) < 12:
        assert np.array_equal(got, KS.ref_eq_acc(pts, nvs, offs, coefs, out))
    from zklora.zkcore import mle

    want = out.copy()
    for k, (n, o) in enumerate(zip(nvs, offs)):
        e = E.mul(mle.eq_table(E, pts[k, :n]), coefs[k])
        want[o:o + (1 << n)] = E.add(want[o:o + (1 << n)], e)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("nv", [1, 4, 11, 13])
def test_flat_base_tables_same_proof_as_lifted(nv):
    """Base-field tables given flat ((N,), read in the base field in the first round)
    give the bytes of the same tables lifted, on the fast and on the generic path."""
    from zklora.zkcore import sumcheck
    from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

    rng = np.random.default_rng(nv)
    flat = [_table(rng, "b", 1 << nv), _table(rng, "e", 1 << nv), _table(rng, "b", 1 << nv)]
    lifted = [E.embed(t) if t.ndim == 1 else t for t in flat]
    for terms in ([(1, (0, 1)), (3, (2, 0)), (2, (2, 2))], [(1, (0, 1, 2))]):
        claim = E.scalar(0)
        for c, fs in terms:
            p = lifted[fs[0]]
            for f in fs[1:]:
                p = E.mul(p, lifted[f])
            claim = E.add(claim, E.mul(E.scalar(c), E.sum(p)))
        out = []
        for tabs in (flat, lifted):
            ch = ProverChannel(Transcript("flat"))
            pt, fin = sumcheck.prove(ch, E, tabs, terms, claim, public=[1])
            out.append(ch.proof_bytes())
        assert out[0] == out[1]
        vch = VerifierChannel(Transcript("flat"), out[0])
        sumcheck.verify(vch, E, nv, 3, terms, claim, public={1: fin[1]})
        vch.finish()


def test_flat_base_tables_bad_witness_caught():
    """A wrong claim over flat base tables: the prover's self-check refuses, and a proof
    made with self-checks off is rejected by the verifier."""
    from zklora.zkcore import selfcheck, sumcheck
    from zklora.zkcore.errors import ProverError, VerificationError
    from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

    rng = np.random.default_rng(2)
    nv = 12
    A, B = _table(rng, "b", 1 << nv), _table(rng, "e", 1 << nv)
    claim = E.add(E.dot(E.embed(A), B), E.scalar(1))
    with pytest.raises(ProverError):
        sumcheck.prove(ProverChannel(Transcript("bad")), E, [A, B], [(1, (0, 1))], claim)
    with selfcheck.disabled():
        ch = ProverChannel(Transcript("bad"))
        sumcheck.prove(ch, E, [A, B], [(1, (0, 1))], claim)
    vch = VerifierChannel(Transcript("bad"), ch.proof_bytes())
    with pytest.raises(VerificationError):
        sumcheck.verify(vch, E, nv, 2, [(1, (0, 1))], claim)


@pytest.mark.parametrize("n", [0, 3, 12, 13, 15])
def test_eq_expand_outer_product_matches_doubling(n):
    """`eq_expand` (low variables serial, high ones as an outer product) equals the serial
    doubling and, on a prefix, the reference from the definition."""
    from zklora.kernels import goldilocks as K
    from zklora.kernels import reference as R

    rng = np.random.default_rng(n)
    r = _rand(rng, max(n, 1))[:n]
    if n:
        r[0] = [P_INT - 1, 0]
        r[-1] = [0, 0]
    a = np.zeros((1 << n, 2), np.uint64)
    b = np.zeros((1 << n, 2), np.uint64)
    K.eq_expand(r, a)
    K.eq_expand_s(r, b)
    assert np.array_equal(a, b)
    k = min(n, 6)  # the reference on the low variables: the first 2^k entries, scaled
    want = R.eq_expand(r[:k])
    scale = np.array([1, 0], np.uint64)
    for j in range(k, n):
        scale = E.mul(scale, E.sub(E.ones(()), r[j]))
    assert np.array_equal(a[: 1 << k], E.mul(want, scale))
