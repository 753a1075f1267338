"""Range tables and range checks by limb decomposition.

`RangeTable(bits, lo)` is the one-column table lo, lo+1, …, lo + 2^bits − 1 (row j holds
lo + j); its MLE is lo + Σ_j 2^j·r_j, so the verifier evaluates it in O(bits).  Signed
ranges are offset tables (lo < 0).

`range_check` proves (prover context) or checks (verifier context) that every entry of
a tensor X lies in [lo, hi]; ops call it as ``ctx.range``:

* width W = hi − lo + 1, B = bits of W − 1 (so [lo, lo + 2^B) ⊇ [lo, hi]);
* X − lo ∈ [0, 2^B) is proven, and when W is not a power of two also hi − X ∈ [0, 2^B);
  together they give X ∈ [lo, hi];
* each side d ∈ [0, 2^B) is a lookup of X itself into an offset range table when X is
  committed and B ≤ limb_bits; otherwise d is decomposed into limbs
  d = Σ_j 2^(limb_bits·j)·L_j (the top limb narrower), each limb is committed and looked
  up in its range table, and the recomposition is proven linearly at one random point z:
  X̃(z) − lo = Σ_j 2^(limb_bits·j)·L̃_j(z) (resp. hi − X̃(z) = …) — an identity of
  multilinear polynomials, so it holds everywhere w.h.p.  The limbs are sound as
  integers because 2^B < p/2.  A check's limbs may also have explicit widths
  (`RangeCheck.widths`, limb j at bit offset o_j = Σ_(i<j) w_i): the cost rule splits a
  top limb whose table costs more than its entries (`_split_tops`).  The limbs that
  define a rescale's virtual Y or R (`rescale.limb_outputs`) get widths of up to
  `DIRECT_MAX_BITS` bits by the padded size of every table's column over the whole
  proof (`choose_widths`).

`ranges` runs several checks at once: every limb is committed before the point z is
drawn, so all limbs share one stacked commitment, and one z (its first n coordinates
for a tensor of n variables) serves every check (`range_points`).  The scheduler runs the *static*
checks of a graph (its proven bounds and every op's `Op.range_checks`) in two halves:
`range_limbs` in the commitment phase, so the limbs join the first stack with the
committed tensors, and `range_points` before the ops (`zklora.zkcore.graph`).
`ctx.range` (an op's `relations`) is for checks known only mid-proof.

Claims on X at z are handed to X's owner (its opening if committed, its producer if it
is a virtual input of the calling op).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, partial

import attrs
import numpy as np
import torch

from zklora.kernels.int_gemm import minmax_i64

from . import selfcheck
from .errors import ProverError
from .field import Field
from .lookup import Table

LIMB_BITS = 16


class RangeTable(Table):
    """The table [lo, lo + 2^bits) with O(bits) MLE evaluation."""

    width = 1

    def __init__(self, bits: int, lo: int = 0):
        if not 0 <= bits <= 30:
            raise ValueError(f"range table of {bits} bits is not supported (0..30)")
        self.num_vars = bits
        self.lo = int(lo)
        self.name = f"range{bits}" if lo == 0 else f"range{bits}@{lo}"
        self._col = np.arange(self.lo, self.lo + (1 << bits), dtype=np.int64)

    def columns(self):
        return [self._col]

    def evaluate(self, F: Field, point):
        acc = F.scalar(self.lo)
        for j in range(self.num_vars):
            acc = F.add(acc, F.mul(F.scalar(1 << j), point[j]))
        return [acc]

    def dense_lo(self) -> int:
        return self.lo

    def locate(self, cols):
        idx = np.asarray(cols[0], np.int64) - self.lo
        return np.where((idx >= 0) & (idx < self.size), idx, -1)

    def explain(self, row):
        return f"outside [{self.lo}, {self.lo + self.size - 1}]"


@cache
def _range_table(bits: int, lo: int) -> RangeTable:
    return RangeTable(bits, lo)


def range_table(bits: int, lo: int = 0) -> RangeTable:
    """The cached range table [lo, lo + 2^bits)."""
    return _range_table(int(bits), int(lo))


class RangePairTable(Table):
    """The two-column table of all pairs (a, b) ∈ [lo_a, lo_a + 2^bits_a) × [lo_b, lo_b +
    2^bits_b): row i holds (lo_a + (i mod 2^bits_a), lo_b + ⌊i / 2^bits_a⌋), so the MLEs
    are lo_a + Σ_(j<bits_a) 2^j·r_j and lo_b + Σ_(j<bits_b) 2^j·r_(bits_a+j), O(bits) each.
    A row (x, y) of two committed columns found in it proves x ∈ [lo_a, lo_a + 2^bits_a)
    and y ∈ [lo_b, lo_b + 2^bits_b) at once (`pair_lookups`, docs/soundness.md §2.2)."""

    width = 2

    def __init__(self, bits_a: int, lo_a: int, bits_b: int, lo_b: int):
        if min(bits_a, bits_b) < 0 or bits_a + bits_b > 24:
            raise ValueError(f"range pair table of {bits_a} + {bits_b} bits is not "
                             "supported (0..24 together)")
        self.bits_a, self.bits_b = int(bits_a), int(bits_b)
        self.lo_a, self.lo_b = int(lo_a), int(lo_b)
        self.num_vars = self.bits_a + self.bits_b
        self.name = f"{_range_name(bits_a, lo_a)}x{_range_name(bits_b, lo_b)}"
        i = np.arange(1 << self.num_vars, dtype=np.int64)
        self._cols = [self.lo_a + (i & ((1 << self.bits_a) - 1)), self.lo_b + (i >> self.bits_a)]
        for c in self._cols:
            c.setflags(write=False)

    def columns(self):
        return list(self._cols)

    def evaluate(self, F: Field, point):
        a = F.scalar(self.lo_a)
        for j in range(self.bits_a):
            a = F.add(a, F.mul(F.scalar(1 << j), point[j]))
        b = F.scalar(self.lo_b)
        for j in range(self.bits_b):
            b = F.add(b, F.mul(F.scalar(1 << j), point[self.bits_a + j]))
        return [a, b]

    def locate(self, cols):
        ia = np.asarray(cols[0], np.int64) - self.lo_a
        ib = np.asarray(cols[1], np.int64) - self.lo_b
        ok = (ia >= 0) & (ia < 1 << self.bits_a) & (ib >= 0) & (ib < 1 << self.bits_b)
        return np.where(ok, ia + (ib << self.bits_a), -1)

    def explain(self, row):
        x, y = row
        return (f"({x}, {y}) outside [{self.lo_a}, {self.lo_a + (1 << self.bits_a) - 1}] × "
                f"[{self.lo_b}, {self.lo_b + (1 << self.bits_b) - 1}]")


def _range_name(bits: int, lo: int) -> str:
    return f"range{bits}" if lo == 0 else f"range{bits}@{lo}"


@cache
def range_pair_table(bits_a: int, lo_a: int, bits_b: int, lo_b: int) -> RangePairTable:
    """The cached pair table [lo_a, lo_a + 2^bits_a) × [lo_b, lo_b + 2^bits_b)."""
    return RangePairTable(int(bits_a), int(lo_a), int(bits_b), int(lo_b))


def _plan(F: Field, lo: int, hi: int, limb_bits: int, widths: Sequence[int] = ()):
    """(B, limb widths, sides): ``widths`` when given (they must add up to B), else
    ``limb_bits``-bit limbs, the top one narrower."""
    if hi < lo:
        raise ValueError(f"empty range [{lo}, {hi}]")
    width = hi - lo + 1
    B = (width - 1).bit_length()
    if B + 2 > F.p.bit_length():
        raise ValueError(f"range [{lo}, {hi}] is too wide for field {F.name}")
    if widths:
        limbs = [int(w) for w in widths]
        if sum(limbs) != B or min(limbs) < 1 or max(limbs) > limb_bits:
            raise ValueError(f"range [{lo}, {hi}]: limb widths {limbs} do not split "
                             f"{B} bits into limbs of at most {limb_bits}")
    else:
        limbs = [limb_bits] * (B // limb_bits) + ([B % limb_bits] if B % limb_bits else [])
    sides = [("lo", 1)] + ([("hi", -1)] if width != 1 << B else [])
    return B, limbs, sides


def _offsets(limbs: Sequence[int]) -> list[int]:
    """Bit offset of every limb: limb j holds bits [offset_j, offset_j + width_j)."""
    out, o = [], 0
    for w in limbs:
        out.append(o)
        o += w
    return out


def _direct(ctx, tensor: str, B: int, limb_bits: int) -> bool:
    return B <= limb_bits and ctx.spec(tensor).kind == "committed"


def _table_for(side: str, lo: int, hi: int, B: int) -> RangeTable:
    return range_table(B, lo if side == "lo" else hi - (1 << B) + 1)


@attrs.frozen
class RangeCheck:
    """One range check: every entry of ``tensor`` lies in [lo, hi]; ``label`` names its
    limbs and transcript entries (unique in the proof)."""

    tensor: str
    lo: int
    hi: int
    label: str
    limb_bits: int = LIMB_BITS
    #: explicit limb widths, low limb first (adding up to the check's B bits, each at
    #: most ``limb_bits``); empty: ``limb_bits``-bit limbs, the top one narrower.  Set by
    #: `_by_cost` (a top limb split in two when its table costs more than the split).
    widths: tuple[int, ...] = ()


def ranges(ctx, checks: Sequence[RangeCheck]) -> None:
    """Prove (prover context) or check (verifier context) several range checks
    together: the limbs of all of them are committed before the first recomposition
    challenge is drawn, so they share one stacked commitment; then one point z serves
    them all (`range_points`).  A value outside its range is a `ProverError` naming the
    tensor, the value and the range."""
    range_points(ctx, range_limbs(ctx, checks))


def range_check(ctx, tensor: str, lo: int, hi: int, *, label: str,
                limb_bits: int = LIMB_BITS) -> None:
    """One range check: every entry of ``tensor`` lies in [lo, hi] (`ranges`)."""
    ranges(ctx, [RangeCheck(tensor, lo, hi, label, limb_bits)])


def _self_check(ctx, rc: RangeCheck) -> None:
    """Prover side: a value outside the range is a clear error before anything is sent."""
    if not (ctx.prover and selfcheck.enabled()):
        return
    x = ctx.value(rc.tensor).reshape(-1)
    if x.numel() and not x.dtype.is_floating_point and x.dtype != torch.bool:
        # one read-only pass when every value is in range (`int_gemm.minmax_i64` on a
        # contiguous int64 value: ~2.5x cheaper than torch.aminmax, s40h4)
        if x.dtype == torch.int64 and x.is_cpu and x.is_contiguous():
            mn, mx = minmax_i64(x.numpy())
        else:
            mn, mx = torch.aminmax(x)
        if rc.lo <= int(mn) and int(mx) <= rc.hi:
            return
    x = x.to(torch.int64)
    bad = torch.nonzero((x < rc.lo) | (x > rc.hi)).reshape(-1)
    if bad.numel():
        i = int(bad[0])
        raise ProverError(f"range check {rc.label!r}: tensor {rc.tensor!r} has value "
                          f"{int(x[i])} at flat index {i}, outside [{rc.lo}, {rc.hi}]")


def _limb(ctx, tensor: str, lo: int, hi: int, side: str, offset: int,
          bits: int) -> torch.Tensor:
    """Bits [offset, offset + bits) of the side's value d (X − lo or hi − X)."""
    x = ctx.value(tensor).to(torch.int64)
    d = (x - lo) if side == "lo" else (hi - x)     # a new tensor: shifted in place
    if offset:
        d >>= offset
    return d.bitwise_and_((1 << bits) - 1)


#: widest range table a check may be looked up in directly when that costs less
#: (`_by_cost`): 2^20 rows
DIRECT_MAX_BITS = 20


def _by_cost(ctx, checks: Sequence[RangeCheck]) -> list[RangeCheck]:
    """``checks`` with the limb width chosen by cost, for a committed X of
    B ∈ (`LIMB_BITS`, max(`DIRECT_MAX_BITS`, its limb_bits)] bits whose limb width is at
    least `LIMB_BITS`: either a direct lookup of X into the range table(s) of 2^B rows
    (no advice; per side one entry per element, and the table's 2^B rows — committed
    multiplicities and the argument's table side — shared by the checks with the same
    [lo, hi]), or `LIMB_BITS`-bit limbs (per side and limb one entry and one committed
    limb per element, into the standard tables every proof has).  Direct wins when the
    N elements of all checks of that interval satisfy N·(2·limbs − 1) > 2^(B+1); the
    rest use `LIMB_BITS`-bit limbs.  Decided from the shapes alone, so both sides agree;
    the interval proven is the same either way (docs/soundness.md §3.1)."""
    group: dict[tuple[int, int, int], int] = {}
    plans = []
    for rc in checks:
        B, _, _ = _plan(ctx.F, rc.lo, rc.hi, LIMB_BITS)
        key = None
        if (rc.limb_bits >= LIMB_BITS and LIMB_BITS < B <= max(DIRECT_MAX_BITS, rc.limb_bits)
                and ctx.spec(rc.tensor).kind == "committed"):
            key = (B, rc.lo, rc.hi)
            group[key] = group.get(key, 0) + ctx.spec(rc.tensor).size
        plans.append((rc, key))
    out = []
    for rc, key in plans:
        if key is not None and not rc.widths:
            B = key[0]
            limbs = -(-B // LIMB_BITS)
            direct = group[key] * (2 * limbs - 1) > 2 << B
            rc = attrs.evolve(rc, limb_bits=B if direct else LIMB_BITS)
        out.append(rc)
    return _split_tops(ctx, out)


#: weight of the padded columns' sum against the lookup trees' leaves in the prove-time
#: width choice (`padded_checks`): a guide through the plateaus of `tree_leaves`
GUIDE = 1.0

#: the commitment phase re-chooses the static checks' widths (`padded_checks`).  On
#: together with four lookup trees (`LOOKUP_TREES` = `logup_gkr.MAX_LOOKUP_TREES` = 4;
#: the rescales' widths stay costed with three, `rescale.PADDED_WIDTH_TREES`): prove CPU
#: 25M x0.893 (x0.992 from the prover cache), 84M x0.978 (x0.943), medians of three
#: interleaved runs (docs/PERFORMANCE.md, thirty-first session; s31h2's pairs agree)
PADDED_CHECKS = True


def padded_checks(ctx, checks: Sequence[RangeCheck], lookups: dict) -> list[RangeCheck]:
    """``checks`` as `_by_cost` lays them out, with the limb widths of every limbed
    check re-chosen by padded cost (`choose_widths`, at least two limbs each) given the
    other lookups of the proof (``lookups``: table name -> (looked-up rows, table
    rows)); a move may not add or drop a table (small graphs keep their widths).  The
    commitment phase calls it when `PADDED_CHECKS` is on; both sides derive the same
    widths from the graph (docs/soundness.md §2.1)."""
    checks = _by_cost(ctx, checks)
    rows = {t: n for t, (n, _) in lookups.items()}
    sizes = {t: z for t, (_, z) in lookups.items()}
    items, where = [], []
    for i, rc in enumerate(checks):
        B, limbs, sides = _plan(ctx.F, rc.lo, rc.hi, rc.limb_bits, rc.widths)
        n = ctx.spec(rc.tensor).size
        if _direct(ctx, rc.tensor, B, rc.limb_bits):
            for side, _ in sides:
                t = _table_for(side, rc.lo, rc.hi, B)
                rows[t.name] = rows.get(t.name, 0) + n
                sizes[t.name] = t.size
        else:
            items.append((n * len(sides), tuple(limbs)))
            where.append(i)
    if not items:
        return checks
    chosen = choose_widths(items, rows, sizes, min_share=0.0, guide=GUIDE, min_limbs=2,
                           same_tables=True)
    out = list(checks)
    for i, (_, old), w in zip(where, items, chosen):
        if w != old:
            out[i] = attrs.evolve(out[i], widths=tuple(w),
                                  limb_bits=max(out[i].limb_bits, max(w)))
    return out


def _split_tops(ctx, checks: Sequence[RangeCheck]) -> list[RangeCheck]:
    """``checks`` with the top limb of width t split into two limbs of ⌈t/2⌉ and ⌊t/2⌋
    bits wherever the range(t) table costs more than the split (issue 13): N_t, the
    entries of all the checks' top limbs of width t (elements × sides), looked up in a
    table of 2^t rows (each row a looked-up leaf and a committed multiplicity) against,
    split, N_t more entries and committed limbs and two tables of 2^⌈t/2⌉ and 2^⌊t/2⌋
    rows: split iff N_t + 2^⌈t/2⌉ + 2^⌊t/2⌋ < 2^t and no other limb or direct check of
    these checks uses range(t) (the table stays then).  (A table that some op also
    looks up in is counted as if only these checks used it; small tables are never
    split since the condition then fails.)  Only checks with ``limb_bits``-wide limbs below the top
    one and no explicit ``widths``.  Decided from the shapes alone, so both sides agree;
    the digits of a mixed radix are as unique as base-2^lb ones (docs/soundness.md
    §2.1), so the interval proven is the same."""
    tops: dict[int, int] = {}
    kept: set[int] = set()        # widths whose table other limbs or checks use anyway
    plans = []
    for rc in checks:
        B, limbs, sides = _plan(ctx.F, rc.lo, rc.hi, rc.limb_bits, rc.widths)
        t = None
        if _direct(ctx, rc.tensor, B, rc.limb_bits):
            if rc.lo == 0 or len(sides) > 1:
                kept.add(B)
        elif not rc.widths and limbs[-1] < rc.limb_bits:
            t = limbs[-1]
            tops[t] = tops.get(t, 0) + ctx.spec(rc.tensor).size * len(sides)
            kept.update(limbs[:-1])
        else:
            kept.update(limbs)
        plans.append((rc, limbs, t))
    out = []
    for rc, limbs, t in plans:
        if t is not None and t not in kept and \
                tops[t] + (1 << -(-t // 2)) + (1 << (t // 2)) < 1 << t:
            rc = attrs.evolve(rc, widths=(*limbs[:-1], -(-t // 2), t // 2))
        out.append(rc)
    return out


#: lookup-side trees of the lookup argument (`logup_gkr.MAX_LOOKUP_TREES`): the tables'
#: padded columns are grouped into at most this many power-of-two trees
LOOKUP_TREES = 4


def padded(n: int) -> int:
    """A table column of n looked-up rows as laid out (`lookup.LookupLayout`): the next
    power of two (0 for no rows)."""
    return 0 if n <= 0 else 1 << (n - 1).bit_length()


def tree_leaves(total: int, most: int = LOOKUP_TREES) -> int:
    """Leaves of the lookup-side trees for padded columns of ``total`` rows together
    (`logup_gkr.lookup_groups`): the first ``most`` − 1 trees take the highest powers of
    two of what is left exactly, the last one the rest padded to a power of two."""
    out, left = 0, int(total)
    for _ in range(most - 1):
        if left <= 0:
            return out
        h = 1 << (left.bit_length() - 1)
        out, left = out + h, left - h
    return out + padded(left)


def lookup_cost(rows: dict[str, int], sizes: dict[str, int]) -> int:
    """The cost rule of `choose_widths` (issue 13) for tables with ``rows[t]`` looked-up
    rows over the whole proof (one shared column each) and ``sizes[t]`` table rows:
    the lookup trees' leaves (`tree_leaves` of the padded columns), the table tree's
    (padded sum of the used tables' rows) and their committed multiplicities (one
    element a table row)."""
    used = [t for t, n in rows.items() if n > 0]
    tab = sum(sizes[t] for t in used)
    return tree_leaves(sum(padded(rows[t]) for t in used)) + padded(tab) + tab


def _partitions(B: int, k: int, most: int) -> list[tuple[int, ...]]:
    """The ways to split B bits into k limbs of 1..``most`` bits, widest first."""
    if k == 1:
        return [(B,)] if 1 <= B <= most else []
    out = []
    for w in range(min(most, B - k + 1), 0, -1):
        if w * k < B:
            break
        out += [(w, *r) for r in _partitions(B - w, k - 1, w)]
    return out


def _options(B: int, widths: tuple[int, ...], min_limbs: int = 1) -> list[tuple[int, ...]]:
    """Limb widths `choose_widths` may give a B-bit box of limbs ``widths``: any split
    into ⌈B/`DIRECT_MAX_BITS`⌉ … min(len(widths), 3) limbs of at most `DIRECT_MAX_BITS`
    bits (widest first), and ``widths`` itself."""
    out = [tuple(widths)]
    for k in range(max(-(-B // DIRECT_MAX_BITS), min_limbs), min(len(widths), 3) + 1):
        out += [w for w in _partitions(B, k, DIRECT_MAX_BITS) if w != tuple(widths)]
    return out


#: weight of one committed limb element against one lookup-tree leaf in `choose_widths`
#: (the commitment and its opening cost about one leaf an element at the 25M shape)
LIMB_WEIGHT = 1

#: a move of `choose_widths` must save at least this many leaves (elements): small
#: graphs keep the range checks' own widths
MIN_GAIN = 1 << 16

#: ... and all the moves together at least this share of the modelled cost, else the
#: widths stay: at the 25M shape the rule's best (−6 % modelled: range10's column
#: halved, range20's doubled) proved slower in the whole-prove A/B (the openings phase,
#: which the model does not see), at 84M (−37 %) and on the tiny step (−15 %) faster
MIN_SHARE = 0.1


def _width_start(items, rows: dict[str, int], sizes: dict[str, int], min_limbs: int):
    """`choose_widths`' starting state: copies of ``rows`` / ``sizes`` with the items'
    limbs added (and every table a width option of theirs could use, empty), the items'
    widths, the used tables, their padded column total S and their table rows."""
    rows = dict(rows)
    sizes = dict(sizes)
    cur = [tuple(int(x) for x in w) for _, w in items]
    for (n, w) in zip((n for n, _ in items), cur):
        for x in w:
            rows[f"range{x}"] = rows.get(f"range{x}", 0) + n
            sizes[f"range{x}"] = 1 << x
    for B in {sum(w) for w in cur}:
        for w in _options(B, max((c for c in cur if sum(c) == B), key=len), min_limbs):
            for x in w:
                sizes.setdefault(f"range{x}", 1 << x)
                rows.setdefault(f"range{x}", 0)
    used = {t for t, n in rows.items() if n > 0}
    S = sum(padded(rows[t]) for t in used)
    tab = sum(sizes[t] for t in used)
    return rows, sizes, cur, used, S, tab


def _width_result(items, cur: list, end: int, start: int, min_share: float) -> list:
    """`choose_widths`' answer: the searched widths ``cur`` when their cost ``end`` saves
    at least ``min_share`` of the starting cost ``start``, else the items' own widths."""
    if end >= start or start - end < min_share * start:
        return [tuple(int(x) for x in w) for _, w in items]
    return cur


def choose_widths(items: Sequence[tuple[int, tuple[int, ...]]], rows: dict[str, int],
                  sizes: dict[str, int], steps: int = 64, min_gain: int = MIN_GAIN,
                  min_share: float = MIN_SHARE, most: int = LOOKUP_TREES,
                  guide: float = 0.0, min_limbs: int = 1,
                  same_tables: bool = False) -> list[tuple[int, ...]]:
    """Limb widths for boxes of limbs (issue 13): ``items`` are (entries, widths) —
    entries = elements × sides, each limb j one entry looked up in range(w_j) and one
    committed element — and ``rows`` / ``sizes`` the other looked-up rows and the table
    rows of every table of the proof.  All uses of a table share its column, padded to
    a power of two, so a width pays only by the padded columns it empties or fills:
    the rule charges `lookup_cost` of the column totals plus `LIMB_WEIGHT` a committed
    limb element.  Local search from the given widths: a move gives the k largest (or
    smallest) items of one class (same widths) other widths (`_options`, same B); the
    best move that saves at least ``min_gain`` is made until none is left (at most
    ``steps``); the result is kept only when it saves at least ``min_share`` of the
    starting cost (else the given widths).
    Deterministic (shapes only), so prover and verifier agree; any widths of at most
    `DIRECT_MAX_BITS` bits adding up to B prove the same box (docs/soundness.md §2.1)."""
    rows, sizes, cur, used, S, tab = _width_start(items, rows, sizes, min_limbs)

    def total(S: int, tab: int) -> int:
        return tree_leaves(S, most) + padded(tab) + tab + int(guide * S)

    base, extra = total(S, tab), 0     # extra: the committed limbs' change so far
    limbs0 = LIMB_WEIGHT * sum(n * len(w) for (n, _), w in zip(items, cur))
    start = tree_leaves(S, most) + padded(tab) + tab + limbs0
    # per class w: its other options o with, per table, the net count of limbs moved
    # there (−1 a limb of w, +1 a limb of o); a move of n entries changes rows by n × it
    moves: dict[tuple[int, ...], list] = {}
    ns = [int(n) for n, _ in items]
    # a class's candidate selections depend on its members only: kept while it keeps
    # them; of selections with the same entry count n only the first is tried (every
    # move then costs the same, and only a strictly cheaper one replaces the best)
    picked: dict[tuple[int, ...], list] = {}
    costs: dict[tuple[int, int], int] = {}   # total(S, tab), memoised (pure)
    for _ in range(steps):
        classes: dict[tuple[int, ...], list[int]] = {}
        for i, w in enumerate(cur):
            classes.setdefault(w, []).append(i)
        best = None
        for w, members in classes.items():
            if w not in moves:
                mv = []
                for o in _options(sum(w), w, min_limbs):
                    if o == w:
                        continue
                    coef: dict[str, int] = {}
                    for x in w:
                        coef[f"range{x}"] = coef.get(f"range{x}", 0) - 1
                    for x in o:
                        coef[f"range{x}"] = coef.get(f"range{x}", 0) + 1
                    mv.append((o, tuple(coef.items()), LIMB_WEIGHT * (len(o) - len(w))))
                moves[w] = mv
            mv = moves[w]
            key = tuple(members)
            picks = picked.get(key)
            if picks is None:
                desc = sorted(members, key=lambda i: (-ns[i], i))
                pre = [0]
                for i in desc:
                    pre.append(pre[-1] + ns[i])
                tot = pre[-1]
                cand = []
                k = 1
                while k < len(desc):
                    cand += [(desc[:k], pre[k]), (desc[-k:], tot - pre[len(desc) - k])]
                    k *= 2
                cand.append((desc, tot))
                seen: set[int] = set()
                picks = []
                for sel, n in cand:
                    if n not in seen:
                        seen.add(n)
                        picks.append((sel, n))
                picked[key] = picks
            for sel, n in picks:
                for o, coef, lw in mv:
                    S2, tab2 = S, tab
                    for t, c in coef:
                        a = rows[t]
                        b = a + c * n
                        S2 += ((0 if b <= 0 else 1 << (b - 1).bit_length())
                               - (0 if a <= 0 else 1 << (a - 1).bit_length()))
                        tab2 += sizes[t] * ((b > 0) - (a > 0))
                    if same_tables and tab2 != tab:
                        continue
                    dk = lw * n
                    tk = costs.get((S2, tab2))
                    if tk is None:
                        tk = costs[(S2, tab2)] = total(S2, tab2)
                    c = tk + extra + dk
                    if c <= base - min_gain and (best is None or c < best[0]):
                        best = (c, sel, o, coef, n, S2, tab2, dk)
        if best is None:
            break
        base, sel, o, coef, n, S, tab, dk = best
        extra += dk
        for t, c in coef:
            rows[t] += c * n
        for i in sel:
            cur[i] = o
    return _width_result(items, cur, tree_leaves(S, most) + padded(tab) + tab + limbs0 + extra,
                         start, min_share)


class _ReadOnce:
    """``ctx`` as one range check's `_self_check` and `_limb` see it: ``value(tensor)``
    read on the first call and kept for the next ones (they do not modify it); other
    names and ``prover`` from ``ctx``."""

    __slots__ = ("ctx", "tensor", "x")

    def __init__(self, ctx, tensor: str) -> None:
        self.ctx, self.tensor, self.x = ctx, tensor, None

    @property
    def prover(self) -> bool:
        return self.ctx.prover

    def value(self, name: str) -> torch.Tensor:
        if name != self.tensor:
            return self.ctx.value(name)
        if self.x is None:
            self.x = self.ctx.value(name)
        return self.x


def range_limbs(ctx, checks: Sequence[RangeCheck]) -> list:
    """First half of `ranges`: commit the limbs (deferred into the pending stack: a
    caller may commit them together with other tensors) and request the lookups;
    returns what `range_points` needs.  Draws no challenge."""
    pending = []
    for rc in _by_cost(ctx, checks):
        lo, hi, label, limb_bits, tensor = rc.lo, rc.hi, rc.label, rc.limb_bits, rc.tensor
        B, limbs, sides = _plan(ctx.F, lo, hi, limb_bits, rc.widths)
        once = _ReadOnce(ctx, tensor)   # the check and every limb: one read of X
        _self_check(once, rc)
        shape = ctx.spec(tensor).shape
        limb_names = []
        for side, _ in sides:
            if _direct(ctx, tensor, B, limb_bits):
                ctx.require_lookup(_table_for(side, lo, hi, B), [tensor], f"{label}/{side}")
                continue
            names = []
            for j, (bits, off) in enumerate(zip(limbs, _offsets(limbs))):
                name = f"{label}/{side}/limb{j}"
                ctx.advice(name, shape, (0, (1 << bits) - 1),
                           partial(_limb, once, tensor, lo, hi, side, off, bits))
                ctx.require_lookup(range_table(bits), [name], f"{label}/{side}/limb{j}")
                names.append(name)
            limb_names.append((side, names))
        if limb_names:
            pending.append((rc, limb_names))
    return pending


def range_points(ctx, pending: list) -> None:
    """Second half of `ranges`: one random point z for all the checks (a check on a
    tensor of n variables uses its first n coordinates), the values of every X and limb
    at it (claims; one message for all, each tensor once), and per check and side the
    recomposition X̃(z) − lo = Σ_j 2^(limb_bits·j)·L̃_j(z) (resp. hi − X̃(z) = …).

    One point serves every check: all limbs (and X, committed or determined by
    committed tensors) are fixed before z is drawn, and each recomposition is an
    identity of multilinear polynomials, so a false one survives a random z with
    probability ≤ n/|E| (union bound over the checks).  The verifier checks all sides
    at once, one vectorised sum per limb index."""
    E = ctx.E
    if not pending:
        return
    nmax = max(ctx.spec(rc.tensor).num_vars for rc, _ in pending)
    z = ctx.challenges(f"{pending[0][0].label}/range/z", nmax)
    names: list[str] = []
    index: dict[str, int] = {}
    for rc, limb_names in pending:
        for n in [rc.tensor] + [n for _, ns in limb_names for n in ns]:
            if n not in index:
                index[n] = len(names)
                names.append(n)
    nv = [ctx.spec(n).num_vars for n in names]
    # zero knowledge (docs/zero-knowledge.md §5.1): the value of every tensor that may
    # carry blinds (`ctx.hide`) is sent as T̃(z) + ν (a fresh committed blind), its claim
    # blinded, and the recomposition becomes a claim on those ν's (below)
    nus = _blinds_for(ctx, names, {n for _, ls in pending for _, ns in ls for n in ns})
    label = pending[0][0].label

    def compute():
        from .claims import blind_value

        return np.stack([ctx.evaluate(n, z[:k]) if n not in nus else
                         E.add(ctx.evaluate(n, z[:k]), blind_value(ctx, (nus[n],)))
                         for n, k in zip(names, nv)])

    vals = ctx.exchange(f"{label}/range/values", len(names), compute)
    for n, k, v in zip(names, nv, vals):
        ctx.claim(n, z[:k], v, (nus[n],) if n in nus else ())
    # residual of side t: Σ_j 2^(o_j)·L_j − s·X + s·c (o_j limb j's bit offset; s = 1,
    # c = lo for "lo"; s = −1, c = hi for "hi"), zero for every side
    sides = [(rc, side, ns) for rc, limb_names in pending for side, ns in limb_names]
    offs = [_offsets(_plan(ctx.F, rc.lo, rc.hi, rc.limb_bits, rc.widths)[1])
            for rc, _, _ in sides]
    width = max(len(ns) for _, _, ns in sides)
    xi = np.array([index[rc.tensor] for rc, _, _ in sides])
    sgn = np.array([1 if side == "lo" else -1 for _, side, _ in sides], np.int64)
    const = [rc.lo if side == "lo" else -rc.hi for rc, side, _ in sides]
    res = E.sub(E.from_ints(np.array(const, dtype=object)),
                E.mul(vals[xi], E.from_ints(sgn)))
    for j in range(width):
        has = [k for k, (_, _, ns) in enumerate(sides) if j < len(ns)]
        li = np.array([index[sides[k][2][j]] for k in has])
        coef = E.from_ints(np.array([1 << offs[k][j] for k in has], dtype=object))
        res[np.array(has)] = E.add(res[np.array(has)], E.mul(vals[li], coef))
    zero = E.scalar(0)
    masked = [k for k, (rc, _, ns) in enumerate(sides)
              if rc.tensor in nus or any(n in nus for n in ns)]
    if masked:
        _masked_residuals(ctx, label, sides, offs, res, masked, nus)
    skip = set(masked)
    bad = next((k for k in range(len(sides)) if k not in skip
                and not E.equal(res[k], zero)), None)
    rc, side = (sides[bad][0], sides[bad][1]) if bad is not None else (pending[0][0], "")
    ctx.check(bad is None, f"range check {rc.label!r}: limbs of {rc.tensor!r} do not "
              f"recompose ({side} side)")


def _blinds_for(ctx, names: Sequence[str], limbs=frozenset()) -> dict:
    """Zero knowledge: a fresh ν (`zk.fresh_nu`) for every tensor of ``names`` that may
    carry blinds (`ctx.hide`), as long as the context's first mask group has room for
    them (`zk.room`: a blind must come from that group, in the witness's stack; the
    count is the same on both sides).  {} outside a session.

    ``limbs``: the checks' limbs (advice no op produces).  A limb committed in a stack
    of its own (a mid-proof check, `ctx.range`: its limbs are committed before z, after
    the witness's stack) may carry a ν of the first group too when the opening takes
    masks across stacks (`Committer.blinds_across`: the masked reduction carries them,
    docs/zero-knowledge.md §5.1 "Late stacks"); from the commitments alone, so both
    sides agree."""
    from . import zk as zklib

    if ctx.zk is None or not ctx.hide:
        return {}
    where = ctx.committer.where
    across = bool(limbs) and ctx.committer.blinds_across(ctx)
    hid = [n for n in names if n in ctx.hide or (across and n in limbs and n in where)]
    per = (1 << (zklib.slot_vars(ctx.E.degree) - 1)) // ctx.E.degree
    if not hid or not zklib.room(ctx, -(-len(hid) // per) + 1):
        return {}
    return {n: zklib.fresh_nu(ctx) for n in hid}


def _masked_residuals(ctx, label: str, sides, offs, res, masked, nus) -> None:
    """The recompositions of the sides whose values were sent masked (``masked``): the
    residual of side k computed from the sent values is Σ (its coefficients)·ν, so with
    λ drawn after every value and ν is fixed, Σ_k λ^k·res_k = Σ_k λ^k·Σ coef·ν — one
    claim on the committed ν's (`zk.mask_claim`), discharged by the opening.  A false
    recomposition survives it with probability ≤ (sides)/|E|, then the opening's."""
    from . import zk as zklib
    from .claims import Blind

    E = ctx.E
    lam = ctx.challenge(f"{label}/range/lambda")
    pw = E.powers(lam, len(masked))
    # every ν's coefficient: Σ over the sides that use it of λ^k·(±1 or 2^offset)
    order: list[str] = []
    seen: dict[str, list] = {}   # name -> [(power index, integer)]
    for i, k in enumerate(masked):
        rc, side, ns = sides[k]
        if rc.tensor in nus:
            seen.setdefault(rc.tensor, []).append((i, -1 if side == "lo" else 1))
        for j, n in enumerate(ns):
            if n in nus:
                seen.setdefault(n, []).append((i, 1 << offs[k][j]))
    order = list(seen)
    total = E.dot(pw, np.stack([np.asarray(res[k]) for k in masked])) if masked \
        else E.scalar(0)
    flat = [(i, c) for n in order for i, c in seen[n]]
    if E.elem_shape and flat and all(-(1 << 62) < c < 1 << 62 for _, c in flat):
        # one vector product for the λ^k·c, the sums per ν in Python, one for ×coefficient
        prods = E.mul(np.ascontiguousarray(np.asarray(pw)[[i for i, _ in flat]]),
                      E.from_ints(np.array([c for _, c in flat], np.int64)))
        sums, at = [], 0
        for n in order:
            a = prods[at]
            for x in range(1, len(seen[n])):
                a = E.add(a, prods[at + x])
            at += len(seen[n])
            sums.append(a)
        cfs = E.mul(np.stack(sums), np.stack([np.asarray(nus[n].coefficient) for n in order]))
        terms = [Blind.owned(nus[n].tensor, nus[n].point, cf) for n, cf in zip(order, cfs)]
    else:
        terms = []
        for n in order:
            a = E.scalar(0)
            for i, c in seen[n]:
                a = E.add(a, E.mul(pw[i], E.scalar(c)))
            terms.append(Blind(nus[n].tensor, nus[n].point, E.mul(a, nus[n].coefficient)))
    zklib.mask_claim(ctx, terms, total)


#: pair the static one-column range lookups into two-column range tables where that
#: empties padded columns (`pair_lookups`; `graph._schedule` calls it on both sides).
#: Off: the thirty-second session's interleaved A/B found no prove-CPU gain (25M leaves
#: −5.8 %, but 25M ×1.05 / ×1.0x, 84M ×1.02, from the prover cache ×0.98: inside the
#: noise; docs/perf/session32.md).  Switching it on changes the proofs.
PAIR_LOOKUPS = False

#: widest pair table `pair_lookups` makes: both columns' bits together (2^12 rows)
PAIR_MAX_BITS = 12

#: a pairing move must save at least this many modelled leaves: small graphs keep their
#: lookups as they are
PAIR_MIN_GAIN = 1 << 16

#: weight of the padded columns' sum in `pair_lookups`' cost (as `GUIDE` for the widths):
#: a guide through the plateaus of `tree_leaves`, so that moves that each leave the
#: trees as they are can add up to a smaller tree (25M: leaves 62.9M → 59.2M with it,
#: 60.8M without; 84M the same 38.1M either way)
PAIR_GUIDE = 1.0


def pair_lookups(requests: Sequence, size_of, most: int = LOOKUP_TREES,
                 max_bits: int | None = None, min_gain: int | None = None) -> list:
    """``requests`` (`lookup.LookupRequest`s, the graph's static lookups) with some pairs
    of one-column range lookups (`RangeTable`, any offset, of the same column size)
    merged into one two-column lookup into their `RangePairTable` (issue 13): a pair
    row costs one looked-up leaf instead of two.  Every use of a table shares its
    column, padded to a power of two (`padded`), so a pairing pays only where it
    empties padded rows; the rule charges `lookup_cost` of the column totals (the
    lookup trees' leaves, the table tree and its multiplicities).  Greedy: the move
    (two tables of at most ``max_bits`` bits together, one column size, the first k
    requests of each, k a power of two or all that can pair) that lowers the cost (plus
    `PAIR_GUIDE` × the padded columns' sum) most, by at least ``min_gain``, until none
    is left (defaults `PAIR_MAX_BITS`, `PAIR_MIN_GAIN`).  ``size_of(name)``: a column's
    elements.  Decided from the requests' tables and sizes alone, so prover and
    verifier pair the same; a pair row proves both ranges (docs/soundness.md §2.2,
    "Pair range tables")."""
    from .lookup import LookupRequest

    max_bits = PAIR_MAX_BITS if max_bits is None else max_bits
    min_gain = PAIR_MIN_GAIN if min_gain is None else min_gain

    reqs = list(requests)
    rows: dict[str, int] = {}
    tsize: dict[str, int] = {}
    pool: dict[tuple[int, str], list[int]] = {}
    tables: dict[str, RangeTable] = {}
    for i, r in enumerate(reqs):
        n = size_of(r.columns[0])
        rows[r.table.name] = rows.get(r.table.name, 0) + n
        tsize[r.table.name] = r.table.size
        if isinstance(r.table, RangeTable) and 1 <= r.table.num_vars < max_bits:
            pool.setdefault((n, r.table.name), []).append(i)
            tables[r.table.name] = r.table
    S = sum(padded(v) for v in rows.values())
    tab = sum(tsize.values())

    def cost(S: int, tab: int) -> int:
        return tree_leaves(S, most) + padded(tab) + tab + int(PAIR_GUIDE * S)

    def key(t: RangeTable) -> tuple[int, int]:
        return (t.num_vars, t.lo)

    base = cost(S, tab)
    pairs: list[tuple[int, int, RangePairTable]] = []
    for _ in range(64):
        best = None
        for s in sorted({n for n, _ in pool}):
            names = sorted((t for (n, t), ix in pool.items() if n == s and ix),
                           key=lambda t: key(tables[t]))
            for ia, ta in enumerate(names):
                for tb in names[ia:]:
                    A, B = tables[ta], tables[tb]
                    if A.num_vars + B.num_vars > max_bits:
                        continue
                    ca, cb = len(pool[(s, ta)]), len(pool[(s, tb)])
                    top = ca // 2 if ta == tb else min(ca, cb)
                    ks = sorted({1 << e for e in range(top.bit_length()) if 1 << e < top}
                                | ({top} if top else set()))
                    pt = range_pair_table(A.num_vars, A.lo, B.num_vars, B.lo)
                    for k in ks:
                        m = k * s
                        delta = {ta: -m}
                        delta[tb] = delta.get(tb, 0) - m
                        delta[pt.name] = m
                        S2, tab2 = S, tab
                        for t, d in delta.items():
                            a = rows.get(t, 0)
                            S2 += padded(a + d) - padded(a)
                            z = tsize.get(t, pt.size if t == pt.name else 0)
                            tab2 += z * ((a + d > 0) - (a > 0))
                        c = cost(S2, tab2)
                        if c <= base - min_gain and (best is None or c < best[0]):
                            best = (c, s, ta, tb, k, pt, delta, S2, tab2)
        if best is None:
            break
        base, s, ta, tb, k, pt, delta, S, tab = best
        for t, d in delta.items():
            rows[t] = rows.get(t, 0) + d
        tsize[pt.name] = pt.size
        if ta == tb:
            take = pool[(s, ta)][:2 * k]
            pool[(s, ta)] = pool[(s, ta)][2 * k:]
            pairs += [(take[2 * j], take[2 * j + 1], pt) for j in range(k)]
        else:
            xa, xb = pool[(s, ta)][:k], pool[(s, tb)][:k]
            pool[(s, ta)], pool[(s, tb)] = pool[(s, ta)][k:], pool[(s, tb)][k:]
            pairs += [(i, j, pt) for i, j in zip(xa, xb)]
    if not pairs:
        return reqs
    first = {min(i, j): (i, j, pt) for i, j, pt in pairs}
    gone = {max(i, j) for i, j, _ in pairs}
    out = []
    for i, r in enumerate(reqs):
        if i in gone:
            continue
        if i in first:
            a, b, pt = first[i]
            ra, rb = reqs[a], reqs[b]
            if key(ra.table) > key(rb.table):
                ra, rb = rb, ra
            out.append(LookupRequest(pt, (ra.columns[0], rb.columns[0]),
                                     f"{ra.label}&{rb.label}"))
        else:
            out.append(r)
    return out


# transitional names for ops still written as a prove/verify pair (issue 10 migration)
prove_range = verify_range = range_check
