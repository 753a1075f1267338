"""s35h5: `range.choose_widths`' search (selections of a class cached while its members
stay, one selection per entry count, the cost memoised) gives exactly the widths of
the search as it was (the twin below, 060a98f's code), on inputs shaped like the 25M /
84M steps' rescale and padded-check calls, and on small random ones."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from zklora.zkcore import range as rangelib
from zklora.zkcore.range import (
    LIMB_WEIGHT,
    LOOKUP_TREES,
    MIN_GAIN,
    MIN_SHARE,
    _options,
    _width_result,
    _width_start,
    padded,
    tree_leaves,
)


def _twin(items: Sequence[tuple[int, tuple[int, ...]]], rows: dict[str, int],
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
            desc = sorted(members, key=lambda i: (-ns[i], i))
            pre = [0]
            for i in desc:
                pre.append(pre[-1] + ns[i])
            tot = pre[-1]
            picks = []
            k = 1
            while k < len(desc):
                picks += [(desc[:k], pre[k]), (desc[-k:], tot - pre[len(desc) - k])]
                k *= 2
            picks.append((desc, tot))
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
                    c = total(S2, tab2) + extra + dk
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



def _inputs(seed: int, big: bool):
    """(items, rows, sizes) like a step's: 16-bit limbs and a narrower top, entry counts
    of a few powers of two, the range tables and some other tables already looked up."""
    rng = random.Random(seed)
    counts = [64, 256, 512, 2048, 32768, 65536, 262144] if big else [1, 2, 3, 5, 8, 64]
    items = []
    for _ in range(rng.randrange(20, 400) if big else rng.randrange(1, 30)):
        k = rng.choice([1, 1, 1, 2, 3]) if big else rng.choice([0, 1, 2])
        top = rng.randrange(1, 17)
        w = (16,) * k + (top,) if k else (top,)
        items.append((rng.choice(counts) * rng.choice([1, 1, 2]), w))
    rows, sizes = {}, {}
    for b in rng.sample(range(1, 21), rng.randrange(3, 12)):
        rows[f"range{b}"] = rng.randrange(0, 1 << 22 if big else 600)
        sizes[f"range{b}"] = 1 << b
    for j in range(rng.randrange(0, 4)):
        rows[f"t{j}"] = rng.randrange(1, 1 << 20 if big else 300)
        sizes[f"t{j}"] = 1 << rng.randrange(5, 17)
    return items, rows, sizes


_KW = [
    {},
    {"most": 3},
    {"min_share": 0.0, "guide": 1.0, "min_limbs": 2, "same_tables": True},
    {"min_share": 0.0, "min_gain": 1, "guide": 0.5},
    {"min_share": 0.0, "min_gain": 0, "same_tables": True, "steps": 8},
]


@pytest.mark.parametrize("big", [True, False])
@pytest.mark.parametrize("kw", range(len(_KW)))
def test_same_widths_as_twin(big, kw):
    moved = 0
    for seed in range(6 if big else 60):
        items, rows, sizes = _inputs(1000 * kw + seed, big)
        r0, s0 = dict(rows), dict(sizes)
        want = _twin(items, rows, sizes, **_KW[kw])
        got = rangelib.choose_widths(items, rows, sizes, **_KW[kw])
        assert got == want, (seed, kw)
        assert rows == r0 and sizes == s0   # the caller's dicts untouched
        moved += sum(g != tuple(w) for g, (_, w) in zip(got, items))
    if big or _KW[kw].get("min_gain") is not None:
        assert moved   # the search did move widths (not only the starting ones)


def test_equal_counts_ties():
    """Classes of equal entry counts (many selections of one n) and ties between
    moves: the first cheapest move wins in both."""
    for seed in range(40):
        rng = random.Random(seed)
        n = rng.choice([64, 2048, 32768])
        items = [(n, (16, rng.choice([4, 8, 10, 12]))) for _ in range(rng.randrange(2, 70))]
        rows = {"range16": rng.randrange(1 << 20), "range10": rng.randrange(1 << 18),
                "range20": rng.randrange(1 << 21)}
        sizes = {"range16": 1 << 16, "range10": 1 << 10, "range20": 1 << 20}
        for kw in _KW:
            assert rangelib.choose_widths(items, rows, sizes, **kw) == \
                _twin(items, rows, sizes, **kw)
