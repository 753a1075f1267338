"""``logup-gkr``: LogUp with a GKR over the fraction-sum trees (Papini–Haböck 2023).

Relation proven, for the combined lookup columns C_0..C_(w−1) (2^K rows, see
`zklora.zkcore.lookup.LookupLayout`), the public table T (2^t rows) and the committed
multiplicities m:

    Σ_i 1 / (β − c_i)  =  Σ_j m_j / (β − τ_j),   c_i = C_0(i) + Σ_(k≥1) α_k C_k(i),
                                                 τ_j = T_0(j) + Σ_(k≥1) α_k T_k(j),

for independent α_1 … α_(w−1), β drawn from the challenge field E after m is committed.
Since the number of rows is below p, this identity of rational functions implies that
every row of C is a row of T.

Protocol:

1. commit m; the verifier derives from the sizes the number k = 2^κ of challenge sets
   (`zklora.zkcore.security.check_lookup`, absorbed); draw k independent sets
   (α_r, β_r) in one round;
2. the fraction trees hold the k sets' leaves interleaved (leaf r + k·x is set r's leaf
   x), so their layer κ holds one fraction sum per set.  The prover sends layer κ of
   both trees, (p_L, q_L)_r and (p_T, q_T)_r (lookup side: numerators 1, denominators
   β_r − c_i; table side: m_j, β_r − τ_j); for every set the verifier checks q_L ≠ 0,
   q_T ≠ 0 and p_L·q_T = p_T·q_L, then draws a point of κ coordinates and takes the sent
   vectors' MLEs there as the claims on layer κ (κ = 0: the roots, one set);
3. GKR from layer κ to the leaves, one layer at a time, both trees batched while both
   are active.  Layer ℓ+1 has entries x + b·2^ℓ (b the top bit) and layer ℓ is
   p_ℓ(x) = p(x,0)q(x,1) + p(x,1)q(x,0),  q_ℓ(x) = q(x,0)q(x,1).  A claim (p_ℓ(r), q_ℓ(r))
   is reduced by the degree-3 sumcheck

       Σ_x eq(r, x)·[p(x,0)q(x,1) + p(x,1)q(x,0) + μ·q(x,0)q(x,1)] = p_ℓ(r) + μ·q_ℓ(r)

   (one μ-power per tree and per claim when batched), after which the prover sends
   p, q at (ρ, 0) and (ρ, 1) and a fresh λ gives the claim at (ρ, λ) on layer ℓ+1;
4. at the leaves (point (z_set, z), z_set the κ low coordinates): the lookup side's
   denominator claim is Σ_r eq(z_set, r)·(β_r − Σ_k α_{r,k} C̃_k(z)), so one claim per
   request column at z (the layout split) serves every set; the table side's denominator
   is evaluated by the verifier (`Table.evaluate`, O(k) for range tables) and its
   numerator (Σ_r eq(z_set, r)·m̃(z) = m̃(z)) becomes a claim on m.

Only m is committed; the proof is O((K² + t²)) field elements (plus 4·k values).

Soundness (docs/soundness.md §2.2): each denominator β − c_0 − Σ α_k c_k has total
degree 1, distinct rows give coprime denominators, and the verifier pins every padding
leaf (layout padding to table row 0, tree padding to 1/1 and 0/1), so the identity at
one set, cleared of its at most N + T distinct denominators (N rows the prover chooses,
T table rows), is a nonzero polynomial of degree < N + T when a row is outside the
table: it passes one set with probability ≤ (N + T)/|E| and all k with ≤ that to the
k-th.  Both sides derive k before drawing α, β and refuse a lookup no k ≤ 16 brings to
2^-100 (`zklora.zkcore.security.check_lookup`).
"""

from __future__ import annotations

import bisect
import os
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager

import attrs
import numpy as np

from zklora.kernels import goldilocks as KG
from zklora.kernels import lookup_gkr as KL
from zklora.zkcore import mle, scratch, selfcheck, zk
from zklora.zkcore.claims import Blind, blind_value, scale_blind
from zklora.zkcore.errors import ProverError
from zklora.zkcore.field import Field
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.lookup import (
    LookupArgument,
    LookupCommitted,
    draw_combiner_sets,
    table_field_columns,
)
from zklora.zkcore.security import MAX_LOOKUP_REPETITIONS, check_lookup
from zklora.zkcore.stack import StackLayout, selector
from zklora.zkcore.sumcheck import degree_of

# -- helpers ---------------------------------------------------------------------------------

#: ``ZKLORA_LOOKUP_TRACE=1``: the prover prints the lookup sizes and each GKR layer's time
#: on stderr (a diagnostic of the lookups phase)
_TRACE = os.environ.get("ZKLORA_LOOKUP_TRACE", "") not in ("", "0")


#: leaves computed from the columns so far (`_Trees._look_range`; the trace's pass count)
_LEAVES = [0]


def _trace(msg: str) -> None:
    if _TRACE:
        print(f"[lookup-gkr {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)



def _empty(E: Field, n: int) -> np.ndarray:
    """n uninitialised elements of E (goldilocks-ext2; zeros for other fields)."""
    if KL.fast(E):
        return np.empty((n, 2), dtype=np.uint64)
    return E.zeros(n)


def combine_values(E: Field, apow, beta, values: Sequence[np.ndarray]) -> np.ndarray:
    """β − Σ_k apow[k]·values[k] for scalars (apow: `draw_combiners`' coefficients)."""
    acc = beta
    for k, v in enumerate(values):
        acc = E.sub(acc, E.mul(apow[k], v))
    return acc


# -- GKR over fraction trees ---------------------------------------------------------------


@attrs.define
class FracTree:
    """Layers 0 (root) … depth (leaves) of a fraction-sum tree; ``p[depth] is None`` when
    every leaf numerator is 1 (``unit``).  A layer may be absent (``q[layer] is None``)
    when ``leaves`` (a function giving the leaves (p, q) again) can rebuild it: `need`
    brings a layer back and drops the ones above it."""

    p: list
    q: list
    depth: int
    unit: bool
    E: Field | None = None
    leaves: Callable[[], tuple] | None = None
    above: Callable[[], tuple] | None = None
    #: the leaves lo … hi−1 again (`streamed_tree`): deep layers are never held whole,
    #: `range` computes any slice of them from the leaves
    leaves_range: Callable[[int, int], tuple] | None = None

    def range(self, layer: int, lo: int, hi: int, out: tuple | None = None) -> tuple:
        """Entries lo … hi−1 of ``layer`` (p None for unit leaves): a slice of the layer
        if it is held, else summed from the leaves (`layer_range`); written into
        ``out`` = (p or None, q) when given (contiguous arrays of E, hi − lo entries)."""
        if self.q[layer] is not None:
            p = self.p[layer]
            res = (None if p is None else p[lo:hi]), self.q[layer][lo:hi]
            return res if out is None else _copy_out(res, out)
        if self.leaves_range is None:
            raise ProverError(f"fraction tree layer {layer} was dropped")
        return layer_range(self.E, self.depth, self.unit, self.leaves_range, layer, lo, hi,
                           out)

    def range_fold(self, layer: int, lo: int, hi: int, rhos, out: np.ndarray, fp: int,
                   fq: int, at: int) -> bool:
        """Entries lo … hi−1 of a ``layer`` this tree does not hold, summed from its
        unit leaves and folded by ``rhos`` while in cache straight into rows fp (p), fq
        (q) of the component-major stack ``out`` from entry ``at`` (`multi_fold`'s
        ``soa``; the producer's ``leaves_range.reduce_fold``, `_Trees._look_reduce_fold`;
        the leaf layer itself, unit: q's leaves only, fp unused, `FOLD_LEAVES`).
        False (nothing written) where that does not apply: the caller sums and folds."""
        if (self.q[layer] is not None or self.leaves_range is None or not self.unit
                or not (FILL_REDUCE and FOLD_FILL) or self.depth < layer
                or self.depth == layer and not FOLD_LEAVES):
            return False
        fn = getattr(self.leaves_range, "reduce_fold", None)
        return fn is not None and bool(fn(lo, hi, layer, 1 << (self.depth - layer), rhos,
                                          out, fp, fq, at))

    def range_window(self, layer: int, a: int, b: int, h: int, Es, want1, acc) -> bool:
        """A window pass's sums (`KL.gkr_window_sums`) of this tree's slot over the
        chunk a … b of a ``layer`` it does not hold (halves a …, h + a …), its entries
        summed from the leaves block by block in cache and added to ``acc`` (1, 3, 2,
        NB, 2) (the producer's ``leaves_range.window_sums``, `_Trees._look_window`;
        `FILL_WINDOW`).  False (nothing added) where that does not apply: the caller
        fills the chunk buffer."""
        if (self.q[layer] is not None or self.leaves_range is None or not self.unit
                or not (FILL_REDUCE and FILL_WINDOW) or self.depth < layer):
            return False
        fn = getattr(self.leaves_range, "window_sums", None)
        return fn is not None and bool(fn(a, h + a, b - a, layer,
                                          1 << (self.depth - layer), Es, want1, acc))

    def drop(self, layer: int) -> None:
        """Drop layers 0 … layer−1 (no longer read)."""
        for j in range(layer):
            self.p[j] = self.q[j] = None

    def need(self, layer: int, hold: int | None = None) -> None:
        """Make ``layer`` present (rebuilt from the nearest present layer below it, or
        from the leaves) and drop layers 0 … layer−1 (the GKR, which descends from the
        root, reads each layer once).  A streamed tree holding no layer below sums
        layer min(``hold``, depth) ≥ ``layer`` from the leaves and keeps it (the
        deepest layer the GKR reads whole, `_hold_layer`): the layers between are
        reduced from it, not summed again from the leaves."""
        self.drop(layer)
        if self.q[layer] is not None:
            return
        j = layer + 1
        while j <= self.depth and self.q[j] is None:
            j += 1
        if j > self.depth and self.leaves_range is not None:  # streamed: one leaf pass
            j = max(layer, min(self.depth, layer if hold is None else hold))
            self.p[j], self.q[j] = layer_full(self.E, self.depth, self.unit,
                                              self.leaves_range, j)
            if j == layer:
                return
            p, q = self.p[j], self.q[j]
        elif j > self.depth:
            if self.leaves is None:
                raise ProverError(f"fraction tree layer {layer} was dropped")
            if self.above is not None and layer < self.depth:
                p, q = self.above()
                j = self.depth - 1
            else:
                p, q = self.leaves()
                j = self.depth
        else:
            p, q = self.p[j], self.q[j]
        if j > layer:   # the levels between, in one pass (`KL.frac_reduce`)
            p, q = KL.frac_reduce(self.E, p, q, 1 << (j - layer))
        self.p[layer], self.q[layer] = p, q


def build_tree(E: Field, p_leaf: np.ndarray | None, q_leaf: np.ndarray) -> FracTree:
    """Every layer of the tree over the given leaves, all held."""
    depth = E.length(q_leaf).bit_length() - 1
    ps: list = [None] * (depth + 1)
    qs: list = [None] * (depth + 1)
    ps[depth], qs[depth] = p_leaf, q_leaf
    for layer in range(depth, 0, -1):
        ps[layer - 1], qs[layer - 1] = KL.frac_up(E, ps[layer], qs[layer])
    if ps[0] is None:  # depth 0 with unit numerator
        ps[0] = E.ones(1)
    return FracTree(ps, qs, depth, p_leaf is None, E)


def lazy_tree(E: Field, depth: int, unit: bool, leaves: Callable[[], tuple],
              above: Callable[[], tuple] | None = None) -> FracTree:
    """The tree over ``leaves()`` holding only layers 0 … depth−2: the leaves and the
    layer above them (3/4 of the tree's memory) are rebuilt by `FracTree.need` when the
    GKR reaches them.  ``above()``, if given, computes the layer above the leaves
    without holding the leaves (`leaf_layer_above`).  Peak while building: that layer
    (and the leaves, without ``above``)."""
    ps: list = [None] * (depth + 1)
    qs: list = [None] * (depth + 1)
    if depth == 0:
        p, q = leaves()
        ps[0], qs[0] = (E.ones(1) if p is None else p), q
        return FracTree(ps, qs, depth, unit, E, leaves, above)
    p, q = above() if above is not None else KL.frac_up(E, *leaves())
    if depth == 1:
        ps[0], qs[0] = p, q
    for layer in range(depth - 1, 0, -1):
        p, q = KL.frac_up(E, p, q)
        ps[layer - 1], qs[layer - 1] = p, q
    return FracTree(ps, qs, depth, unit, E, leaves, above)


def leaf_layer_above(E: Field, size: int, unit: bool, leaves_range: Callable[[int, int], tuple],
                     chunk: int = 1 << 17) -> tuple:
    """The layer above ``size`` leaves (p, q of size/2), computed ``chunk`` pairs at a
    time from ``leaves_range(lo, hi)`` (the leaves (p, q) with indices lo … hi−1): entry
    i pairs leaves i and i + size/2, so only 2·chunk leaves are held at once."""
    h = size // 2
    p_out = E.zeros(h)
    q_out = E.zeros(h)
    for a in range(0, h, chunk):
        b = min(h, a + chunk)
        p0, q0 = leaves_range(a, b)
        p1, q1 = leaves_range(h + a, h + b)
        q = np.concatenate([q0, q1])
        p = None if unit else np.concatenate([p0, p1])
        pu, qu = KL.frac_up(E, p, q)
        p_out[a:b], q_out[a:b] = pu, qu
    return p_out, q_out


def _env_int(name: str, default: int) -> int:
    """An integer knob from the environment (the prover's memory/speed trade-offs below;
    none of them changes a byte of the proof)."""
    v = os.environ.get(name, "")
    try:
        return int(v) if v.strip() else default
    except ValueError:
        raise ProverError(f"{name} must be an integer, got {v!r}") from None


#: leaves summed per chunk by `layer_range` / `layer_full` (32 MiB of leaves: big enough
#: that the per-slice Python work is small against the kernels')
LAYER_CHUNK = 1 << 21


def _copy_out(res: tuple, out: tuple) -> tuple:
    """``res`` = (p or None, q) copied into ``out`` = (p or None, q)."""
    if out[0] is not None:
        out[0][...] = res[0]
    out[1][...] = res[1]
    return out


def layer_range(E: Field, depth: int, unit: bool, leaves_range: Callable[[int, int], tuple],
                layer: int, lo: int, hi: int, out: tuple | None = None) -> tuple:
    """Entries lo … hi−1 of ``layer`` of the tree over the leaves ``leaves_range``:
    entry i sums the leaves i + j·2^layer (j < 2^(depth − layer)), which the tree pairs
    by their top bits; the unreduced sum (Σ_i p_i Π_(k≠i) q_k, Π q_k) does not depend on
    the order, so the entries equal the tree's.  Holds (hi − lo)·2^(depth − layer) leaves
    (callers chunk, `layer_full`).  ``out`` = (p or None, q): written there (contiguous
    arrays of E of hi − lo entries; p None only for unit leaves, layer = depth)."""
    m = 1 << (depth - layer)
    # ``leaves_range.into(lo, hi, q)``, if the producer has it, writes unit leaves in place
    into = getattr(leaves_range, "into", None) if unit else None
    if m == 1:
        if out is not None and into is not None and out[0] is None:
            into(lo, hi, out[1])
            return out
        res = leaves_range(lo, hi)
        return res if out is None else _copy_out(res, out)
    # ``leaves_range.reduce(lo, hi, layer, m, out)``, if the producer has it, sums the
    # entries straight from its leaves in one kernel (None: not here, `_Trees._look_reduce`)
    fused = getattr(leaves_range, "reduce", None) if unit and FILL_REDUCE else None
    if fused is not None:
        res = fused(lo, hi, layer, m, out)
        if res is not None:
            return res
    w = hi - lo
    p = None if unit else _empty(E, m * w)
    q = _empty(E, m * w)
    for j in range(m):   # written in place: one leaf range besides the result
        if into is not None:
            into(lo + (j << layer), hi + (j << layer), q[j * w:(j + 1) * w])
            continue
        pj, qj = leaves_range(lo + (j << layer), hi + (j << layer))
        q[j * w:(j + 1) * w] = qj
        if p is not None:
            p[j * w:(j + 1) * w] = pj
        del pj, qj
    if out is not None and not KL.fast(E):
        return _copy_out(KL.frac_reduce(E, p, q, m), out)
    return KL.frac_reduce(E, p, q, m, out)   # the log2(m) levels in one pass


def layer_full(E: Field, depth: int, unit: bool, leaves_range: Callable[[int, int], tuple],
               layer: int) -> tuple:
    """The whole ``layer`` (`layer_range`, `LAYER_CHUNK` leaves at a time)."""
    n = 1 << layer
    if layer == depth:
        return leaves_range(0, n)
    step = max(1, LAYER_CHUNK >> (depth - layer))
    p_out, q_out = _empty(E, n), _empty(E, n)   # (every entry written below)
    for a in range(0, n, step):
        b = min(n, a + step)
        layer_range(E, depth, unit, leaves_range, layer, a, b, (p_out[a:b], q_out[a:b]))
    return p_out, q_out


def streamed_tree(E: Field, depth: int, unit: bool, leaves_range: Callable[[int, int], tuple],
                  keep: int, hold: int | None = None) -> FracTree:
    """The tree over ``leaves_range`` holding only layers 0 … min(keep, depth), built
    from layer ``keep`` summed from the leaves in chunks: the deeper layers are summed
    again whenever they are read (`FracTree.range`, the GKR's streamed rounds).  With
    ``hold`` > keep the one pass over the leaves sums layer h = min(hold, depth)
    instead, which the tree also holds (until the GKR passes it, `FracTree.drop`), and
    layer ``keep`` is reduced from it: the layers between are then reduced from h
    (`FracTree.need`), not summed from the leaves again."""
    top = min(keep, depth)
    ps: list = [None] * (depth + 1)
    qs: list = [None] * (depth + 1)
    h = top if hold is None else max(top, min(hold, depth))
    if h > top:
        ps[h], qs[h] = layer_full(E, depth, unit, leaves_range, h)
        p, q = KL.frac_reduce(E, ps[h], qs[h], 1 << (h - top))
    else:
        p, q = layer_full(E, depth, unit, leaves_range, top)
    if p is None:  # depth == top with unit leaves
        ps[top], qs[top] = None, q
        p = E.ones(E.length(q)) if top == 0 else None
        if top == 0:
            ps[0] = p
    else:
        ps[top], qs[top] = p, q
    for layer in range(top, 0, -1):
        p, q = KL.frac_up(E, p, q)
        ps[layer - 1], qs[layer - 1] = p, q
    return FracTree(ps, qs, depth, unit, E, leaves_range=leaves_range)


@attrs.frozen
class LeafClaim:
    """Claims p̃(point) = p (None: unit numerators) and q̃(point) = q on a tree's leaves."""

    point: np.ndarray
    p: np.ndarray | None
    q: np.ndarray
    #: zero knowledge (hidden layers, `gkr`): the blind terms of p and q — the claims
    #: are p̃(point) + Σ bp = p, q̃(point) + Σ bq = q
    bp: tuple = ()
    bq: tuple = ()


def _leaf_check(ctx, blind, value, expected, message: str) -> None:
    """``value`` (a leaf claim's, with ``blind`` terms) against ``expected``: checked
    directly when unblinded; else Σ blind = value − expected, a claim on the masks
    (`zk.mask_claim`)."""
    E = ctx.E
    if not blind:
        ctx.check(lambda: E.equal(value, expected), message)
    else:
        zk.mask_claim(ctx, list(blind), E.sub(value, expected))


def _layer_terms(E: Field, active, units_at_leaf, mu):
    """Tables layout per active tree: [P0, P1, Q0, Q1] or [Q0, Q1] (unit leaf layer),
    after the shared eq table at index 0.  Returns (terms, slot index per tree)."""
    terms = []
    coef = E.scalar(1)
    slots = []
    idx = 1
    coefs = []
    for i in active:
        if units_at_leaf[i]:
            q0, q1 = idx, idx + 1
            terms += [(coef, (0, q1)), (coef, (0, q0)), (E.mul(coef, mu), (0, q0, q1))]
            slots.append((None, None, q0, q1))
            idx += 2
        else:
            p0, p1, q0, q1 = idx, idx + 1, idx + 2, idx + 3
            terms += [(coef, (0, p0, q1)), (coef, (0, p1, q0)), (E.mul(coef, mu), (0, q0, q1))]
            slots.append((p0, p1, q0, q1))
            idx += 4
        coefs.append(coef)
        coef = E.mul(coef, E.mul(mu, mu))
    return terms, slots, coefs, idx


def _next(E: Field, lo, hi, lam):
    return E.add(lo, E.mul(lam, E.sub(hi, lo)))


#: prove layer sumchecks with `_prove_layer` (goldilocks-ext2); False: the generic
#: `zklora.zkcore.sumcheck.prove` (same proof bytes; tests compare the two)
FAST_LAYERS = True
_UNIT_SLOT = np.array([[-1, -1, 0, 1]], np.int64)
_TREE_SLOT = np.array([[0, 1, 0, 1]], np.int64)


#: the fast layer prover streams a layer whose tables (all trees) exceed this many bytes:
#: its first rounds read the layer in chunks (`FracTree.range`) and it folds the tables
#: in RAM only once they fit (`_prove_layer`).  Every streamed round is one more pass
#: over the leaves (summed again from the columns), so this trades RAM (about 1.5× it at
#: the peak) for passes.  A cap: each proof lowers it to the phase's budget (`_budget`);
#: ``ZKLORA_LOOKUP_STREAM_BYTES`` sets it as given (512 MiB; a machine with RAM to
#: spare proves faster with 2 GiB)
STREAM_BYTES = _env_int("ZKLORA_LOOKUP_STREAM_BYTES", 512 << 20)
#: a leaf range of a column at least this long (bytes of base elements) gives its mapped
#: pages back once read (`_Trees._fill`, `scratch.drop_pages`); shorter ones, which the
#: leaf passes of upper layers read many of per page, are left to `scratch.releasing`
#: (dropping each would fault the same pages in again and again: a madvise call per
#: range)
DROP_BYTES = 8 << 10
#: a `streamed_tree` holds layers 0 … KEEP_LAYERS (2^KEEP_LAYERS entries at most, all
#: summed from one pass over the leaves; 64·2^KEEP_LAYERS bytes per tree, 128 MiB;
#: ``ZKLORA_LOOKUP_KEEP_LAYERS`` overrides it).  The trees deeper than that also hold,
#: from the same pass until the GKR has read it, the deepest layer the GKR reads whole
#: (`_deepest_fit`: at most `STREAM_BYTES` over all of them, the size of that GKR
#: layer's tables, so the phase's peak is unchanged), from which the layers between are
#: reduced instead of summed from the leaves again (25m: 8 leaf passes → 5)
KEEP_LAYERS = _env_int("ZKLORA_LOOKUP_KEEP_LAYERS", 21)
#: whether the environment set either budget (then both are used as they are)
_BUDGET_SET = any(os.environ.get(k) not in (None, "") for k in
                  ("ZKLORA_LOOKUP_STREAM_BYTES", "ZKLORA_LOOKUP_KEEP_LAYERS"))
#: the lookups' budget is 1/BUDGET_SHARE of the resident high-water mark (`_budget`):
#: 4, not the other phases' 8 — every halving of the budget adds leaf passes over the
#: deepest tree (25m: 128 MiB instead of 64, lookups CPU ×0.77, peak +13 %; 84m: 256 MiB
#: instead of 128, ×0.86, peak unchanged — the lookups stay under the segments' peak)
BUDGET_SHARE = 4
#: from a high-water mark of LARGE_MARK bytes on, the share is 2·`BUDGET_SHARE` (so the
#: 512 MiB cap starts at a 4 GiB mark, not 2 GiB): a mark between 2 and 4 GiB is not
#: the deep trees' that 512 MiB pays for (84m without the prover cache: 2.3 GiB, set by
#: the base model's commitment — 512 MiB held layers in fresh memory, lookups 6.5 s CPU
#: against 4.4 s at 256 MiB, peak 3.27 → 2.50 GiB), while the 30-layer SmolLM step
#: (4.5 GiB) keeps 512 MiB (at 256 MiB its lookups took ×1.21) (session 40,
#: docs/perf/session40.md)
LARGE_MARK = 2 << 30


@contextmanager
def _budget():
    """The lookup phase's RAM budget (issue 14: memory bounded by the largest segment):
    unless the environment set them, `STREAM_BYTES` is lowered to
    `scratch.working_budget` — 1/`BUDGET_SHARE` of the prover's resident high-water mark
    (1/(2·`BUDGET_SHARE`) from `LARGE_MARK` on) before the lookups (what its segments and
    commitments already needed), a power of two, at least 64 MiB — and `KEEP_LAYERS`
    with it (a tree's kept layers, 64·2^KEEP_LAYERS bytes, at most a quarter of the
    budget).  A small model's lookups then add a fraction
    of its peak; a large one's get the defaults.  Prover-only: the proof is the same
    (the file's tests force every threshold)."""
    global STREAM_BYTES, KEEP_LAYERS
    old = STREAM_BYTES, KEEP_LAYERS
    share = BUDGET_SHARE if scratch.high_water_mark() < LARGE_MARK else 2 * BUDGET_SHARE
    b = old[0] if _BUDGET_SET else scratch.working_budget(old[0], share=share)
    if b < old[0]:
        STREAM_BYTES = b
        KEEP_LAYERS = min(old[1], max(1, (b // 256).bit_length() - 1))
    try:
        yield
    finally:
        STREAM_BYTES, KEEP_LAYERS = old


#: streamed lookup trees write a range's leaves in one kernel call (`_Trees._plan`);
#: False: one call per segment (same leaves; tests compare the two)
FILL_PLAN = True
#: the table tree's layer above its leaves is summed from the tables in row chunks
#: (`_Trees._table_above`, `TABLE_CHUNK` rows a chunk) when `lazy_tree` builds it and
#: when the GKR needs it again, instead of from the whole leaves (64 MiB at 25m / 84m,
#: fresh pages each time); False: from the whole leaves (same entries)
TABLE_ABOVE = True
TABLE_CHUNK = 1 << 16
#: and sum a streamed layer's entries straight from the plan's segments
#: (`_Trees._look_reduce`; False: leaves written, then `KL.frac_reduce`; same values)
FILL_REDUCE = True


def _map_offset(c: np.ndarray) -> tuple:
    """(the read-only scratch map ``c`` lies in, the byte offset of c[0] in it), or
    (None, 0) when ``c`` is not in one (`scratch.drop_pages` then does nothing)."""
    m = scratch._mmap_of(c)
    if m is None or not hasattr(m, "madvise"):
        return None, 0
    try:
        base = np.frombuffer(m, dtype=np.uint8).ctypes.data
    except (ValueError, TypeError):
        return None, 0
    off = c.ctypes.data - base
    if off < 0 or off + c.nbytes > len(m):
        return None, 0
    return m, off




#: pairs per chunk of a streamed round (fewer where a pair is summed from many leaves,
#: so that a chunk reads at most `LAYER_CHUNK` leaves of a tree)
STREAM_CHUNK = 1 << 19
#: at most this many streamed rounds share one pass over the layer (`_windows`; 1: one
#: pass per round, as before the windows).  ``ZKLORA_LOOKUP_WINDOW`` overrides it
WINDOW = _env_int("ZKLORA_LOOKUP_WINDOW", 6)
#: the window planner's costs (`_windows`, nanoseconds on the 2-core reference machine):
#: a leaf summed again from the columns (its column reads, β − Σα·c, the fraction-tree
#: levels above it), a table entry of a chunk stacked or folded, an extension product
#: of the window kernel
_COST_LEAF, _COST_ENTRY, _COST_PRODUCT = 30.0, 10.0, 5.0


def _windows(s: int, h: int, k: int, leaves: int, unit_slots: Sequence[bool]) -> list[int]:
    """The s streamed rounds of a layer of 2^n = h pairs split into windows, each read in
    one pass (`_streamed_rounds`): a pass costs its ``leaves`` (summed again) and the k
    tables' stacking and folding; a window of m ≥ 2 rounds from round j0 costs, per tree
    and per value y of round j0 + i, ~2·(3·2^i + 4·3^i) extension products (unit
    numerators: 2·(3·2^i + 2·3^i)) for X = 0 and the X² coefficient
    (`KL.gkr_window_sums`).  The cheapest split (dynamic programme over s ≤ n values; the
    result never changes a byte of the proof)."""
    def window(j0: int, m: int) -> float:
        cost = _COST_LEAF * leaves + _COST_ENTRY * k * (h >> j0) * (2 if j0 else 1)
        for i in range(m):
            if m == 1:   # `KL.gkr_sums` over the folded pairs
                per_y = sum(7 if u else 13 for u in unit_slots)
            else:   # the window kernel: E·tables (2^i each), tables' products on the
                # grid (3^i each, with the grid extensions and lane sums)
                per_y = sum(2 * ((3 << i) + 2 * 3 ** i) + 6 if u else
                            2 * ((3 << i) + 4 * 3 ** i) + 6 for u in unit_slots)
            cost += _COST_PRODUCT * per_y * (h >> (j0 + i + 1))
        return cost

    best: list[tuple[float, list[int]]] = [(0.0, [])]
    for j in range(1, s + 1):
        best.append(min((best[j0][0] + window(j0, j - j0), best[j0][1] + [j - j0])
                        for j0 in range(max(0, j - max(1, WINDOW)), j)))
    return best[s][1]


def _round(ctx, label: str, j: int, sums, coefs, mu, rr, c, pref, want: bool, point,
           tamper, mask):
    """Round j of a layer sumcheck from its pair sums: the message (values at 0, 2, 3,
    plus the ZK mask's round when ``mask``) sent, ρ_j drawn into ``point[j]`` and bound
    to the mask, eq's running factor advanced.  Returns (ρ_j, c, pref)."""
    E, ch = ctx.E, ctx.ch
    msg, qc = KL.e_gkr_message(sums, coefs, mu, rr[j], c, pref, want)
    if mask is not None:
        msg = E.add(msg, E.mul(mask.state.round(j, 3)[[0, 2, 3]], mask.rho))
    ch.send_field(f"{label}/round{j}", E,
                  msg if tamper is None else tamper(f"{label}/round{j}", msg.copy()))
    rho = ch.challenge(f"{label}/r{j}", E)
    point[j] = rho
    if mask is not None:
        mask.state.bind(j, rho)
    c, pref = KL.e_gkr_next(qc, np.ascontiguousarray(rho, np.uint64), rr[j], pref)
    return rho, c, pref


#: a streamed layer that every tree holds (25m: the hold layer below the table tree's)
#: is read in place by `_prove_layer` (False: streamed in chunk copies, as before; same
#: proof bytes)
HELD_IN_PLACE = True
#: `_prove_layer`'s round 0 folds the layers into a component-major stack that the later
#: rounds fold in place (False: an interleaved stack first, as before; same bytes)
FOLD0_C = True
#: a streamed layer's fold pass sums each planned lookup tree's chunk from its leaves and
#: folds it in the same kernel, block by block in cache, into the component-major stack
#: (`KL.fill_reduce_fold`; False: summed into the chunk buffer, then `KL.multi_fold`, as
#: before; same bytes)
FOLD_FILL = True
#: `FOLD_FILL` also for a planned lookup tree's leaf layer (unit leaves, one per entry:
#: `KL.fill_fold` writes them into lanes and folds them in cache; False: the leaves into
#: the chunk buffer, then `KL.multi_fold`, as before; same bytes)
FOLD_LEAVES = True
#: a streamed layer's window pass (first window, m ≥ 2 rounds) sums each planned lookup
#: tree's slot from its leaves block by block in cache (`KL.fill_window_sums`: no chunk
#: buffer written and read back m times; False: the chunk buffer, then
#: `KL.gkr_window_sums`, as before; same bytes)
FILL_WINDOW = True

#: with `FILL_WINDOW`, a streamed layer's window of ONE round from round 0 (84m's layers
#: 23, 24) sums a planned tree's slot from its leaves in cache too (`KL.fill_gkr_sums`:
#: the pair sums of `KL.gkr_sums`, no chunk buffer written and read back); same sums
FILL_WINDOW1 = True


#: the streamed layers' chunk buffers and folded stacks are `scratch.Store.buffer`s
#: (`_work`), reused from layer to layer until the phase ends; False: fresh arrays a
#: layer (given back by the layer's `scratch.trim`, faulted in again by the next)
REUSE_WORK = True
#: and `_layers` reserves the W buffer at its bound (`STREAM_BYTES`) before the first
#: layer (untouched pages cost no memory); False: grown by reallocation, layer by layer
RESERVE_W = True


def _work(tag: str, count: int) -> np.ndarray:
    """``count`` uninitialised uint64s: the current scratch store's reusable buffer
    ``tag`` (`scratch.Store.buffer`: one array a tag and thread, grown when a larger one
    is asked for, freed at the phase's `scratch.release`) with `REUSE_WORK`, else a
    fresh array.  Each tag has one user at a time: its array is dead once that user
    returns (the callers here never let a view of it escape the layer)."""
    store = scratch.current() if REUSE_WORK else None
    if store is None:
        return np.empty(int(count), dtype=np.uint64)
    return store.buffer(tag, int(count))


def _scale_into(a: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """out = a·s (extension elements (n, 2) times one (2,)): `E.mul`'s kernel, written
    into ``out`` (same values)."""
    a = np.ascontiguousarray(a, np.uint64)
    (KG.emul_scalar if a.shape[0] >= KG.SMALL else KG.emul_scalar_s)(a, s[0], s[1], out)


def _streamed_rounds(ctx, label, n, rr, trees, active, unit_leaf, slots, coefs, mu, c, pref,
                     point, tamper, mask, stop=None):
    """The first rounds of `_prove_layer` with the layer read in chunks, until the folded
    tables fit `STREAM_BYTES`; then one more pass folds them into RAM.  The rounds are
    grouped into windows (`_windows`), one pass over the layer each (`FracTree.range`
    summing it from the leaves where it is not held): a window of rounds j0 … j0+m−1
    folds every chunk by ρ_0 … ρ_(j0−1) and accumulates the tables' products on the grid
    {0, 1, ∞}^i, from which round j0 + i's pair sums follow once its challenges are drawn
    (`KL.gkr_window_sums`, `KL.window_round_sums`; a window of one round sums the
    folded pairs, `KL.gkr_sums`).  Same messages as one pass per round.
    At most ``stop`` rounds (default n; `_prove_layer`'s ``head``: n − 1).
    Returns (s rounds done, W folded s times, E_s, c, pref, soa): W is component-major
    (k, 4, 2^(n−s−1), `KL.gkr_sums_c`) when ``soa`` (rounds are left), else (k, 2^(n−s), 2)."""
    E = ctx.E
    h = 1 << n
    k = int(slots[:, 2:].max()) + 1 if len(slots) else 0
    s = 0
    while s < (n if stop is None else stop) and k * (h >> s) * 16 > STREAM_BYTES:
        s += 1
    if s == 0 or HELD_IN_PLACE and all(trees[i].q[n + 1] is not None for i in active):
        # (every tree holds the layer: `_prove_layer` reads it in place, no chunk copies)
        return 0, None, None, c, pref, False
    # leaves summed per entry of layer n+1 of the deepest tree that does not hold it
    fan = max([1 << (trees[i].depth - n - 1) for i in active
               if trees[i].q[n + 1] is None] or [1])
    step = max(min(STREAM_CHUNK, max(1, LAYER_CHUNK // fan)), 1 << (s + 1))

    # the chunks' stacks and folded stacks in two buffers reused by every chunk of every
    # pass (each chunk is consumed before the next is read): no fresh pages per chunk
    # (`_work`: kept by the scratch store through the phase, so the next streamed layer
    # finds their pages resident instead of faulting fresh ones after the layer's trim)
    bufs = [_work("lookup-gkr-chunk", k * min(h, step) * 2),
            _work("lookup-gkr-chunk-fold", k * (min(h, step) >> 1) * 2)]

    def chunk(a, b, rhos, into=None, soa=False, skip=()):
        """The chunk a … b of the tables folded by ``rhos``; with ``into`` (the whole
        folded stack) written in place at a >> len(rhos) (and that slice returned).
        The slots numbered in ``skip`` are not written (summed by the fill already)."""
        W = bufs[0][:k * (b - a) * 2].reshape(k, b - a, 2)   # [P0, P1, Q0, Q1] or [Q0, Q1]
        at = a >> len(rhos)
        rows = []   # the row ranges summed into W (the rest: folded by the fill)
        for ti, (i, sl) in enumerate(zip(active, slots)):
            if ti in skip:
                continue
            t = trees[i]
            if (into is not None and soa and len(rhos)
                    and (sl[0] >= 0 or t.depth == n + 1)
                    and t.range_fold(n + 1, a, b, rhos, into, sl[0], sl[2], at)
                    and t.range_fold(n + 1, h + a, h + b, rhos, into, sl[1], sl[3], at)):
                continue
            p0, p1, q0, q1 = (None if x < 0 else W[x] for x in sl)
            t.range(n + 1, a, b, (p0, q0))   # summed (or sliced) straight into W
            t.range(n + 1, h + a, h + b, (p1, q1))
            r0, r1 = int(min(x for x in sl if x >= 0)), int(max(sl)) + 1
            if rows and rows[-1][1] == r0:
                rows[-1] = (rows[-1][0], r1)
            else:
                rows.append((r0, r1))
        if not len(rhos):
            return W
        if into is not None:
            if rows != [(0, k)]:   # some tables folded by the fill already
                for r0, r1 in rows:
                    KL.multi_fold(W[r0:r1], rhos, into[r0:r1], at, soa)
                return into
            return KL.multi_fold(W, rhos, into, at, soa)
        mo = (b - a) >> len(rhos)   # folded by ρ_0 … ρ_(j0−1) in one pass
        return KL.multi_fold(W, rhos, bufs[1][:k * mo * 2].reshape(k, mo, 2))

    rz = rr  # r as E-elements
    # rounds j0 … j0+m−1 of a window share one pass (`KL.gkr_window_sums`)
    unit_slots = [bool(sl[0] < 0) for sl in slots]
    leaves = sum(1 << trees[i].depth for i in active if trees[i].q[n + 1] is None)
    j = 0
    wins = _windows(s, h, k, leaves, unit_slots)
    _trace(f"  layer {n}: {s} streamed rounds, windows {wins}, k {k}, leaves/pass {leaves}")
    for m in wins:
        j0 = j
        t_pass = time.perf_counter()
        want = [not bool(rr[j0 + i].any()) for i in range(m)]
        acc = np.zeros((len(slots), 3, 2, KL.window_offsets(m)[m], 2), dtype=np.uint64)
        one = np.zeros((len(slots), 3, 2, 2), dtype=object)   # (m = 1) a few dozen values
        # E_j(y) = eq(r_>j, y) is never held whole: over a chunk's 2^cb values of y it is
        # eq(r_(j+1 … j+cb), y_lo) times eq(r_(>j+cb), y_hi), one scalar per chunk
        cbs = [(min(h, step) >> (j0 + i + 1)).bit_length() - 1 for i in range(m)]
        lows = [mle.eq_table(E, rz[j0 + i + 1:j0 + i + 1 + cbs[i]]) for i in range(m)]
        lens = [len(x) for x in lows]
        for a in range(0, h, step):
            b = min(h, a + step)
            # E_(j0+i) = lows[i]·selector, all m written into one reused array
            # (`KL.join`: the window kernels read it as it is, no concatenation a tree)
            Eall = _work("lookup-gkr-E", 2 * sum(lens)).reshape(-1, 2)
            o = 0
            for i in range(m):
                sel = np.asarray(selector(E, rz[j0 + i + 1 + cbs[i]:],
                                          (a >> (j0 + i + 1)) >> cbs[i]), np.uint64)
                _scale_into(lows[i], sel, Eall[o:o + lens[i]])
                o += lens[i]
            Es = KL.join(Eall, lens)
            # planned trees' slots summed from their leaves in cache (`FILL_WINDOW`)
            # (one round, `FILL_WINDOW1`: its pair sums, `KL.fill_gkr_sums`, into acc[…, 0])
            fused = set() if j0 or (m == 1 and not FILL_WINDOW1) else {
                ti for ti, i in enumerate(active)
                if trees[i].range_window(n + 1, a, b, h, Es, want, acc[ti:ti + 1])}
            Wc = chunk(a, b, point[:j0], skip=fused)
            if m == 1:   # one round: the layer kernel's pair sums (cheaper)
                rest = [ti for ti in range(len(slots)) if ti not in fused]
                if rest:
                    sc, _ = KL.gkr_sums(Wc, Wc, slots[rest],
                                        np.ascontiguousarray(Es[0], np.uint64), want[0])
                    one[rest] = (one[rest] + sc.astype(object)) % KL.P_INT
            elif not fused:
                KL.gkr_window_sums(Wc, slots, Es, want, acc)
            elif len(fused) < len(slots):   # the other slots from the chunk buffer
                rest = [ti for ti in range(len(slots)) if ti not in fused]
                sub = np.ascontiguousarray(acc[rest])
                KL.gkr_window_sums(Wc, slots[rest], Es, want, sub)
                acc[rest] = sub
            del Wc
        for i in range(m):
            j = j0 + i
            if m == 1:
                sums = ((one + acc[:, :, :, 0].astype(object)) % KL.P_INT).astype(np.uint64)
            else:
                sums = KL.window_round_sums(acc, slots, i, point[j0:j])
            rho, c, pref = _round(ctx, label, j, sums, coefs, mu, rr, c, pref, want[i],
                                  point, tamper, mask)
        j = j0 + m
        _trace(f"    window {j0}+{m}: {time.perf_counter() - t_pass:.2f} s")
    t_pass = time.perf_counter()
    Ej = np.ascontiguousarray(mle.eq_table(E, rz[s + 1:]), np.uint64)
    # rounds left: W component-major (the layer kernels' rows read with unit stride)
    soa = s < (n if stop is None else stop)
    # component-major W is folded in place by `_prove_layer` and its last fold goes to a
    # fresh array, so it never leaves the layer: a reused `_work` buffer (the streamed
    # layers' W are all about `STREAM_BYTES`); the other W is returned (finals): fresh
    W = (_work("lookup-gkr-W", k * (h >> s) * 2).reshape(k, 4, h >> (s + 1)) if soa
         else np.empty((k, h >> s, 2), dtype=np.uint64))
    for a in range(0, h, step):
        b = min(h, a + step)
        chunk(a, b, point[:s], W, soa)   # folded straight into W (s ≥ 1), no chunk copy
    _trace(f"    fold pass: {time.perf_counter() - t_pass:.2f} s")
    return s, W, Ej, c, pref, soa


def _prove_layer(ctx, label: str, n: int, r, trees: list, active, unit_leaf, coefs, mu,
                 claim, tamper=None, mask=None, stream: bool = False, head: bool = False):
    """Prover of one layer sumcheck Σ_x eq(r, x)·Σ_t c_t·[A_t + μ·B_t](x) = claim over n
    variables (`_layer_terms`), with the eq factor split off (`zklora.kernels.lookup_gkr`):
    per pair ~10 extension products for a tree (5 with unit numerators) instead of 24,
    no eq table folded, no table copied before the first fold.  It sends exactly what
    `zklora.zkcore.sumcheck.prove` sends for the same instance (the round values at 0, 2,
    3 and the finals of every table but eq), so the verifier is `ctx.run_sumcheck`.
    With zero knowledge, ``mask`` (`zklora.zkcore.zk.begin`) is added to every round
    message and its evaluations follow the finals, as the generic prover does.
    Returns (ρ, finals indexed as in `_layer_terms`, eq's slot 0 left None).

    ``head`` (hidden layers, `_hidden_layer_fast`): rounds 0 … n−2 only (n ≥ 2), no
    finals; returns (ρ_0 … ρ_(n−2), every table folded to its two values at
    x_(n−1) = 0, 1 (shape (k, 2, 2)), eq(r_<n−1, ρ)) — the "two halves" of the last
    variable, from which the caller computes the hidden last round (with ``stream`` the
    first rounds read the layer in chunks as usual, then the tables fold into RAM)."""
    E, ch = ctx.E, ctx.ch
    h = 1 << n
    last = n - 1 if head else n
    # tables of tree t in the working stack: [P0, P1, Q0, Q1] or [Q0, Q1]
    slots, views, k = [], [], 0
    for i in active:
        t = trees[i]
        q = None if stream else np.ascontiguousarray(t.q[n + 1], np.uint64).reshape(2, h, 2)
        if unit_leaf[i]:
            slots.append((-1, -1, k, k + 1))
            views.append((None, q, k))
            k += 2
        else:
            p = None if stream else np.ascontiguousarray(t.p[n + 1], np.uint64).reshape(2, h, 2)
            slots.append((k, k + 1, k + 2, k + 3))
            views.append((p, q, k))
            k += 4
    slots = np.array(slots, dtype=np.int64)
    coefs = np.ascontiguousarray(np.stack(coefs), np.uint64)
    mu = np.ascontiguousarray(mu, np.uint64)
    rr = np.ascontiguousarray(r, np.uint64).reshape(-1, 2)
    point = E.zeros(n)
    W = None
    soa = False   # W component-major (k, 4, ·) (`KL.gkr_fold_sums_c`), else (k, ·, 2)
    c = np.ascontiguousarray(claim, np.uint64)
    j0 = 0
    if stream:
        j0, W, Ej, c, pref, soa = _streamed_rounds(
            ctx, label, n, rr, trees, active, unit_leaf, slots, coefs, mu, c,
            np.array([1, 0], dtype=np.uint64), point, tamper, mask, last)
        if W is None:  # small enough: hold it whole
            for i in active:
                trees[i].need(n + 1)
            return _prove_layer(ctx, label, n, r, trees, active, unit_leaf,
                                list(coefs), mu, claim, tamper, mask, head=head)
    if n == 0:
        W = np.empty((k, 1, 2), dtype=np.uint64)
        for p, q, a in views:
            if p is None:
                W[a:a + 2] = q
            else:
                W[a:a + 2], W[a + 2:a + 4] = p, q
    else:
        if not j0:
            Ej = mle.eq_table(E, rr[1:])
            pref = np.array([1, 0], dtype=np.uint64)  # eq(r_<j, ρ_<j)
        sums = None
        for j in range(j0, last):
            want1 = not bool(rr[j].any())  # r_j = 0: q(1) is not implied by the claim
            if sums is not None:
                pass  # summed by the previous round's fused fold (with this want1)
            elif W is None:  # round 0 reads the tree layers in place
                sums = np.zeros((len(views), 3, 2, 2), dtype=np.uint64)
                En = None
                for t, (p, q, _) in enumerate(views):
                    one = _UNIT_SLOT if p is None else _TREE_SLOT
                    s, En_t = KL.gkr_sums(q if p is None else p, q, one, Ej, want1)
                    sums[t] = s[0]
                    En = En_t if En is None else En
            elif soa:
                sums, En = KL.gkr_sums_c(W, slots, Ej, want1)
            else:
                sums, En = KL.gkr_sums(W, W, slots, Ej, want1)
            rho, c, pref = _round(ctx, label, j, sums, coefs, mu, rr, c, pref, want1,
                                  point, tamper, mask)
            if W is not None and j + 1 < last:  # fold and the next round's sums, one pass
                want1n = not bool(rr[j + 1].any())
                # the folded tables component-major (`KL.gkr_fold_sums_c`: unit-stride rows);
                # from a component-major W in place (`KL.gkr_fold_sums_ci`: W[:, :, :m]
                # holds them, m = len(En); no fresh stack a round)
                if soa:
                    sums, En = KL.gkr_fold_sums_ci(W, rho, slots, En, want1n)
                else:
                    W, sums, En = KL.gkr_fold_sums_c(W, soa, rho, slots, En, want1n)
                soa = True
                continue
            if W is None and j + 1 < last and FOLD0_C:
                # round 0 folds the tree layers straight into a component-major stack
                # (`KL.multi_fold`'s ``soa``): round 1 sums it and folds it in place
                # (folded in place, its last fold to a fresh array: `_work` as the
                # streamed layers' W, never both in one layer)
                W = _work("lookup-gkr-W", k * 4 * (h >> 2)).reshape(k, 4, h >> 2)
                for p, q, a in views:
                    if p is not None:
                        KL.multi_fold(p, [rho], W[a:a + 2], 0, True)
                        a += 2
                    KL.multi_fold(q, [rho], W[a:a + 2], 0, True)
                Ej, sums, soa = En, None, True
                continue
            nxt = np.empty((k, (h >> j) // 2, 2), dtype=np.uint64)
            if W is None:
                for p, q, a in views:
                    if p is None:
                        KL.fold_into(q, rho, nxt[a:a + 2])
                    else:
                        KL.fold_into(p, rho, nxt[a:a + 2])
                        KL.fold_into(q, rho, nxt[a + 2:a + 4])
            else:   # the last fold (2 or 4 entries a table): back to (k, ·, 2)
                KL.fold_into(KL.pairs_of_c(W[:, :, :(h >> j) // 2]) if soa else W, rho, nxt)
                soa = False
            W, Ej, sums = nxt, En, None
    if head:
        return point[:last], W, pref
    if selfcheck.enabled():  # c = q_{n-1}(ρ_{n-1}) must equal Σ_t c_t (A + μB)(finals)
        f = E.scalar(0)
        for t, (p0, p1, q0, q1) in enumerate(slots):
            fq0, fq1 = W[q0, 0], W[q1, 0]
            a = E.add(fq0, fq1) if p0 < 0 else E.add(E.mul(W[p0, 0], fq1),
                                                     E.mul(W[p1, 0], fq0))
            f = E.add(f, E.mul(coefs[t], E.add(a, E.mul(mu, E.mul(fq0, fq1)))))
        if not E.equal(f, c):
            raise ProverError(f"{label}: final evaluation does not match (bad witness)")
    fin = W[:, 0] if tamper is None else tamper(f"{label}/finals", W[:, 0].copy())
    ch.send_field(f"{label}/finals", E, fin)
    if mask is not None:
        mask.finish(point)
    return point, [None] + [W[i, 0] for i in range(k)]


#: hidden layers (zero knowledge, `ctx.hide_lookups`) of ≥ 2 variables: rounds 0 … n−2
#: by the fast layer kernel (`_hidden_layer_fast`); False: the generic `zk.run_hidden`
#: (same proof bytes; tests compare the two)
FAST_HIDDEN = True


def _hidden_layer_fast(ctx, label: str, n: int, r, trees: list, active, unit_leaf, coefs,
                       mu, terms, claim, blinds, stream: bool = False):
    """Prover of one hidden layer sumcheck (`zk.run_hidden`'s prover, same messages) with
    rounds 0 … n−2 by the fast kernel (`_prove_layer` with ``head``): Z vanishes on the
    cube, so those rounds are F's (plus the mask's and the blinds' terms, added to each
    message as the generic prover does), and the last round, of degree D, is computed
    from the folded pairs f(ρ, 0), f(ρ, 1) with f̂ = f + Z·ν.  Returns what
    `zk.run_hidden` returns."""
    E = ctx.E
    h = zk.hidden_begin(ctx, label, n, terms, public=(0,))  # every table but eq (slot 0)
    B = blind_value(ctx, blinds)
    state, mask = h.prover_mask(E, n, B)
    head, W, pref = _prove_layer(ctx, label, n, r, trees, active, unit_leaf, coefs, mu,
                                 E.sub(claim, B), mask=mask, stream=stream, head=True)
    rl = np.asarray(r)[n - 1]
    ends = [E.mul(pref, E.sub(E.scalar(1), rl)), E.mul(pref, rl)]  # eq(r, (ρ, 0)), (ρ, 1)
    for t in range(h.count - 1):
        ends += [W[t, 0], W[t, 1]]
    point, values, running = zk.hidden_last_round(ctx, label, h, terms, state, B, head,
                                                  ends)
    return zk.hidden_finish(ctx, label, h, terms, point, values, running, blinds)


def gkr(ctx, depths: Sequence[int], units: Sequence[bool], trees: Callable[[], list],
        label: str, tamper=None, top: int = 0, pads: Sequence[int] | None = None
        ) -> tuple[list[list[tuple[np.ndarray, np.ndarray]]] | None, list[LeafClaim]]:
    """Layer ``top`` (2^top entries; the roots when ``top`` = 0) of fraction trees of the
    given ``depths`` (each ≥ top; ``units``: unit leaf numerators) and one claim on each
    tree's leaves: the prover sends the entries (p, q) of layer ``top`` of every tree,
    the verifier draws a point r ∈ E^top and takes the sent vectors' MLEs at r as the
    claims on that layer (a wrong vector passes with probability ≤ top/|E|), then one
    batched degree-3 sumcheck per layer (module doc) takes the claims down to the
    leaves.  ``trees()`` (prover only) gives the `FracTree`s.  Returns, per tree, the
    2^top sent pairs, and the leaf claims.

    With hidden lookups (zero knowledge, `ctx.hide_lookups`) layer ``top`` is never sent:
    `_hidden_roots` proves the LogUp identity on it (trees 0 … n−2 the lookup side with
    ``pads`` padding leaves 1/1 each, tree n−1 the table side) and the roots returned
    are None (the identity is checked there)."""
    E = ctx.E
    n = len(depths)
    k = 1 << top
    # zero knowledge with hidden evaluations (`ctx.hide_lookups`, docs/zero-knowledge.md
    # §5.1): every layer's finals hidden by `zk.run_hidden`, the claims blinded
    hiding = ctx.zk is not None and getattr(ctx, "hide_lookups", False)
    if hiding:
        if pads is None:
            raise ValueError(f"{label}: hidden roots need the lookup trees' padding")
        r, vp, vq, bp, bq = _hidden_roots(ctx, depths, units, trees, label, tamper, top,
                                          pads)
        return None, _layers(ctx, depths, units, trees, label, tamper, top, r, vp, vq,
                             bp, bq, True)

    def roots_of():
        vals = []
        for t in trees():
            t.need(top)
            p = E.ones(k) if t.p[top] is None else t.p[top]
            for j in range(k):
                vals += [p[j], t.q[top][j]]
        v = np.stack(vals)
        return v if tamper is None else tamper(f"{label}/roots", v)

    rv = ctx.exchange(f"{label}/roots", 2 * n * k, roots_of)
    roots = [[(rv[2 * (i * k + j)], rv[2 * (i * k + j) + 1]) for j in range(k)]
             for i in range(n)]
    r = ctx.challenges(f"{label}/top", top) if top else E.zeros(0)
    if top:
        vp = [mle.evaluate(E, np.stack([p for p, _ in rt]), r) for rt in roots]
        vq = [mle.evaluate(E, np.stack([q for _, q in rt]), r) for rt in roots]
    else:
        vp = [rt[0][0] for rt in roots]
        vq = [rt[0][1] for rt in roots]
    return roots, _layers(ctx, depths, units, trees, label, tamper, top, r, vp, vq,
                          [()] * n, [()] * n, False)


def _deepest_fit(trees: Sequence[tuple[int, bool]], layer: int) -> int:
    """The deepest j ≥ ``layer`` (at most the deepest tree's depth) whose layers, each
    tree (depth, unit leaves) its layer min(j, depth) (p and q, 16 bytes an entry each;
    q only for unit leaves), fit `STREAM_BYTES` together — the GKR reads them whole at
    layer j − 1 (it streams a layer only above `STREAM_BYTES`), so holding them costs
    no RAM beyond that layer's."""
    def nbytes(d, u, j):
        return (1 if u and j == d else 2) * (16 << j)

    j = layer
    while trees and j < max(d for d, _ in trees) and \
            sum(nbytes(d, u, min(j + 1, d)) for d, u in trees) <= STREAM_BYTES:
        j += 1
    return j


def _hold_layer(ts: list, active, layer: int) -> int:
    """The layer a streamed tree of ``ts`` that holds nothing below ``layer`` sums from
    its leaves when the GKR needs ``layer`` (`FracTree.need`): `_deepest_fit` over
    every such tree of ``active``; layers layer … j−1 then come from it instead of one
    leaf pass each."""
    st = [ts[i] for i in active if ts[i].leaves_range is not None and
          all(ts[i].q[d] is None for d in range(layer, ts[i].depth + 1))]
    return _deepest_fit([(t.depth, t.unit) for t in st], layer)


def _layers(ctx, depths, units, trees, label, tamper, top, r, vp, vq, bp, bq, hiding
            ) -> list[LeafClaim]:
    """`gkr` from the claims (vp, vq; blinds bp, bq) on layer ``top`` at ``r`` down to
    the leaves: the leaf claims."""
    E = ctx.E
    n = len(depths)
    out: list = [None] * n
    for i in range(n):
        if depths[i] < top:
            raise ValueError(f"{label}: tree {i} of depth {depths[i]} has no layer {top}")
        if depths[i] == top:
            out[i] = LeafClaim(r, vp[i], vq[i], bp[i], bq[i])
    if ctx.prover and RESERVE_W:
        # W's buffer reserved once at its bound (a streamed layer's W ≤ `STREAM_BYTES`, an
        # in-RAM one's half the layer's tables ≤ it): address space only, each layer
        # touches the pages it writes, so the growing layers fault only their new part
        # instead of a whole fresh array each (the resident set is what they touch)
        _work("lookup-gkr-W", STREAM_BYTES // 8)
    for layer in range(top, max(depths)):
        t_layer = time.perf_counter()
        active = [i for i in range(n) if depths[i] > layer]
        unit_leaf = {i: units[i] and depths[i] == layer + 1 for i in active}
        stream = False
        if ctx.prover:
            ts = trees()
            # the fast prover reads a big layer of a streamed tree in chunks (never whole)
            tables = sum(2 if unit_leaf[i] else 4 for i in active)
            stream = ((not hiding or (FAST_HIDDEN and layer >= 2))
                      and FAST_LAYERS and KL.fast(E)
                      and tables * (16 << layer) > STREAM_BYTES
                      and any(ts[i].leaves_range is not None for i in active))
            hold = _hold_layer(ts, active, layer + 1)
            for i in active:
                if stream and ts[i].leaves_range is not None:
                    ts[i].drop(layer + 1)
                else:
                    ts[i].need(layer + 1, hold)
        mu = ctx.challenge(f"{label}/l{layer}/mu")
        terms, slots, coefs, _ = _layer_terms(E, active, unit_leaf, mu)
        claim = E.scalar(0)
        for i, c in zip(active, coefs):
            claim = E.add(claim, E.mul(c, E.add(vp[i], E.mul(mu, vq[i]))))

        def tables(layer=layer, r=r, active=active, unit_leaf=unit_leaf):
            h = 1 << layer
            tabs = [mle.eq_table(E, r)]
            for i in active:
                p, q = trees()[i].p[layer + 1], trees()[i].q[layer + 1]
                if not unit_leaf[i]:
                    tabs += [p[:h], p[h:]]
                tabs += [q[:h], q[h:]]
            return tabs

        if hiding:
            # a layer of 0 variables (the roots' children) as one of 1 over duplicated
            # tables (the sum doubles): the last-round mask needs a variable
            blind = ()
            for i, c in zip(active, coefs):
                blind += scale_blind(E, bp[i], c) + scale_blind(E, bq[i], E.mul(c, mu))
            nv = max(layer, 1)

            def tabs_h(tables=tables, layer=layer):
                t = tables()
                return t if layer else [np.concatenate([x, x]) for x in t]

            two = E.scalar(1 if layer else 2)
            pub = (0,) if ctx.prover else {
                0: lambda x, rp=r, layer=layer: mle.eq_eval(E, rp, x[:layer])}
            with _tampering(ctx, tamper):   # the test hook sees this layer's messages too
                if ctx.prover and layer >= 2 and FAST_HIDDEN and FAST_LAYERS and KL.fast(E):
                    rho, finals, fbl = _hidden_layer_fast(
                        ctx, f"{label}/l{layer}", layer, r, trees(), active, unit_leaf,
                        coefs, mu, terms, claim, blind, stream)
                else:
                    rho, finals, fbl = zk.run_hidden(ctx, f"{label}/l{layer}", nv, terms,
                                                     E.mul(claim, two), tabs_h, pub,
                                                     blinds=scale_blind(E, blind, two))
            rho = rho[:layer]
        elif ctx.prover and FAST_LAYERS and KL.fast(E):
            mask = None
            if ctx.zk is not None and layer > 0:   # what `ctx.run_sumcheck` would do
                mask, _ = zk.begin(ctx, f"{label}/l{layer}", layer, degree_of(terms))
            rho, finals = _prove_layer(ctx, f"{label}/l{layer}", layer, r, trees(), active,
                                       unit_leaf, coefs, mu, claim, tamper, mask, stream)
        else:
            rho, finals = ctx.run_sumcheck(f"{label}/l{layer}", layer, terms, claim, tables,
                                           public={0: lambda x, rp=r: mle.eq_eval(E, rp, x)})
        lam = ctx.challenge(f"{label}/l{layer}/lambda")
        r = np.concatenate([rho, lam[None]])
        one_l = E.sub(E.scalar(1), lam)
        for i, (p0, p1, q0, q1) in zip(active, slots):
            vp[i] = None if p0 is None else _next(E, finals[p0], finals[p1], lam)
            vq[i] = _next(E, finals[q0], finals[q1], lam)
            if hiding:
                bp[i] = () if p0 is None else \
                    scale_blind(E, fbl[p0], one_l) + scale_blind(E, fbl[p1], lam)
                bq[i] = scale_blind(E, fbl[q0], one_l) + scale_blind(E, fbl[q1], lam)
            if depths[i] == layer + 1:
                out[i] = LeafClaim(r, vp[i], vq[i], bp[i], bq[i])
                if ctx.prover:
                    _release(trees()[i])
        if ctx.prover:
            scratch.trim()   # the layer's freed tables (the next layer's differ in size)
            _trace(f"{label} layer {layer}: {len(active)} trees, stream={stream}, "
                   f"{time.perf_counter() - t_layer:.2f} s, {_LEAVES[0]} leaves computed "
                   "so far")
    return out


def _release(tree: FracTree) -> None:
    """Drop every layer of a tree whose GKR is done (its leaf claim is out): no later
    layer reads it, and the finished trees' last layers would otherwise stay resident
    through the deeper trees' layers, where the lookups' peak memory is."""
    tree.drop(tree.depth + 1)


@contextmanager
def _tampering(ctx, tamper):
    """The test hook ``tamper`` sees every message sent inside the block (hidden
    sumchecks send through `zk.run_hidden`)."""
    send = ctx.ch.send_field if ctx.prover and tamper is not None else None
    if send is not None:
        ctx.ch.send_field = lambda lab, F, a, send=send: send(lab, F, tamper(lab, a))
    try:
        yield
    finally:
        if send is not None:
            del ctx.ch.send_field


def _hidden_roots(ctx, depths, units, trees, label, tamper, top, pads):
    """Zero knowledge (docs/zero-knowledge.md §5.1, hidden lookups): the LogUp identity
    on layer ``top`` (one fraction sum per challenge set x) without sending it.  Per set
    x, with the lookup trees' sums p_k/q_k (k < G = n − 1), their padding counts pad_k
    and the table tree's p_T/q_T:

        P(x) = q_T·Σ_k (p_k − pad_k·q_k)·Π_(j≠k) q_j − p_T·Π_k q_k,   Q(x) = q_T·Π_k q_k,

    the identity is P(x) = 0 (and Q(x) ≠ 0).  The prover sends Q'(x) = s_x·Q(x) only,
    s_x = `zk.fresh_nu` a committed random scaling (uniform: Q' is uniform in E*); the
    verifier checks Q'(x) ≠ 0 (so s_x ≠ 0 and Q(x) ≠ 0), draws r ∈ E^top and μ, and the
    hidden sumcheck (`zk.run_hidden`, over one dummy variable when top = 0)

        Σ_x eq(r, x)·s(x)·[P(x) + μ·Q(x)] = μ·Q̃'(r)

    over the layer's tables and s proves s·P = 0 and s·Q = Q' on the cube (P' = s·P is
    a sum of products of them, so the terms are those of the expansion).  Its hidden
    finals become the blinded claims on layer ``top`` at its point ρ; the claim on s,
    s̃(ρ) + Z·ν_s = ŝ(ρ), is a claim on the masks (s̃(ρ) = Σ_x eq(ρ, x)·s_x).  Returns
    (ρ, vp, vq, bp, bq) for `_layers`."""
    E = ctx.E
    n = len(depths)
    G = n - 1
    k = 1 << top
    one, zero = E.scalar(1), E.scalar(0)
    pix = [1 + 2 * i for i in range(n)]
    qix = [2 + 2 * i for i in range(n)]
    six = 1 + 2 * n
    unit_p = [pix[i] for i in range(n) if units[i] and depths[i] == top]
    nus = [zk.fresh_nu(ctx) for _ in range(k)]
    pad = sum(int(p) for p in pads[:G])
    layer: list = []
    s = None
    if ctx.prover:
        for t in trees():
            t.need(top)
            layer += [E.ones(k) if t.p[top] is None else np.asarray(t.p[top]),
                      np.asarray(t.q[top])]
        s = np.stack([blind_value(ctx, (nu,)) for nu in nus])

    def values():
        qs = [layer[2 * i + 1] for i in range(n)]
        Q = E.mul(s, qs[G])
        for j in range(G):
            Q = E.mul(Q, qs[j])
        if selfcheck.enabled():
            num, den = E.zeros(k), E.ones(k)
            for j in range(G):
                pj = E.sub(layer[2 * j], E.mul(E.scalar(int(pads[j])), qs[j]))
                num = E.add(E.mul(num, qs[j]), E.mul(den, pj))
                den = E.mul(den, qs[j])
            if not E.equal(E.mul(num, qs[G]), E.mul(layer[2 * G], den)):
                raise ProverError(f"{label}: LogUp sums differ (a looked-up row is not in "
                                  "its table, or the multiplicities are wrong)")
        return Q if tamper is None else tamper(f"{label}/zk/roots", Q)

    Qs = ctx.exchange(f"{label}/zk/roots", k, values)
    for x in range(k):
        at = f" (challenge set {x})" if k > 1 else ""
        ctx.check(not E.equal(Qs[x], zero), f"{label}: a denominator is zero{at}")
    r = ctx.challenges(f"{label}/zk/top", top) if top else E.zeros(0)
    mu = ctx.challenge(f"{label}/zk/mu")
    qprod = tuple(qix[j] for j in range(G))
    terms = [(one, (0, six, qix[G], pix[i]) + tuple(qix[j] for j in range(G) if j != i))
             for i in range(G)]
    terms.append((E.sub(mu, E.scalar(pad)), (0, six, qix[G]) + qprod))
    terms.append((E.sub(zero, one), (0, six, pix[G]) + qprod))
    claim = E.mul(mu, mle.evaluate(E, np.stack(list(Qs)), r) if top else Qs[0])
    nv = max(top, 1)

    def tables():
        tabs = [mle.eq_table(E, r) if top else E.ones(1)] + layer + [s]
        return tabs if top else [np.concatenate([x, x]) for x in tabs]

    if ctx.prover:
        pub = (0,) + tuple(unit_p)
    else:
        pub = {0: lambda x: mle.eq_eval(E, r, x[:top])}
        for i in unit_p:
            pub[i] = one
    with _tampering(ctx, tamper):
        point, fin, fbl = zk.run_hidden(ctx, f"{label}/root", nv, terms,
                                        claim if top else E.add(claim, claim), tables, pub)
    rho = point[:top]
    vp = [one if pix[i] in unit_p else fin[pix[i]] for i in range(n)]
    vq = [fin[qix[i]] for i in range(n)]
    bp = [tuple(fbl[pix[i]]) for i in range(n)]
    bq = [tuple(fbl[qix[i]]) for i in range(n)]
    # s̃(ρ) + Z(ρ')·ν_s = ŝ: a claim on the masks
    er = mle.eq_table(E, rho) if top else E.ones(1)
    sb = [Blind(nu.tensor, nu.point, E.mul(nu.coefficient, er[x])) for x, nu in enumerate(nus)]
    zk.mask_claim(ctx, sb + list(fbl[six]), fin[six])
    return rho, vp, vq, bp, bq


# -- the lookup argument ------------------------------------------------------------------


class LogUpGKR(LookupArgument):
    """LogUp proven by GKR over fraction trees; commits only the multiplicities.  All
    tables are proven together (`prove_many`, module doc "Many tables")."""

    name = "logup-gkr"
    fields = ()

    #: test-only: a cheating prover's rewrite of one GKR message before it is sent
    #: (label, values) -> values; the rewritten values are absorbed, so the transcript
    #: stays consistent and only the verifier's checks can catch it
    test_tamper_message: Callable[[str, np.ndarray], np.ndarray] | None = None

    #: the verifier asks for up to this many independent challenge sets (module doc)
    max_repetitions = MAX_LOOKUP_REPETITIONS

    #: test-only: use this many challenge sets (a power of two) instead of the number
    #: the sizes call for; read by whichever side holds the object, so a verifier
    #: without it rejects a proof made with it
    test_repetitions: int | None = None

    def prove(self, ctx, c: LookupCommitted) -> None:
        """One table: `prove_many` of it alone."""
        self.prove_many(ctx, [c])

    def prove_many(self, ctx, committed: Sequence[LookupCommitted]) -> None:
        """`_prove_many` within the phase's RAM budget (`_budget`)."""
        with _budget():
            self._prove_many(ctx, committed)

    def _prove_many(self, ctx, committed: Sequence[LookupCommitted]) -> None:
        cs = list(committed)
        if not cs:
            return
        E = ctx.E
        n = len(cs)
        pre = cs[0].label if n == 1 else "lookups"
        W = max(c.table.width for c in cs)
        tagged = n > 1
        groups = lookup_groups([c.layout.size for c in cs], MAX_LOOKUP_TREES)
        looks = [StackLayout([cs[i].layout.size for i in g]) for g in groups]
        tabs = StackLayout([c.table.size for c in cs])
        # the verifier's count: rows the prover chooses (every padding row is pinned)
        rows = sum(c.layout.used for c in cs)
        trows = sum(c.table.size for c in cs)
        reps = check_lookup(E, rows, trows, f"{pre} (all tables)", prover=ctx.prover,
                            most=self.max_repetitions)
        if self.test_repetitions is not None:
            reps = int(self.test_repetitions)
        top = reps.bit_length() - 1
        if tagged:
            ctx.ch.observe_public(f"{pre}/tables", "\x00".join(
                f"{i}:{c.label}:{c.layout.size}:{c.table.size}" for i, c in enumerate(cs)
            ).encode())
        ctx.ch.observe_public(f"{pre}/repetitions", f"{reps}:{rows}:{trows}".encode())
        sets = draw_combiner_sets(ctx, W + tagged, pre, reps)
        coefs = [co for co, _ in sets]
        # β_{r,i} = β_r − α_{r,W}·i: table i's rows carry the tag i in coordinate W
        betas = [[E.sub(b, E.mul(co[W], E.scalar(i))) if tagged else b for i in range(n)]
                 for co, b in sets]
        G = len(looks)
        if ctx.prover:
            _trace(f"{pre}: {n} tables, rows {rows}, table rows {trows}, repetitions {reps}, "
                   f"lookup trees {[lay.num_vars + top for lay in looks]} "
                   f"(used {[sum(cs[i].layout.used for i in g) for g in groups]}), "
                   f"table tree {tabs.num_vars + top}")
            for c in cs:
                _trace(f"  {c.label}: width {c.table.width}, rows {c.layout.used}/"
                       f"{c.layout.size}, {len(c.layout.blocks)} blocks, table {c.table.size}")
        trees = _Trees(ctx, cs, groups, looks, tabs, coefs, betas, top)
        roots, claims = gkr(ctx, [lay.num_vars + top for lay in looks] + [tabs.num_vars + top],
                            [True] * G + [False], trees, f"{pre}/gkr",
                            tamper=self.test_tamper_message, top=top,
                            pads=[lay.padding for lay in looks] + [0])
        if ctx.prover:   # the trees' held layers and the heap the GKR freed go back now,
            trees.close()   # not after the opening that follows
            scratch.release(trim_heap=True)
        zero, one = E.scalar(0), E.scalar(1)
        for rep in range(reps if roots is not None else 0):   # (hidden: `_hidden_roots`)
            at = f" (challenge set {rep})" if reps > 1 else ""
            for k, rt in enumerate(roots):
                ctx.check(not E.equal(rt[rep][1], zero),
                          f"{pre}: denominator of tree {k} is zero{at}")
            # Σ over the lookup trees of p/q − (padding leaves, 1/1 each) = p_T/q_T
            num, den = zero, one
            for lay, rt in zip(looks, roots[:G]):
                p, q = rt[rep]
                num = E.add(E.mul(num, q), E.mul(den, E.sub(p, E.mul(E.scalar(lay.padding), q))))
                den = E.mul(den, q)
            p_t, q_t = roots[G][rep]
            ctx.check(E.equal(E.mul(num, q_t), E.mul(p_t, den)),
                      f"{pre}: LogUp sums differ{at} (a looked-up row is not in its table, or "
                      "the multiplicities are wrong)")
        # lookup leaves: every table's block splits into its requests' columns; the low
        # ``top`` coordinates of a leaf index are its challenge set
        for g, lay, lk, rt in zip(groups, looks, claims[:G],
                                 roots[:G] if roots is not None else [None] * G):
            if lay.num_vars == 0 and rt is not None:  # the sent layer is the leaves
                ctx.check(all(E.equal(p, one) for p, _ in rt),
                          f"{pre}: lookup-side numerator is not 1")
            zr, z = lk.point[:top], lk.point[top:]
            er = mle.eq_table(E, zr)
            acc = zero
            extra: tuple = ()   # hidden: the masked column reveals' blinds
            for b in lay.blocks:
                sel = selector(E, z[b.num_vars:], b.offset >> b.num_vars)
                if b.item is None:
                    v = one
                else:
                    c = cs[g[b.item]]
                    if lk.bq:
                        cols, cbl = c.layout.columns_hidden(
                            ctx, z[:b.num_vars], c.label,
                            lambda t, nu, lk=lk: ctx.committer.may_blind(ctx, t, nu, lk.bq))
                        # C̃_k = C̃'_k − ΣB_k: q̃ = acc' + Σ_k sel·w_k·ΣB_k
                        for kk, bl in enumerate(cbl):
                            w = zero
                            for rep in range(reps):
                                w = E.add(w, E.mul(er[rep], coefs[rep][kk]))
                            extra += scale_blind(E, bl, E.mul(sel, w))
                    else:
                        cols = c.layout.columns(ctx, z[:b.num_vars], c.label)
                    v = zero
                    for rep in range(reps):
                        v = E.add(v, E.mul(er[rep], combine_values(
                            E, coefs[rep], betas[rep][g[b.item]], cols)))
                acc = E.add(acc, E.mul(sel, v))
            _leaf_check(ctx, lk.bq + extra, lk.q, acc, f"{pre}: lookup-side leaves do not "
                        "match the columns")
        tb = claims[G]
        # table leaves: the public tables, and one claim per table on its multiplicities
        # (the same in every challenge set: Σ_r eq(z_r, r) = 1)
        zr, z = tb.point[:top], tb.point[top:]
        er = mle.eq_table(E, zr)
        items = [b for b in tabs.blocks if b.item is not None]
        mnu: list = [None] * len(items)
        if tabs.padding == 0 and n == 1 and not tb.bp:
            mv = [tb.p]
        else:   # (hidden layers: m's value sent, the blinded p checked against it)
            if tb.bp:   # ... as m̃(z) + ν, its claim blinded (docs/zero-knowledge.md §5.1)
                for j, b in enumerate(items):
                    nu = zk.fresh_nu(ctx)
                    if ctx.committer.may_blind(ctx, cs[b.item].m, nu, tb.bp):
                        mnu[j] = nu
            mv = ctx.exchange(f"{pre}/m", n, lambda: np.stack(
                [E.add(ctx.evaluate(cs[b.item].m, z[:b.num_vars]),
                       blind_value(ctx, () if nu is None else (nu,)))
                 for b, nu in zip(items, mnu)]))
        for b, v, nu in zip(items, mv, mnu):
            ctx.claim(cs[b.item].m, z[:b.num_vars], v, () if nu is None else (nu,))
        # p̃_T = Σ sel·(m' − ν): the blinds −sel·ν join p's leaf check
        mextra = tuple(Blind(nu.tensor, nu.point, E.sub(zero, E.mul(
            nu.coefficient, selector(E, z[b.num_vars:], b.offset >> b.num_vars))))
            for b, nu in zip(items, mnu) if nu is not None)

        def table_side():
            acc_p, acc_q = zero, zero
            vals = iter(mv)
            for b in tabs.blocks:
                sel = selector(E, z[b.num_vars:], b.offset >> b.num_vars)
                if b.item is None:
                    vq = E.scalar(1)
                else:
                    t = cs[b.item].table
                    tv = t.evaluate(E, z[:b.num_vars])
                    vq = zero
                    for rep in range(reps):
                        vq = E.add(vq, E.mul(er[rep], combine_values(
                            E, coefs[rep], betas[rep][b.item], tv)))
                    acc_p = E.add(acc_p, E.mul(sel, next(vals)))
                acc_q = E.add(acc_q, E.mul(sel, vq))
            return acc_p, acc_q

        msg = f"{pre}: table-side leaves do not match the tables and multiplicities"
        if tb.bp or tb.bq:   # blinded (hidden layers): the differences as mask claims
            acc_p, acc_q = table_side()
            _leaf_check(ctx, tb.bp + mextra, tb.p, acc_p, msg)
            _leaf_check(ctx, tb.bq, tb.q, acc_q, msg)
        else:
            ctx.check(lambda: all(E.equal(a, b) for a, b in zip((tb.p, tb.q),
                                                                 table_side())), msg)


#: at most this many lookup-side trees (`lookup_groups`): each saves padding leaves and
#: costs 4 values per GKR layer
MAX_LOOKUP_TREES = 4


def lookup_groups(sizes: Sequence[int], most: int) -> list[list[int]]:
    """Items of power-of-two ``sizes`` split into at most ``most`` groups, one lookup
    tree each: largest first, group k takes items until they fill the k-th highest
    power of two of Σ sizes exactly (always possible: descending powers of two), the
    last group takes the rest (padded to a power of two in its tree)."""
    order = sorted(range(len(sizes)), key=lambda i: -sizes[i])  # stable, as StackLayout
    left = sum(sizes)
    groups: list[list[int]] = []
    pos = 0
    while pos < len(order):
        if len(groups) == most - 1:
            groups.append(order[pos:])
            break
        target = 1 << (left.bit_length() - 1)
        g, tot = [], 0
        while tot < target:
            g.append(order[pos])
            tot += sizes[order[pos]]
            pos += 1
        groups.append(g)
        left -= tot
    return groups


def _drop_read(plan, lo: int, hi: int, i0: int, i1: int) -> None:
    """The pages of the planned segments i0 … i1−1's columns read for leaves lo … hi−1
    given back (`_Trees._fill`'s `scratch.drop_pages`, pieces of at least `DROP_BYTES`)."""
    args, _, maps = plan[:3]
    starts, ends = args[0], args[1]
    for i in range(i0, i1):
        ms = maps[i]
        if not ms:
            continue
        a, b = max(lo, int(starts[i])), min(hi, int(ends[i]))
        if (b - a) * 8 >= DROP_BYTES:
            for m, off in ms:
                if m is not None:
                    s0 = off - int(starts[i]) * 8
                    scratch.drop_range(m, s0 + a * 8, s0 + b * 8)


def _drop_pieces(plan, xlo: int, wx: int, stepx: int, m: int) -> None:
    """`_drop_read` of the m pieces xlo + j·stepx … + wx − 1 a fused layer range read."""
    starts, ends = plan[0][0], plan[0][1]
    for j in range(m):
        a = xlo + j * stepx
        _drop_read(plan, a, a + wx, int(np.searchsorted(ends, a, side="right")),
                   int(np.searchsorted(starts, a + wx, side="left")))


class _Trees:
    """The prover's fraction trees of `LogUpGKR.prove_many` (built on first call, then
    cached): one lookup tree per group (leaves 1/(β_{r,i} − c), every table's combined
    column in its block of the group's `StackLayout`, padding leaves 1/1) and the table
    tree (leaves m_j/(β_{r,i} − τ_j) in the blocks of ``tabs``, padding 0/1), with the
    2^top challenge sets r interleaved: leaf r + 2^top·x is set r's leaf x, so layer
    ``top`` holds one fraction sum per set.  The leaves are written block by block from
    the column tensors' field tables (no combined column is built); the lookup trees
    hold only layers 0 … `KEEP_LAYERS` and the deepest layer the GKR reads whole
    (`streamed_tree`: deeper layers are summed from the leaves whenever read), the table
    tree its layers 0 … D−2 (`lazy_tree`)."""

    def __init__(self, ctx, cs, groups, looks: list[StackLayout], tabs: StackLayout, coefs,
                 betas, top: int = 0):
        self.ctx, self.cs, self.groups, self.looks, self.tabs = ctx, cs, groups, looks, tabs
        self.coefs, self.betas, self.top = coefs, betas, top
        self._trees: list | None = None
        self._comb: dict = {}
        self._plans: dict = {}

    def __call__(self) -> list[FracTree]:
        if self._trees is None:
            E = self.ctx.E
            out = []
            # the trees deeper than `KEEP_LAYERS` also hold, from the one pass that
            # builds them, the deepest layer the GKR reads whole (`_deepest_fit`)
            deep = [lay.num_vars + self.top for lay in self.looks
                    if lay.num_vars + self.top > KEEP_LAYERS]
            hold = _deepest_fit([(d, True) for d in deep], KEEP_LAYERS)
            for g, lay in zip(self.groups, self.looks):
                segs = self._segments(g, lay)
                if FILL_PLAN and KL.fast(E) and lay.num_vars + self.top > KEEP_LAYERS:
                    # streamed: its leaves are summed again on every pass (`_plan`)
                    self._plans[id(segs)] = self._plan(segs)

                def rng(lo, hi, segs=segs):
                    return self._look_range(segs, lo, hi)

                rng.into = lambda lo, hi, q, segs=segs: self._look_into(segs, lo, hi, q)
                rng.reduce = lambda lo, hi, layer, m, out, segs=segs: self._look_reduce(
                    segs, lo, hi, layer, m, out)
                rng.window_sums = (lambda xa, xb, wx, layer, m, Es, want1, acc, segs=segs:
                                   self._look_window(segs, xa, xb, wx, layer, m, Es, want1,
                                                     acc))
                rng.reduce_fold = (lambda lo, hi, layer, m, rhos, out, fp, fq, at, segs=segs:
                                   self._look_reduce_fold(segs, lo, hi, layer, m, rhos, out,
                                                          fp, fq, at))

                out.append(streamed_tree(E, lay.num_vars + self.top, True, rng, KEEP_LAYERS,
                                         hold))
            out.append(lazy_tree(E, self.tabs.num_vars + self.top, False,
                                 self._table_leaves,
                                 self._table_above if TABLE_ABOVE and KL.fast(E) else None))
            self._trees = out
        return self._trees

    def close(self) -> None:
        """Forget the trees (the GKR is done)."""
        self._trees = None
        self._plans = {}

    def _plan(self, segs) -> tuple:
        """One streamed lookup tree's segments as `KL.fill_segments` takes them (built
        once; each pass then writes a range's leaves in one kernel call, not one call
        and a Python iteration per segment): (kernel arguments, the segments it leaves
        to `_fill` (index list), and per segment its mapped columns' (map, byte offset)
        for `scratch.drop_range`, and the columns themselves, kept alive for the
        kernels' address table `KL.col_table`).  Same leaves as the per-segment path."""
        E, F = self.ctx.E, self.ctx.F
        k = 1 << self.top
        S = len(segs)
        starts = np.array([sg[0] for sg in segs], dtype=np.int64)
        ends = np.array([sg[0] + sg[1] for sg in segs], dtype=np.int64)
        kind = np.full(S, KL.SEG_SKIP, dtype=np.int64)
        tix = np.zeros(S, dtype=np.int64)
        widths = np.zeros(S, dtype=np.int64)
        colptr = np.zeros(S, dtype=np.int64)
        padv = np.zeros((S, k, 2), dtype=np.uint64)
        L: list = []
        tabs: dict = {}
        APs, BTs = [], []
        skip, maps = [], []
        for i, (_start, length, cols, t) in enumerate(segs):
            w = self.cs[t].table.width
            dropped = []
            if isinstance(cols[0], int | np.integer):   # a padding row: one leaf
                row = [F.from_ints(np.array([v], np.int64)) for v in cols]
                padv[i] = KL.leaf_denoms_sets(
                    E, row, [self.coefs[r][:w] for r in range(k)],
                    [self.betas[r][t] for r in range(k)],
                    E.zeros(1).reshape((1, 1) + E.elem_shape).repeat(k, axis=1).copy())[0]
                kind[i] = KL.SEG_PAD
            elif (len(cols) == w <= KL.FILL_WIDTH and
                  all(c.dtype == np.uint64 and c.ndim == 1 and c.flags.c_contiguous
                      and len(c) >= length for c in cols)):
                if t not in tabs:
                    ap, bt = self._combiners(t, w)
                    apw = np.zeros((k, KL.FILL_WIDTH, 2), dtype=np.uint64)
                    apw[:, :w] = ap
                    tabs[t] = len(APs)
                    APs.append(apw)
                    BTs.append(bt)
                kind[i], tix[i], widths[i], colptr[i] = KL.SEG_COLS, tabs[t], w, len(L)
                for c in cols:
                    L.append(c)
                    dropped.append(_map_offset(c))
            else:
                skip.append(i)
            maps.append(dropped)
        AP = np.stack(APs) if APs else np.zeros((1, k, KL.FILL_WIDTH, 2), dtype=np.uint64)
        BT = np.stack(BTs) if BTs else np.zeros((1, k, 2), dtype=np.uint64)
        return ((starts, ends, kind, tix, widths, colptr, KL.col_table(L), AP, BT, padv),
                skip, maps, L)

    def _fill_planned(self, segs, plan, lo: int, hi: int, q: np.ndarray) -> None:
        """`_fill` by the plan (`_plan`): one kernel call for the range, the segments it
        skips by `_fill`'s loop, then the pages of the columns read given back (as
        `_fill` does, `scratch.drop_range`)."""
        args, skip, maps = plan[:3]
        KL.fill_segments(lo, hi, q, args)
        starts, ends = args[0], args[1]
        i0 = int(np.searchsorted(ends, lo, side="right"))
        i1 = int(np.searchsorted(starts, hi, side="left"))
        for i in skip:
            if i0 <= i < i1:
                self._fill(segs[i:i + 1], lo, hi, q, gaps=False)
        _drop_read(plan, lo, hi, i0, i1)

    def _look_reduce(self, segs, lo: int, hi: int, layer: int, m: int, out):
        """Entries lo … hi−1 of ``layer`` (m leaves each, `layer_range`) of a planned
        tree summed straight from its segments (`KL.fill_reduce`: no leaves written and
        read back), the columns' pages given back as `_fill` gives them; None where the
        plan cannot (no plan, a segment it skips, a range not aligned to the sets)."""
        plan = self.__dict__.get("_plans", {}).get(id(segs))
        k = 1 << self.top
        if plan is None or plan[1] or m < 2 or lo % k or hi % k or (1 << layer) % k:
            return None
        w = hi - lo
        pout, qout = (None, None) if out is None else out
        if pout is None or qout is None:
            pout, qout = _empty(self.ctx.E, w), _empty(self.ctx.E, w)
        if not all(a.flags.c_contiguous and a.dtype == np.uint64 and a.shape == (w, 2)
                   for a in (pout, qout)):
            return None
        _LEAVES[0] += m * w
        xlo, wx, stepx = lo >> self.top, w >> self.top, (1 << layer) >> self.top
        KL.fill_reduce(xlo, wx, stepx, m, plan[0], pout, qout)
        _drop_pieces(plan, xlo, wx, stepx, m)
        return pout, qout

    def _look_reduce_fold(self, segs, lo: int, hi: int, layer: int, m: int, rhos, out,
                          fp: int, fq: int, at: int) -> bool:
        """`_look_reduce` of one set folded by ``rhos`` into rows fp, fq of the
        component-major ``out`` from entry ``at`` (`KL.fill_reduce_fold`,
        `FracTree.range_fold`; the leaf layer, m = 1: `KL.fill_fold`, q's row only);
        False where it does not apply (nothing written)."""
        plan = self.__dict__.get("_plans", {}).get(id(segs))
        if plan is None or plan[1] or m < 1 or self.top:
            return False
        if m == 1:   # the leaves themselves (`KL.fill_fold`: q only)
            if not KL.fill_fold(lo, hi - lo, plan[0], rhos, out, fq, at):
                return False
        elif not KL.fill_reduce_fold(lo, hi - lo, 1 << layer, m, plan[0], rhos, out, fp,
                                     fq, at):
            return False
        _LEAVES[0] += m * (hi - lo)
        _drop_pieces(plan, lo, hi - lo, 1 << layer, m)
        return True


    def _look_window(self, segs, xa: int, xb: int, wx: int, layer: int, m: int, Es,
                     want1, acc) -> bool:
        """A window pass's sums of one planned tree's slot over its entries xa …, xb …
        (wx each, m leaves an entry; m = 1: the leaves) of ``layer``, summed from its
        segments in cache and added to ``acc`` (`KL.fill_window_sums`,
        `FracTree.range_window`), the columns' pages given back as `_fill` gives them;
        False where it does not apply (nothing added)."""
        plan = self.__dict__.get("_plans", {}).get(id(segs))
        if plan is None or plan[1] or m < 1 or self.top:
            return False
        if len(Es) == 1:   # a window of one round: the pair sums (`KL.fill_gkr_sums`)
            sub = np.zeros((1, 3, 2, 2), np.uint64)
            if not KL.fill_gkr_sums(xa, xb, wx, 1 << layer, m, plan[0], Es[0], want1[0],
                                    sub):
                return False
            acc[:, :, :, 0] = (acc[:, :, :, 0].astype(object) + sub.astype(object)) % KL.P_INT
        elif not KL.fill_window_sums(xa, xb, wx, 1 << layer, m, plan[0], Es, want1, acc):
            return False
        _LEAVES[0] += 2 * m * wx
        for x in (xa, xb):
            _drop_pieces(plan, x, wx, 1 << layer, m)
        return True

    def _segments(self, group: list[int], lay: StackLayout) -> list:
        """(start, length, columns or padding row ints, table index) covering one
        lookup tree's leaves of one challenge set in order (the stack's padding blocks
        are absent: leaves 1)."""
        segs = []
        for b in lay.blocks:
            if b.item is None:
                continue
            t = group[b.item]
            for off, nv, cols in self.cs[t].witness.blocks():
                segs.append((b.offset + off, 1 << nv, cols, t))
        segs.sort(key=lambda sg: sg[0])
        return segs

    def _fill(self, segs, lo: int, hi: int, q: np.ndarray, gaps: bool = True) -> None:
        """Every challenge set's lookup leaves lo … hi−1: q of shape (hi − lo, 2^top) +
        elem, every entry written (leaf r + 2^top·x is set r's leaf x; the stack's
        padding, which no segment covers, is 1; ``gaps`` False: only the segments'
        leaves are written).  A streamed tree's segments go by its plan (`_plan`)."""
        plan = self.__dict__.get("_plans", {}).get(id(segs)) if gaps else None
        if plan is not None:
            return self._fill_planned(segs, plan, lo, hi, q)
        E, F = self.ctx.E, self.ctx.F
        k = 1 << self.top
        one = E.ones(1)[0]
        pos = lo   # leaves lo … pos−1 written
        # segments are disjoint and sorted: start at the last one beginning at or before lo
        first = max(0, bisect.bisect_right(segs, lo, key=lambda sg: sg[0]) - 1)
        for start, length, cols, t in segs[first:]:
            if start >= hi:
                break
            a, b = max(lo, start), min(hi, start + length)
            if a >= b:
                continue
            if a > pos and gaps:
                q[pos - lo:a - lo] = one
            pos = b
            w = self.cs[t].table.width
            dst = q[a - lo:b - lo]
            if isinstance(cols[0], int | np.integer):  # a padding block: one row
                key = (t, tuple(int(v) for v in cols))
                pads = self.__dict__.setdefault("_pads", {})   # (computed once per pass
                if key not in pads:                            # before: the same leaves)
                    row = [F.from_ints(np.array([v], np.int64)) for v in cols]
                    pads[key] = KL.leaf_denoms_sets(
                        E, row, [self.coefs[r][:w] for r in range(k)],
                        [self.betas[r][t] for r in range(k)],
                        E.zeros(1).reshape((1, 1) + E.elem_shape).repeat(k, axis=1).copy())[0]
                dst[...] = pads[key]
            else:
                src = [c[a - start:b - start] for c in cols]
                if KL.fast(E):   # the combiners stacked once per table (`_combiners`)
                    KL.leaf_sets_u64(src, *self._combiners(t, w), dst)
                else:
                    KL.leaf_denoms_sets(E, src, [self.coefs[r][:w] for r in range(k)],
                                        [self.betas[r][t] for r in range(k)], dst)
                if (b - a) * 8 >= DROP_BYTES:
                    for c in src:   # read for every set: a view of a mapped stack
                        scratch.drop_pages(c)   # gives its pages back
        if pos < hi and gaps:
            q[pos - lo:] = one

    def _combiners(self, t: int, w: int) -> tuple:
        """Table t's combiners for every challenge set as `KL.leaf_sets_u64` takes them,
        (R, w, 2) and (R, 2) uint64, stacked once."""
        cache = self.__dict__.setdefault("_comb", {})   # (also on bare test objects)
        if t not in cache:
            k = 1 << self.top
            ap = np.stack([np.asarray(self.coefs[r][:w], np.uint64) for r in range(k)])
            bt = np.stack([np.asarray(self.betas[r][t], np.uint64) for r in range(k)])
            cache[t] = (np.ascontiguousarray(ap.reshape(k, w, 2)),
                        np.ascontiguousarray(bt.reshape(k, 2)))
        return cache[t]

    def _look_range(self, segs, lo: int, hi: int):
        """The lookup leaves lo … hi−1 of one tree (all challenge sets): (None, q)."""
        E = self.ctx.E
        _LEAVES[0] += hi - lo
        k = 1 << self.top
        xlo, xhi = lo >> self.top, (hi + k - 1) >> self.top
        q = _empty(E, (xhi - xlo) * k)
        self._fill(segs, xlo, xhi, q.reshape((xhi - xlo, k) + E.elem_shape))
        if lo == xlo * k and hi == xhi * k:
            return None, q
        return None, np.ascontiguousarray(q[lo - xlo * k:hi - xlo * k])

    def _look_into(self, segs, lo: int, hi: int, q: np.ndarray) -> None:
        """`_look_range` written into ``q`` (hi − lo leaves) instead of a new array."""
        k = 1 << self.top
        if lo % k or hi % k or not q.flags.c_contiguous:
            q[...] = self._look_range(segs, lo, hi)[1]
            return
        _LEAVES[0] += hi - lo
        self._fill(segs, lo >> self.top, hi >> self.top,
                   q.reshape(((hi - lo) >> self.top, k) + self.ctx.E.elem_shape))

    def _table_rows(self, rlo: int, rhi: int, p: np.ndarray, q: np.ndarray,
                    cols: dict) -> None:
        """Rows rlo … rhi−1 of the table tree's leaves (every challenge set: row x, set r
        is leaf r + 2^top·x) written into ``p``, ``q`` ((rhi − rlo)·2^top entries of E):
        the entries `_table_leaves` gives there (multiplicities, β − Σ α^k·column; the
        padding blocks p 0, q 1).  ``cols`` caches each table's field columns for the
        caller's pass (`_table_above` asks for many ranges of one table)."""
        E, F = self.ctx.E, self.ctx.F
        k = 1 << self.top
        w = rhi - rlo
        pv = p.reshape((w, k) + E.elem_shape)
        qv = q.reshape((w, k) + E.elem_shape)
        p[...] = E.zeros(1)[0]
        q[...] = E.ones(1)[0]   # rows no table block covers (the padding blocks) stay 1
        for b in self.tabs.blocks:
            a0, b0 = max(rlo, b.offset), min(rhi, b.offset + (1 << b.num_vars))
            if b.item is None or a0 >= b0:
                continue
            c = self.cs[b.item]
            tw = c.table.width
            if b.item not in cols:
                cols[b.item] = (table_field_columns(F, c.table), self.ctx.table(c.m))
            tcols, mcol = cols[b.item]
            src = slice(a0 - b.offset, b0 - b.offset)
            dst = slice(a0 - rlo, b0 - rlo)
            sub = [tc[src] for tc in tcols]
            self._block_leaves(b.item, tw, sub, mle.lift(E, mcol[src], base=True),
                               dst, q, pv, qv)

    def _table_above(self):
        """The table tree's layer above its leaves (p, q of n/2 entries: entry i pairs
        leaves i and i + n/2, `KL.frac_up`), summed `TABLE_CHUNK` rows at a time from
        `_table_rows` into two reused chunk buffers: the leaves (2·16·n bytes) are never
        held whole (`lazy_tree`'s build and `FracTree.need` of the layer above the
        leaves: two fewer passes of fresh pages a prove; same entries as
        ``KL.frac_up(E, *self._table_leaves())``)."""
        E = self.ctx.E
        k = 1 << self.top
        rows = self.tabs.size
        hr = rows // 2
        step = max(1, min(hr, TABLE_CHUNK))
        pout, qout = _empty(E, hr * k), _empty(E, hr * k)
        pb, qb = _empty(E, 2 * step * k), _empty(E, 2 * step * k)
        cols: dict = {}
        for a in range(0, hr, step):
            b = min(hr, a + step)
            c = (b - a) * k
            p, q = pb[:2 * c], qb[:2 * c]
            self._table_rows(a, b, p[:c], q[:c], cols)
            self._table_rows(hr + a, hr + b, p[c:], q[c:], cols)
            KL.frac_up(E, p, q, (pout[a * k:b * k], qout[a * k:b * k]))
        return pout, qout

    def _table_leaves(self):
        E, F = self.ctx.E, self.ctx.F
        k = 1 << self.top
        n = self.tabs.size * k
        # q's entries are written once: the tables' blocks below, the padding blocks 1
        # here (`_empty`: not E.ones, a zeroed array and a filled one written over); p
        # stays E.zeros (its padding pages, 0, are never touched: not resident)
        p, q = E.zeros(n), (_empty(E, n) if KL.fast(E) else E.ones(n))
        pv = p.reshape((self.tabs.size, k) + E.elem_shape)
        qv = q.reshape((self.tabs.size, k) + E.elem_shape)
        for b in self.tabs.blocks:
            if b.item is None:
                if KL.fast(E):
                    qv[b.offset:b.offset + (1 << b.num_vars)] = E.ones(1)[0]
                continue
            c = self.cs[b.item]
            w = c.table.width
            sl = slice(b.offset, b.offset + (1 << b.num_vars))
            tcols = table_field_columns(F, c.table)
            self._block_leaves(b.item, w, tcols, mle.lift(E, self.ctx.table(c.m), base=True),
                               sl, q, pv, qv)
        return p, q

    def _block_leaves(self, item, w: int, tcols, m_E, sl: slice, q: np.ndarray,
                      pv: np.ndarray, qv: np.ndarray) -> None:
        """One table block's leaves for every challenge set r (leaf r + 2^top·x): p the
        multiplicities ``m_E``, q = β_r − Σ α_r^j·column_j (`KL.leaf_denoms`), rows ``sl``
        of the (rows, sets) views ``pv``, ``qv`` (one set: written into ``q`` directly)."""
        E = self.ctx.E
        k = 1 << self.top
        for rep in range(k):
            apow, beta = self.coefs[rep][:w], self.betas[rep][item]
            if k == 1:
                KL.leaf_denoms(E, tcols, apow, beta, out=q[sl])
            else:
                qv[sl, rep] = KL.leaf_denoms(E, tcols, apow, beta)
            pv[sl, rep] = m_E


@hookimpl
def zk_lookup_arguments():
    return [LogUpGKR]
