"""The ZK verifier's goldilocks-ext2 fast paths give the values of their generic twins:
`zk._tensor_points` / `zk._prod_z` / `zk._prod` (kernels `e_zk_points`, `e_prod_z`),
`claims._eq_combo` (`e_eq_combo`) and `sumcheck.combine` (Python integers)."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import goldilocks as KG
from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import claims, zk
from zklora.zkcore import sumcheck as sc
from zklora.zkcore.errors import VerificationError

E = GOLDILOCKS.ext


@pytest.fixture(autouse=True)
def _warm():
    """Start numba (the fast paths serve a warm process only)."""
    z = np.zeros((1, 2), np.uint64)
    KG.eadd.kernel(z, z, z.copy())
    assert KG.numba_started()


@pytest.mark.parametrize("n,d", [(1, 2), (5, 3), (20, 4), (13, 7), (3, 11), (1, 11)])
def test_tensor_points_and_products(monkeypatch, n, d):
    rng = np.random.default_rng(n * 100 + d)
    reg = zk.Region("m", 8, 0, n, d, 2)
    if reg.size_vars > 8:
        reg = zk.Region("m", reg.size_vars, 0, n, d, 2)
    pt = E.random(rng, n + 3)
    fast = zk._tensor_points(E, reg, pt, VerificationError), zk._prod_z(E, pt), \
        zk._prod(E, pt)
    monkeypatch.setattr(zk, "_fast", lambda E: False)
    slow = zk._tensor_points(E, reg, pt, VerificationError), zk._prod_z(E, pt), \
        zk._prod(E, pt)
    for a, b in zip(fast[0] + fast[1] + (fast[2],), slow[0] + slow[1] + (slow[2],)):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("fast", [True, False])
def test_tensor_points_zero_denominator_aborts(monkeypatch, fast):
    if not fast:
        monkeypatch.setattr(zk, "_fast", lambda E: False)
    pt = E.random(np.random.default_rng(1), 3)
    pt[1] = (KG.P_INT - 1, 0)   # 1 + r = 0
    with pytest.raises(VerificationError, match="1 \\+ r\\^w = 0"):
        zk._tensor_points(E, zk.Region("m", 8, 0, 3, 2, 2), pt, VerificationError)


@pytest.mark.parametrize("n,count", [(0, 2), (1, 1), (5, 3), (20, 7)])
def test_eq_combo(monkeypatch, n, count):
    rng = np.random.default_rng(n + count)
    pts = [E.random(rng, n) for _ in range(count)]
    rho, r = E.random(rng, ()), E.random(rng, n)
    a = claims._eq_combo(E, pts, rho)(r)
    monkeypatch.setattr(KG, "numba_started", lambda: False)
    assert np.array_equal(a, claims._eq_combo(E, pts, rho)(r))


def test_combine_python_ints():
    rng = np.random.default_rng(3)
    for _ in range(200):
        k = int(rng.integers(1, 6))
        vals = list(E.random(rng, k))
        terms = []
        for _ in range(int(rng.integers(0, 5))):
            fs = tuple(int(x) for x in rng.integers(0, k, int(rng.integers(0, 4))))
            c = int(rng.integers(-5, 5)) if rng.random() < .5 else E.random(rng, ())
            terms.append((c, fs))
        acc = E.scalar(0)
        for c, fs in terms:
            p = E.scalar(c) if isinstance(c, int) else c
            for f in fs:
                p = E.mul(p, vals[f])
            acc = E.add(acc, p)
        got = sc.combine(E, terms, vals)
        assert got.dtype == acc.dtype and np.array_equal(got, acc)
    # a non-canonical operand takes the generic path
    assert sc._combine_gl([(1, (0,))], [np.array([KG.P_INT, 0], np.uint64)]) is None


def test_committer_stack_claim_keys_and_batched_helpers_match(reg):
    """A ZK proof of the rescale graph (hiding ligero) verified with spies: every key
    `Committer._stack_claim` builds equals `stack._own_key` of the claim without it, and
    `Blind.owned` / the batched `columns_hidden` and range residual coefficients leave the
    verifier accepting (tampered keys: rejected)."""
    from unittest import mock

    import attrs

    from tests.conftest import backend_for
    from tests.test_rescale_op import rescale_graph, wit
    from zklora.zkcore import graph as graphlib
    from zklora.zkcore import stack

    be = backend_for(reg, "goldilocks", "ligero", "logup-gkr")
    g = rescale_graph()
    with zk.session():
        stream, sections = graphlib.prove(g, wit(), be, {})
    seen = []
    orig = stack._dedupe

    def spy(E, claims, err, keys=None):
        for c in claims:
            if c.key is not None:
                assert c.key == stack._own_key(E, attrs.evolve(c, key=None))
                seen.append(c)
        return orig(E, claims, err, keys)

    with zk.session(), mock.patch.object(stack, "_dedupe", spy):
        graphlib.verify(g, stream, be, {}, sections)
    assert seen, "no blinded stack claim with a key"

    def wrong(E, claims, err, keys=None):
        claims = [attrs.evolve(c, key=c.key[:-1] + bytes([c.key[-1] ^ 1]))
                  if c.key else c for c in claims]
        return orig(E, claims, err, keys)

    with zk.session(), mock.patch.object(stack, "_dedupe", wrong), \
            pytest.raises(VerificationError):
        graphlib.verify(g, stream, be, {}, sections)


@pytest.mark.parametrize("K,count", [(1, 1), (6, 9), (12, 40)])
def test_w_eval_kernel(monkeypatch, K, count):
    """`stack._w_eval`'s kernel (`e_eq_dot`) equals its vector-pass twin."""
    from zklora.zkcore import stack

    rng = np.random.default_rng(K + count)
    cl = []
    for _ in range(count):
        nv = int(rng.integers(0, K + 1))
        cl.append(stack.StackClaim(nv, int(rng.integers(0, 1 << (K - nv))), E.random(rng, nv),
                                   E.random(rng, 1)[0]))
    coefs, r = E.random(rng, count), E.random(rng, K)
    a = stack._w_eval(E, K, coefs, cl)(r)
    monkeypatch.setattr(KG, "numba_started", lambda: False)
    assert np.array_equal(a, stack._w_eval(E, K, coefs, cl)(r))


@pytest.mark.parametrize("n,nb", [(1, 0), (4, 3), (12, 20)])
def test_hidden_finish_python_ints(monkeypatch, n, nb):
    """`zk.hidden_finish`'s mask claim in Python integers (`_finish_ints`) equals the
    array path's: the same claim (head, value, terms) and output blinds."""
    rng = np.random.default_rng(7 * n + nb)
    sv = zk.slot_vars(2)
    regA = zk.Region("zk:masks/0", sv, 0, n, 2, 2)
    regB = zk.Region("zk:masks/1", sv, 0, 1, 4, 2)
    h = zk.HiddenRun(2, 4, 2, [0], [0], regA, regB, E.zeros(()), E.random(rng, ()))
    blinds = [claims.Blind(f"zk:masks/{2 + k}", E.random(rng, 5), E.random(rng, ()))
              for k in range(nb)]
    point, values, running = E.random(rng, n), list(E.random(rng, 2)), E.random(rng, ())
    terms = [(1, (0, 1))]

    class Ctx:
        prover = False

        def __init__(self):
            self.E, self.filed = E, []

        def zk_claim(self, c):
            self.filed.append(c)

    def run():
        ctx = Ctx()
        out = zk.hidden_finish(ctx, "t", h, terms, point, values, running, blinds)
        (c,) = ctx.filed
        return c, out

    orig, took, used = zk._finish_ints, [], []
    monkeypatch.setattr(zk, "_finish_ints", lambda *a: took.append(orig(*a)) or took[-1])
    c1, o1 = run()
    monkeypatch.setattr(zk, "_finish_ints", lambda *a: used.append(1) or False)
    c2, o2 = run()
    assert took == [True] and used == [1]   # (the fast path, then the array path)
    assert c1.tensor == c2.tensor and np.array_equal(c1.point, c2.point)
    assert np.array_equal(c1.value, c2.value) and len(c1.blind) == len(c2.blind) == n + nb
    for a, b in zip(c1.blind, c2.blind):
        assert a.tensor == b.tensor and np.array_equal(a.point, b.point)
        assert np.array_equal(a.coefficient, b.coefficient)
        assert a.coefficient.dtype == b.coefficient.dtype == np.uint64
    assert [len(x) for x in o1[2]] == [len(x) for x in o2[2]] == [1, 0]
    assert np.array_equal(o1[2][0][0].coefficient, o2[2][0][0].coefficient)


def test_prefix_counts_match_names_scan():
    """`zk._prefix_counts` (one pass, `precommit`) gives `MaskPool._names`' per-prefix
    scan of the specs: names P + digits only, the longest matching pool prefix."""
    import random

    rnd = random.Random(1)
    pref = [zk.PREFIX] + [zk.fork_prefix(i) for i in range(12)]
    names = []
    for _ in range(3000):
        c = rnd.random()
        if c < .3:
            names.append(rnd.choice(pref) + str(rnd.randint(0, 300)))
        elif c < .4:
            names.append(rnd.choice(pref) + "x" + str(rnd.randint(0, 3)))
        elif c < .5:
            names.append(f"{zk.OPEN_PREFIX}{rnd.randint(0, 9)}")
        elif c < .55:
            names.append(f"{zk.PREFIX}s0{rnd.randint(0, 9)}/3")
        else:
            names.append(f"t/{rnd.random()}")
    specs = dict.fromkeys(names)
    for ps in (pref, pref[:1], pref[3:7], []):
        assert zk._prefix_counts(specs, ps) == {
            p: sum(1 for s in specs if s.startswith(p) and s[len(p):].isdigit())
            for p in ps}
