"""Conformance of every registered lookup argument under both profiles' fields, with the
``plain`` commitment scheme (suite: `zklora.zkcore.testing.lookup_suite`)."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.plugins.lookups.tables import exp_digit_table, silu_table
from zklora.zkcore import mle
from zklora.zkcore.lookup import LookupLayout, LookupRequest
from zklora.zkcore.op import TensorSpec
from zklora.zkcore.plugins import registry
from zklora.zkcore.range import range_table
from zklora.zkcore.testing import lookup_suite as S

FIELDS = ["goldilocks", "bls12-381-fr"]
ARGS = registry().names("lookup")


def test_both_arguments_registered():
    assert {"logup-gkr", "tlookup"} <= set(ARGS)


@pytest.fixture(params=[(a, f) for a in ARGS for f in FIELDS],
                ids=[f"{a}-{f}" for a in ARGS for f in FIELDS])
def case(request):
    name, field = request.param
    cls = registry().lookup(name)
    if not cls.supports(registry().field(field)):
        pytest.skip(f"{name} does not support {field}")
    return cls, field


@pytest.mark.parametrize("bits", [4, 8])
def test_completeness_range(case, bits):
    cls, field = case
    S.check_completeness(cls, field, range_table(bits), sizes=(1 << (bits + 1), 16, 16, 1))


def test_completeness_mid_size(case):
    cls, field = case
    bits = 16 if field == "goldilocks" else 10
    S.check_completeness(cls, field, range_table(bits), sizes=(1 << bits,))


@pytest.mark.slow
@pytest.mark.parametrize("bits", [12, 14, 16])
def test_completeness_large(case, bits):
    cls, field = case
    S.check_completeness(cls, field, range_table(bits), sizes=(1 << bits, 1 << (bits - 2)))


def test_completeness_signed_and_function_tables(case):
    cls, field = case
    S.check_completeness(cls, field, range_table(5, -16), sizes=(32, 8))
    S.check_completeness(cls, field, silu_table(4, 6, 7), sizes=(64, 8, 2))
    S.check_completeness(cls, field, exp_digit_table(8, 8, 4, 1), sizes=(16,))


def test_single_row_table_and_request(case):
    cls, field = case
    S.check_completeness(cls, field, range_table(0), sizes=(1,))
    S.check_completeness(cls, field, range_table(0, 7), sizes=(4, 2))


def test_rejects_value_outside_range_table(case):
    cls, field = case
    S.check_rejects_outside(cls, field, range_table(6), sizes=(32, 8))


def test_rejects_input_outside_function_domain(case):
    cls, field = case
    S.check_rejects_outside(cls, field, silu_table(4, 6, 6))


def test_rejects_wrong_function_output(case):
    cls, field = case
    S.check_rejects_wrong_output(cls, field, silu_table(4, 6, 6), sizes=(32, 16))


def test_rejects_wrong_multiplicities(case):
    cls, field = case
    S.check_rejects_wrong_multiplicities(cls, field, range_table(5), sizes=(32, 4))


def test_rejects_tampered_bytes(case):
    cls, field = case
    S.check_rejects_tampered_bytes(cls, field, range_table(5), sizes=(16, 8),
                                   positions=6 if field == "goldilocks" else 4)


def test_rejects_tampered_bytes_function_table(case):
    cls, field = case
    S.check_rejects_tampered_bytes(cls, field, silu_table(4, 6, 5), sizes=(16,), positions=4)


def test_suite_detects_a_broken_argument():
    """An argument that ignores the test hooks produces honest proofs where the suite
    expects malicious ones, so the suite's rejection checks fail (they can fail)."""
    cls = registry().lookup("logup-gkr")

    class Honest(cls):
        def witness(self, ctx, table, requests):
            self.test_tamper_multiplicities = None
            return super().witness(ctx, table, requests)

    with pytest.raises(AssertionError, match="accepted"):
        S.check_rejects_wrong_multiplicities(Honest, "goldilocks", range_table(4))


# -- the layout split -------------------------------------------------------------------


@pytest.mark.parametrize("field", FIELDS)
def test_layout_split_matches_combined_mle(field):
    reg = registry()
    F = reg.field(field)
    E = F.ext
    rng = np.random.default_rng(5)
    t = range_table(6, -3)
    sizes = [4, 32, 1, 8]
    specs = {f"x{i}": TensorSpec(f"x{i}", (n,), "committed") for i, n in enumerate(sizes)}
    reqs = [LookupRequest(t, (f"x{i}",), f"r{i}") for i in range(len(sizes))]
    lay = LookupLayout(t, reqs, specs)
    assert lay.size == 64 and lay.padding == 64 - sum(sizes)
    data = {n: F.from_ints(rng.integers(-3, 61, size=s.size)) for n, s in specs.items()}
    (comb,) = lay.combine(F, data.__getitem__)
    z = E.random(rng, lay.num_vars)
    want = mle.evaluate(E, comb, z, base=True)

    class Ctx:
        pass

    ctx = Ctx()
    ctx.E = E
    sent = []
    ctx.claim = lambda n, p, v: sent.append((n, p, v))
    vals = []
    for b in lay.blocks:
        if b.request is not None:
            vals.append(mle.evaluate(E, data[reqs[b.request].columns[0]], z[:b.num_vars],
                                     base=True))
    ctx.exchange = lambda label, n, compute: np.stack(vals)
    (got,) = lay.columns(ctx, z, "x")
    assert E.equal(got, want)
    assert sorted(n for n, _, _ in sent) == sorted(specs)
    # padding rows hold table row 0
    pads = [b for b in lay.blocks if b.request is None]
    assert all(int(F.to_ints(comb[b.offset])) == -3 for b in pads)


# -- kernels against their references ------------------------------------------------------


def test_lookup_kernels_match_reference():
    E = registry().field("goldilocks").ext
    rng = np.random.default_rng(7)
    F = registry().field("goldilocks")
    cols = [F.random(rng, 16) for _ in range(3)]
    apow, beta = E.random(rng, 3), E.random(rng, ())
    assert np.array_equal(KL.leaf_denoms(E, cols, apow, beta),
                          KL.ref_leaf_denoms(cols, apow, beta))
    p, q = E.random(rng, 32), E.random(rng, 32)
    got = KL.frac_up(E, p, q)
    want = KL.ref_frac_up(p, q)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    got = KL.frac_up(E, None, q)
    want = KL.ref_frac_up_unit(q)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_generic_backend_matches_kernels():
    """The numpy path (used by bls12-381-fr) computes the same as the numba kernels."""
    E = registry().field("goldilocks").ext
    rng = np.random.default_rng(8)
    q = E.random(rng, 16)
    p = E.random(rng, 16)

    class Slow:
        name = "slow"

        def __getattr__(self, a):
            return getattr(E, a)

    slow = Slow()
    for pp in (p, None):
        a, b = KL.frac_up(E, pp, q), KL.frac_up(slow, pp, q)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_many_tables_in_one_proof(case):
    """Several tables in one graph: `LookupArgument.prove_many` (batched or not) with
    tamper checks on one table among several (suite `check_many_tables`)."""
    cls, field = case
    S.check_many_tables(cls, field, [range_table(4), range_table(6)], [(16, 4), (64, 8)])
