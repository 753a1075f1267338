"""LogUp-GKR over several tables at once (`LogUpGKR.prove_many`): one GKR over two
fraction trees holding every table, rows tagged with their table's index.  Tamper tests:
a cheating prover changes one GKR message element (absorbed, so the transcript stays
consistent), proves the tables in another order, or flips a proof byte; the verifier
rejects each."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.plugins.lookups.logup_gkr import LogUpGKR
from zklora.plugins.lookups.tables import silu_table
from zklora.zkcore import selfcheck
from zklora.zkcore.errors import ProofFormatError, VerificationError
from zklora.zkcore.range import range_table
from zklora.zkcore.testing import lookup_suite as S

FIELD = "goldilocks"


def _lookups(seed=0):
    return S._many([range_table(3), range_table(5), silu_table(4, 6, 6), range_table(8)],
                   [(8, 2), (32,), (16, 4), (256, 64)], seed)


def _rejects(g, proof, sections, what):
    be = S.backend(LogUpGKR(), FIELD)
    with pytest.raises((VerificationError, ProofFormatError)):
        S.verify(g, proof, be, S.STATEMENT, sections)


def test_many_tables_verify_and_are_smaller_than_one_by_one():
    lk = _lookups()
    g, be, proof, sections = S.prove_tables(LogUpGKR(), FIELD, lk)
    S.verify(g, proof, be, S.STATEMENT, sections)

    class OneByOne(LogUpGKR):
        def prove_many(self, ctx, committed):
            for c in committed:
                LogUpGKR.prove_many(self, ctx, [c])

    g2, be2, proof2, sections2 = S.prove_tables(OneByOne(), FIELD, lk)
    S.verify(g2, proof2, be2, S.STATEMENT, sections2)

    def lookups(secs):
        (s, e), = [(s, e) for n, s, e in secs if n == "lookups"]
        return e - s

    assert lookups(sections) < lookups(sections2)


def test_single_table_prove_is_prove_many():
    t = range_table(6)
    lk = S._many([t], [(64, 16)], 1)
    g, be, proof, sections = S.prove_tables(LogUpGKR(), FIELD, lk)
    S.verify(g, proof, be, S.STATEMENT, sections)


@pytest.mark.parametrize("field", ["goldilocks", "bls12-381-fr"])
def test_suite_many_tables(field):
    S.check_many_tables(LogUpGKR, field, [range_table(4), range_table(6)],
                        [(16, 4), (64, 8)])


def test_suite_many_tables_function_tables():
    S.check_many_tables(LogUpGKR, FIELD, [silu_table(4, 6, 6), silu_table(4, 6, 7)],
                        [(32, 8), (16,)])


@pytest.mark.parametrize("where", ["/roots", "/l0/", "/l3/round1", "/l5/finals",
                                   "/l7/round6", "/l8/finals"])
def test_one_gkr_message_element_changed(where):
    """A prover that adds 1 to one element of one GKR message (and absorbs it)."""
    hit = []

    def tamper(label, v):
        if where in label and not hit:
            hit.append(label)
            v = np.array(v, copy=True)
            v.reshape(-1)[0] = (int(v.reshape(-1)[0]) + 1) % (2**64 - 2**32 + 1)
        return v

    arg = LogUpGKR()
    arg.test_tamper_message = tamper
    with selfcheck.disabled():
        g, _, proof, sections = S.prove_tables(arg, FIELD, _lookups(2))
    assert hit, f"no GKR message matched {where!r}"
    _rejects(g, proof, sections, f"GKR message {hit[0]} changed")


def test_tables_order_swapped():
    """A prover that proves the tables in another order than the verifier's."""

    class Swapped(LogUpGKR):
        def prove_many(self, ctx, committed):
            cs = list(committed)
            super().prove_many(ctx, cs[::-1] if ctx.prover else cs)

    with selfcheck.disabled():
        g, _, proof, sections = S.prove_tables(Swapped(), FIELD, _lookups(3))
    _rejects(g, proof, sections, "tables swapped")


def test_proof_bytes_flipped_everywhere_in_lookups():
    g, be, proof, sections = S.prove_tables(LogUpGKR(), FIELD, _lookups(4))
    (start, end), = [(s, e) for n, s, e in sections if n == "lookups"]
    for pos in np.unique(np.linspace(start, end - 1, 24).astype(int)):
        bad = bytearray(proof)
        bad[pos] ^= 0x10
        _rejects(g, bytes(bad), sections, f"byte {pos}")
    _rejects(g, proof[:-1], sections, "truncated")


@pytest.mark.parametrize("unit", [True, False])
@pytest.mark.parametrize("depth", [0, 1, 2, 5])
def test_lazy_tree_layers_match_the_full_tree(unit, depth):
    """`lazy_tree` (layer above the leaves in chunks of 2, leaves and that layer dropped
    and rebuilt by `need`) gives every layer of `build_tree`."""
    from zklora.plugins.lookups import logup_gkr as L
    from zklora.zkcore.plugins import registry

    E = registry().field(FIELD).ext
    rng = np.random.default_rng(depth)
    n = 1 << depth
    q = np.asarray(rng.integers(1, 2**62, size=(n, 2)), np.uint64)
    p = None if unit else np.asarray(rng.integers(0, 2**62, size=(n, 2)), np.uint64)
    full = L.build_tree(E, p, q)

    def rng_leaves(lo, hi):
        return (None if unit else p[lo:hi]), q[lo:hi]

    above = None if n < 2 else (lambda: L.leaf_layer_above(E, n, unit, rng_leaves, chunk=2))
    lazy = L.lazy_tree(E, depth, unit, lambda: (p, q), above)
    assert np.array_equal(lazy.q[0], full.q[0]) and np.array_equal(lazy.p[0], full.p[0])
    for layer in range(1, depth + 1):
        lazy.need(layer)
        assert lazy.q[layer - 1] is None
        assert np.array_equal(lazy.q[layer], full.q[layer])
        if not (unit and layer == depth):
            assert np.array_equal(lazy.p[layer], full.p[layer])


@pytest.mark.parametrize("sizes,most,want", [
    ([4, 4, 2], 3, [[0, 1], [2]]),
    ([1 << 22, 1 << 20, 1 << 20, 1 << 20], 3, [[0], [1, 2], [3]]),
    ([8, 1, 2, 4, 1, 1], 3, [[0, 3, 2, 1, 4], [5]]),
    ([8, 4, 2, 1, 2], 3, [[0, 1, 2, 4], [3]]),
    ([8, 4, 2, 1, 1, 1], 2, [[0, 1, 2, 3, 4], [5]]),
    ([4, 2, 1], 2, [[0], [1, 2]]),
    ([4, 2, 1], 5, [[0], [1], [2]]),
    ([16], 3, [[0]]),
])
def test_lookup_groups_fill_powers_of_two(sizes, most, want):
    from zklora.plugins.lookups.logup_gkr import lookup_groups

    got = lookup_groups(sizes, most)
    assert got == want
    for g in got[:-1]:
        tot = sum(sizes[i] for i in g)
        assert tot & (tot - 1) == 0


def test_several_lookup_trees():
    """Tables whose lookup sizes sum to 2^6 + 2^4 + 2^2 + 2^0: three lookup trees (the
    last padded), rejected when one multiplicity is moved."""
    S.check_many_tables(LogUpGKR, FIELD, [range_table(4), range_table(6), range_table(2),
                                          range_table(1)],
                        [(64,), (16,), (4,), (1,)])
