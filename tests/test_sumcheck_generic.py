"""The generic-round kernels of `zklora.kernels.sumcheck` (issue 13) against their
Python-int references, on random tables and on edge values (0, 1, p − 1), with base-
valued tables flagged; and the sumcheck prover that uses them against the one that
evaluates every point with the field's `sc_round`/`sc_fold` (same proof bytes)."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import goldilocks as K
from zklora.kernels import sumcheck as KS
from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import sumcheck
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

E = GOLDILOCKS.ext
P = K.P_INT

TERMS = {
    1: [((3, 0), (0,)), ((5, 1), (1,)), ((1, 0), ())],
    2: [((1, 0), (0, 1)), ((2, 9), (2,)), ((7, 1), (1, 1))],
    3: [((1, 0), (0, 1, 2)), ((4, 4), (0, 3)), ((1, 2), (2,))],
    4: [((1, 0), (0, 1, 1, 2)), ((P - 1, 0), (0, 3)), ((3, 0), (0,)), ((2, 5), (1, 2, 3))],
    "pairs": [((1, 0), (0, 1)), ((2, 9), (2, 3)), ((7, 1), (1, 1))],  # the pairwise path
}


def _terms(degree):
    starts, factors = [0], []
    for _, fs in TERMS[degree]:
        factors.extend(fs)
        starts.append(len(factors))
    coeffs = np.array([c for c, _ in TERMS[degree]], np.uint64)
    return np.array(starts, np.int64), np.array(factors, np.int64), coeffs


def _stack(rng, k, size, edge, base):
    if edge:
        vals = np.array([0, 1, P - 1, P - 2, 7], np.uint64)
        st = vals[rng.integers(0, len(vals), (k, size, 2))]
    else:
        st = rng.integers(0, P, (k, size, 2), dtype=np.uint64)
    isb = np.zeros(k, np.bool_)
    for f in base:
        st[f, :, 1] = 0
        isb[f] = True
    return np.ascontiguousarray(st), isb


CASES = [(d, size, edge, base) for d in (1, 2, 3, 4) for size in (2, 8, 1 << 13)
         for edge in (False, True) for base in ((), (0, 2), (0, 1, 2, 3))]


@pytest.mark.parametrize("degree,size,edge,base", CASES)
def test_gen_sums_matches_reference(degree, size, edge, base):
    rng = np.random.default_rng(degree * 1000 + size + 7 * edge + len(base))
    st, isb = _stack(rng, 4, size, edge, base)
    starts, factors, coeffs = _terms(degree)
    running = np.array([P - 1, 3], np.uint64)
    got = KS.gen_sums(st, isb, starts, factors, coeffs, degree, running)
    if size > 64:  # the reference is slow: compare against the generic field kernel,
        # itself checked against its reference in tests/test_fields.py
        want = E.sc_round(st, starts, factors, coeffs, degree)
        want[1] = E.sub(running, want[0])
    else:
        want = KS.ref_gen_sums(st, starts, factors, coeffs, degree, running)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("degree,size,edge", [(d, s, e) for d in (1, 3, 4) for s in (4, 16, 1 << 14)
                                              for e in (False, True)])
def test_gen_fold_sums_matches_reference(degree, size, edge):
    rng = np.random.default_rng(degree * 77 + size + edge)
    st, _ = _stack(rng, 4, size, edge, ())
    starts, factors, coeffs = _terms(degree)
    running = np.array([5, P - 1], np.uint64)
    r = np.array([P - 1, 0], np.uint64) if edge else rng.integers(0, P, 2, dtype=np.uint64)
    out = np.empty((4, size // 2, 2), np.uint64)
    got = KS.gen_fold_sums(st, r, out, starts, factors, coeffs, degree, running,
                           np.zeros(4, np.bool_))
    if size > 64:
        want_out = E.sc_fold(st, r)
        want = E.sc_round(want_out, starts, factors, coeffs, degree)
        want[1] = E.sub(running, want[0])
    else:
        want_out, want = KS.ref_gen_fold_sums(st, r, starts, factors, coeffs, degree, running)
    assert np.array_equal(out, want_out)
    assert np.array_equal(got, want)
    out2 = np.empty_like(out)
    KS.fold_stack_into(st, r, out2)
    assert np.array_equal(out2, want_out)


def _instance(rng, degree, nv, base):
    """Tables (some base (N,), some extension) and terms with their true claim."""
    tables = [GOLDILOCKS.random(rng, 1 << nv) if i in base else E.random(rng, 1 << nv)
              for i in range(4)]
    terms = [(E.scalar(c[0]) if c[1] == 0 else np.array(c, np.uint64), fs)
             for c, fs in TERMS[degree]]
    lifted = [E.embed(t) if t.ndim == 1 else t for t in tables]
    claim = E.scalar(0)
    for x in range(1 << nv):
        claim = E.add(claim, sumcheck.combine(E, terms, [t[x] for t in lifted]))
    return tables, terms, claim


def _prove(tables, terms, claim, fused, public=()):
    old = sumcheck.FUSED
    sumcheck.FUSED = fused
    try:
        ch = ProverChannel(Transcript("generic"))
        point, finals = sumcheck.prove(ch, E, tables, terms, claim, public=public)
    finally:
        sumcheck.FUSED = old
    return ch.proof_bytes(), point, finals


@pytest.mark.parametrize("degree", [1, "pairs", 3, 4])
@pytest.mark.parametrize("nv", [1, 2, 5, 13])
@pytest.mark.parametrize("base", [(), (1, 3)])
def test_fused_prover_same_bytes(degree, nv, base):
    rng = np.random.default_rng(len(str(degree)) * 31 + nv + len(base))
    tables, terms, claim = _instance(rng, degree, nv, base)
    new, p1, f1 = _prove(tables, terms, claim, True, public=(0,))
    old, p2, f2 = _prove(tables, terms, claim, False, public=(0,))
    assert new == old
    assert np.array_equal(p1, p2) and all(np.array_equal(a, b) for a, b in zip(f1, f2))
    ch = VerifierChannel(Transcript("generic"), new)
    sumcheck.verify(ch, E, nv, 4, terms, claim, public={0: f1[0]})
    ch.finish()


def test_fused_prover_takes_a_stack_without_copying_it():
    rng = np.random.default_rng(3)
    tables, terms, claim = _instance(rng, 3, 6, ())
    stack = np.ascontiguousarray(np.stack(tables))
    keep = stack.copy()
    want, _, _ = _prove(tables, terms, claim, True)
    got, _, _ = _prove(stack, terms, claim, True)
    assert got == want and np.array_equal(stack, keep)


def test_fused_prover_rejects_a_bad_witness():
    """g(1) is derived, so a wrong claim is caught by the final self-check."""
    from zklora.zkcore.errors import ProverError

    rng = np.random.default_rng(4)
    tables, terms, claim = _instance(rng, 3, 5, (1,))
    with pytest.raises(ProverError):
        _prove(tables, terms, E.add(claim, E.scalar(1)), True)


@pytest.mark.parametrize("degree,size,edge", [(d, s, e) for d in (1, 2, 3, 4)
                                              for s in (4, 16, 1 << 14) for e in (False, True)])
def test_step_kernels_match_reference(degree, size, edge):
    """`gen_step` (any degree) and `p2_step` (degree 2, pairwise terms): interpolation at
    r, fold, next round and message in one call, written into the caller's buffers."""
    rng = np.random.default_rng(degree * 13 + size + edge)
    st, _ = _stack(rng, 4, size, edge, ())
    starts, factors, coeffs = _terms(degree)
    r = np.array([P - 1, 0], np.uint64) if edge else rng.integers(0, P, 2, dtype=np.uint64)
    g_prev = (np.array([[0, 0], [1, 0], [P - 1, P - 1], [7, 0], [P - 2, 3]], np.uint64)
              if edge else rng.integers(0, P, (5, 2), dtype=np.uint64))[:degree + 1].copy()
    if size > 64:
        run = K.e_interpolate(g_prev, sumcheck._inv_den_array(degree), r[0], r[1])
        out_w = E.sc_fold(st, r)
        g_w = E.sc_round(out_w, starts, factors, coeffs, degree)
        g_w[1] = E.sub(run, g_w[0])
        run_w = run
    else:
        run_w, out_w, g_w, _ = KS.ref_step(st, r, g_prev, starts, factors, coeffs, degree)
    g = g_prev.copy()
    msg = np.empty((max(1, degree), 2), np.uint64)
    run = np.empty(2, np.uint64)
    out = np.empty((4, size // 2, 2), np.uint64)
    KS.gen_step(st, r, out, np.zeros(4, np.bool_), starts, factors, coeffs, degree,
                sumcheck._inv_den_array(degree), g, msg, run)
    assert np.array_equal(run, run_w) and np.array_equal(out, out_w)
    assert np.array_equal(g, g_w)
    assert np.array_equal(msg, np.concatenate([g_w[:1], g_w[2:]]))
    if degree == 2:  # pairwise: every term c·f_a·f_b
        fa, fb = np.array([0, 2, 1], np.int64), np.array([1, 3, 1], np.int64)
        # g(2) = 2·g(1) − g(0) + 2·(X² coefficient), g(1) derived from the running claim
        want = KS.ref_p2_message(KS.ref_p2_sums(out_w, fa, fb), coeffs, run_w)
        g2 = g_prev.copy()
        out2 = np.empty_like(out)
        KS.p2_step(st, r, out2, fa, fb, coeffs, sumcheck._inv_den_array(2), g2, msg, run)
        assert np.array_equal(out2, out_w) and np.array_equal(g2, want)
        assert np.array_equal(msg, want[0::2]) and np.array_equal(run, run_w)


@pytest.mark.parametrize("degree", [1, 2, 3, 4])
def test_combine_stack_matches_combine(degree):
    """The prover's final self-check by one kernel call equals `sumcheck.combine`, also
    on edge values."""
    rng = np.random.default_rng(degree)
    for edge in (False, True):
        st, _ = _stack(rng, 4, 1, edge, ())
        starts, factors, coeffs = _terms(degree)
        terms = [(np.array(c, np.uint64), fs) for c, fs in TERMS[degree]]
        want = sumcheck.combine(E, terms, [st[i, 0] for i in range(4)])
        assert np.array_equal(sumcheck._combine_stack(st, starts, factors, coeffs), want)


def test_backend_serving_the_generic_round_ops_gives_the_same_bytes():
    """A backend with its own ``sc_sums``/``sc_fold_sums``/``sc_fold_into`` (the proposed
    interface, `sumcheck._Rounds`) is used as it is, and makes the same proof."""
    from zklora.plugins.backends.cpu import CpuBackend
    from zklora.zkcore import backend as B

    class Own(CpuBackend):
        name = "own"
        used = 0

        def sc_sums(self, stack, isb, starts, factors, coeffs, degree, running):
            Own.used += 1
            return KS.gen_sums(stack, isb, starts, factors, coeffs, degree, running)

        def sc_fold_sums(self, stack, r, out, starts, factors, coeffs, degree, running):
            out = np.empty((stack.shape[0], stack.shape[1] // 2, 2), np.uint64)
            return out, KS.gen_fold_sums(stack, r, out, starts, factors, coeffs, degree,
                                         running, np.zeros(stack.shape[0], np.bool_))

        def sc_fold_into(self, stack, r, out):
            return self.sc_fold(stack, r)

    rng = np.random.default_rng(9)
    tables, terms, claim = _instance(rng, 3, 7, (1,))
    want, _, _ = _prove(tables, terms, claim, True)
    with B.use(Own()):
        got, _, _ = _prove(tables, terms, claim, True)
    assert got == want and Own.used == 1
