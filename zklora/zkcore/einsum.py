"""Einsum relations (DESIGN §3.8): Y = c · einsum(spec, X1, …, Xk), proven for a claim
on Y — matmul (plain, transposed, batched, grouped-query), Hadamard and broadcast
products, row sums, transposes and reshapes are all this one relation.

``spec`` is an einsum string, ``"mk,kn->mn"``: one letter per axis of each operand's
row-major view (a view may split or merge axes — reshapes are free, §3.2 — so a grouped
batch is two letters ``"wg"``), every letter of a power-of-two size.  Each operand is a
tensor of the graph or a `Public` factor the verifier evaluates itself.  For a claim
Ỹ(r) = v (r over the output letters' coordinates), with eq(r, y) = Π_ℓ eq(r_ℓ, y_ℓ),

    v = Σ_y eq(r, y)·Y[y] = c · Σ_{all letters} Π_{ℓ ∈ out} eq(r_ℓ, ℓ) · Π_k X_k[letters_k],

and every letter is handled by how many operands it occurs in:

* an output letter in **no** operand (Y broadcast along it): dropped (Σ eq(r_ℓ, ·) = 1);
* an output letter in **one** operand: that operand is folded at r_ℓ (partial MLE);
* a contracted letter in **one** operand (a row sum): that operand is folded at ½ and
  the coefficient gains 2^bits(ℓ) (Σ_x f(x) = 2^b·f̃(½, …, ½));
* a letter in **two or more** operands: a sumcheck variable — an output letter with an
  eq(r_ℓ, ·) factor (degree + 1), a contracted one without.

One sumcheck over the shared letters' bits (the contracted ones own the low
coordinates) then proves v = c·2^B·Σ_s [eq(r_F, s_F)]·Π_k F_k(s) for the folded
operands F_k; its final values are the claims on the operands, at points that put the
sumcheck point, r and ½ back on each operand's letters.  eq and public factors are
evaluated by the verifier (no claim, nothing sent).  Without shared letters and with
one operand (a transpose, a reshape, a row sum, a broadcast) there is no sumcheck and
no message: X̃(point) = v / (c·2^B) is derived.

The relation holds in the field: that it is the integer einsum is the op's bound
argument (every entry of Y below p/2 in absolute value).  Soundness: a false claim
survives the sumcheck with probability ≤ n·deg/|E| (Schwartz–Zippel per round) or
leaves a false claim on an operand, which its opening or producer rejects.

The code runs unchanged on both sides (`ctx.run_sumcheck`, `ctx.claim`); the prover's
tables are built only inside the closure it calls.  Labels derive from the node's name
and the relation's kind (`ctx.label`: ``{node}/einsum``, ``{node}/einsum#2``, …).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import attrs
import numpy as np

from . import mle, sumcheck
from . import zk as zklib
from .claims import Claim, scale_blind
from .relations import error, half_point


@attrs.frozen
class Public:
    """An operand the verifier evaluates itself: ``table()`` (prover only) gives its flat
    challenge-field table, row-major over its letters; ``evaluate(point)`` its MLE at a
    point over its letters' coordinates (verifier; the prover does not call it)."""

    table: Callable[[], np.ndarray]
    evaluate: Callable[[np.ndarray], np.ndarray]


Operand = str | Public


# -- letters and points -----------------------------------------------------------------


def parse(spec: str) -> tuple[list[str], str]:
    """The operand letter strings and the output letters of ``"ab,bc->ac"``; ValueError
    for a malformed spec (no arrow, a non-letter, a letter twice in one term)."""
    lhs, arrow, out = spec.replace(" ", "").partition("->")
    if not arrow:
        raise ValueError(f"einsum spec {spec!r} needs '->'")
    ins = lhs.split(",") if lhs else []
    for t in [*ins, out]:
        if not all(c.isascii() and c.isalpha() for c in t) or len(set(t)) != len(t):
            raise ValueError(f"einsum spec {spec!r}: term {t!r} must be distinct letters")
    return ins, out


def coords(letters: str, bits: Mapping[str, int]) -> dict[str, list[int]]:
    """The point coordinates each letter owns in a tensor laid out row-major over
    ``letters`` (the last letter owns the lowest, §3.2)."""
    out, pos = {}, 0
    for ch in reversed(letters):
        out[ch] = list(range(pos, pos + bits[ch]))
        pos += bits[ch]
    return out


def split(point: np.ndarray, letters: str, bits: Mapping[str, int]) -> dict[str, np.ndarray]:
    """A point over ``letters`` as one sub-point per letter."""
    return {ch: point[c] for ch, c in coords(letters, bits).items()}


def join(E, letters: str, per_letter: Mapping[str, np.ndarray]) -> np.ndarray:
    """The point over ``letters`` made of the per-letter sub-points."""
    parts = [per_letter[ch] for ch in reversed(letters)]
    return np.concatenate(parts, axis=0) if parts else E.zeros(0)


def broadcast(in_shapes: Sequence[Sequence[int]], out_shape: Sequence[int]
              ) -> tuple[list[str], str, dict[str, int]]:
    """numpy broadcasting as einsum letters: (operand letters, output letters, sizes).
    Inputs align with the output from the right; an input axis of size 1 where the
    output's is larger has no letter (the input is broadcast along it).  ValueError if
    a shape does not broadcast to ``out_shape``."""
    out_shape = tuple(int(d) for d in out_shape)
    n = len(out_shape)
    letters = "".join(chr(ord("a") + i) if i < 26 else chr(ord("A") + i - 26)
                      for i in range(n))
    if n > 52:
        raise ValueError(f"output shape {out_shape} has more than 52 axes")
    ins = []
    for shape in in_shapes:
        shape = tuple(int(d) for d in shape)
        if len(shape) > n:
            raise ValueError(f"shape {shape} has more axes than the output {out_shape}")
        a = (1,) * (n - len(shape)) + shape
        term = ""
        for ax, (di, do) in enumerate(zip(a, out_shape)):
            if di == do:
                term += letters[ax]
            elif di != 1:
                raise ValueError(f"shape {shape} does not broadcast to {out_shape} (axis "
                                 f"{ax}: {di} vs {do})")
        ins.append(term)
    return ins, letters, dict(zip(letters, out_shape))


def sub_point(point: np.ndarray, out: str, term: str, sizes: Mapping[str, int]) -> np.ndarray:
    """The point on a tensor with letters ``term`` (a subset of ``out``) that a point on
    the output gives: its own letters' coordinates (the broadcast MLE identity §3.2)."""
    bits = {ch: mle.log2_exact(int(sizes[ch])) for ch in out}
    oc = coords(out, bits)
    idx = [c for ch in reversed(term) for c in oc[ch]]
    return point[idx]


# -- the relation ----------------------------------------------------------------------------


def letter_sizes(terms: Sequence[tuple[str, Sequence[int]]],
                 sizes: Mapping[str, int] | None = None) -> dict[str, int]:
    """Every letter's size for tensors of the given shapes viewed as the given letter
    strings: ``sizes`` first, then, for a term with a letter still open, its tensor's
    axes one by one (the letters must match its axes).  ValueError if a letter stays
    open or is not a power of two, or a view's sizes do not multiply to its tensor's."""
    sz = {str(k): int(v) for k, v in (sizes or {}).items()}
    for term, shape in terms:
        if any(ch not in sz for ch in term) and len(shape) == len(term):
            for ch, d in zip(term, shape):
                if sz.setdefault(ch, int(d)) != int(d):
                    raise ValueError(f"letter {ch!r} is {sz[ch]} and {d}")
    for term, shape in terms:
        for ch in term:
            if ch not in sz:
                raise ValueError(f"letter {ch!r} has no size")
            mle.log2_exact(sz[ch])
        if np.prod([sz[ch] for ch in term], dtype=np.int64) != \
                np.prod(shape, dtype=np.int64):
            raise ValueError(f"shape {tuple(shape)} is not a view {term!r} of sizes "
                             f"{ {ch: sz[ch] for ch in term} }")
    return sz


#: `_fold` of a base table whose letters must be reordered transposes this many bytes
#: of it at a time (blocks along its first axis), not the whole table (the tied 49152 ×
#: 576 embedding at the LM head's backward: a 512 MiB copy)
FOLD_BLOCK_BYTES = 32 << 20


#: `_vecmat_blocked` of a table laid out (P, folded, S) with S > 1 splits it into its P
#: planes (one `vecmat` each) when P is at most this and a plane holds at least
#: `SPLIT_MIN` entries (shorter planes cost more in calls than the copy), else copies it
#: transposed
SPLIT_ROWS = 256
SPLIT_MIN = 1 << 14
#: ... and one laid out (P, folded) is `matvec`'d when at least this many entries are
#: folded a row (shorter rows: the copy and `vecmat` are faster)
MATVEC_MIN = 16
#: ... for tables of at least this many entries (smaller ones: the copy, no planning)
COPY_FREE_MIN = 1 << 12


def _fold_runs(shape, fold_axes) -> tuple[int, int, int] | None:
    """(P, Q, S) when the axes ``fold_axes`` of a C-ordered table of ``shape`` (in order)
    form one run of consecutive axes once the axes of length 1 are left out: the table
    is then (P, Q, S) with the folded axes' entries Q in the middle (row-major over them
    in their order), without a copy; else None."""
    keep = [i for i, d in enumerate(shape) if d != 1]
    folded = [i for i in keep if i in set(fold_axes)]
    if [i for i in fold_axes if shape[i] != 1] != folded:
        return None      # the folded axes out of order: a transposed copy reorders them
    if not folded:
        return None
    pos = [keep.index(i) for i in folded]
    if pos != list(range(pos[0], pos[0] + len(pos))):
        return None
    dims = [shape[i] for i in keep]
    P = int(np.prod(dims[:pos[0]], dtype=np.int64))
    Q = int(np.prod(dims[pos[0]:pos[-1] + 1], dtype=np.int64))
    S = int(np.prod(dims[pos[-1] + 1:], dtype=np.int64))
    return P, Q, S


def _vecmat_blocked(E, eq, t: np.ndarray, perm: list[int], first_folded: bool,
                    nfold: int | None = None):
    """eqᵀ · M for M = ``t`` (a base table shaped by its letters) transposed by ``perm``
    (fold letters first, then the rest; both in ``t``'s order) and flattened to (fold
    rows × rest columns), computed over blocks of ``t``'s first axis: each block's rows
    of M (its first letter folded: ``first_folded``, partial sums added) or columns (it
    is a rest letter: a contiguous run of the result).  The same field elements as one
    `vecmat` of the whole M.  With ``nfold`` (the fold letters' count: ``perm[:nfold]``)
    and the folded axes one run of ``t``'s axes (`_fold_runs`), no copy at all: `vecmat`
    (nothing before them), `matvec` (nothing after them) or a `vecmat` per plane."""
    d0 = t.shape[0]
    if nfold is not None and t.size >= COPY_FREE_MIN:
        runs = _fold_runs(t.shape, perm[:nfold])
        if runs is not None:   # rest · fold · rest: no transposed copy
            P, Q, S = runs
            if P == 1:
                return E.vecmat(eq, t.reshape(Q, S))
            if S == 1 and Q >= MATVEC_MIN:
                return E.matvec(eq, t.reshape(P, Q))
            if S > 1 and P <= SPLIT_ROWS and Q * S >= SPLIT_MIN:
                t3 = t.reshape(P, Q, S)
                return np.concatenate([E.vecmat(eq, t3[p]) for p in range(P)], axis=0)
    per = max(1, int(np.prod(t.shape[1:], dtype=np.int64)) * t.itemsize)
    if perm == sorted(perm) or d0 == 1 or d0 * per <= FOLD_BLOCK_BYTES:
        m = np.ascontiguousarray(t.transpose(perm))
        return E.vecmat(eq, m.reshape(eq.shape[0], -1))
    b = 1 << max(0, min(d0.bit_length() - 1, (FOLD_BLOCK_BYTES // per).bit_length() - 1))
    rows = eq.shape[0] // d0 if first_folded else eq.shape[0]
    out, parts = None, []
    for i in range(0, d0, b):
        m = np.ascontiguousarray(t[i:i + b].transpose(perm))
        if first_folded:
            v = E.vecmat(eq[i * rows:(i + b) * rows], m.reshape(b * rows, -1))
            out = v if out is None else E.add(out, v)
        else:
            parts.append(E.vecmat(eq, m.reshape(rows, -1)))
    return out if first_folded else np.concatenate(parts, axis=0)


def _rows(t) -> int:
    """The first dimension of a table (an array, or anything with a ``shape``)."""
    shape = getattr(t, "shape", None)
    return int(shape[0]) if shape is not None else np.asarray(t).shape[0]


def _fold(E, table, term: str, fixed: Mapping[str, np.ndarray], bits, base: bool):
    """The operand's table folded on its letters in ``fixed`` at their points: (a
    challenge-field table row-major over the remaining letters, those letters).  A
    tensor's table with nothing to fold stays a flat base-field table."""
    fold = [ch for ch in term if ch in fixed]
    rest = "".join(ch for ch in term if ch not in fixed)
    es = () if base else E.elem_shape
    dims = tuple(1 << bits[ch] for ch in term)
    if not any(bits[ch] for ch in fold):  # a tensor's table stays in the base field (the
        # sumcheck reads it there until its first challenge)
        return (np.asarray(table).reshape(-1) if base else mle.lift(E, table, base=False)), rest
    ints = getattr(table, "ints", None) if base else None
    # a table held as its integers (`published.IntTable`): folded from them (the field's
    # `vecmat` / `matvec` of an int64 matrix), no converted copy of the whole table
    t = (ints if ints is not None else np.asarray(table)).reshape(dims + es)
    tail = tuple(range(len(term), len(term) + len(es)))
    fpt = join(E, "".join(fold), fixed)
    if base:  # one pass: eq(fold point, ·)ᵀ · (fold rows × rest columns)
        perm = [term.index(ch) for ch in fold] + [term.index(ch) for ch in rest]
        return _vecmat_blocked(E, mle.eq_table(E, fpt), t, perm, term[0] in fold,
                               len(fold)), rest
    perm = [term.index(ch) for ch in rest] + [term.index(ch) for ch in fold]
    m = np.ascontiguousarray(t.transpose(perm + list(tail))).reshape((-1,) + es)
    return mle.bind(E, m, fpt), rest


def _expand(E, table, term: str, sc: str, bits) -> np.ndarray:
    """A table row-major over ``term`` (letters of ``sc``) laid out over all of ``sc``,
    constant along the letters it lacks; a base-field table (flat, over an extension
    field) stays one."""
    es = () if E.elem_shape and np.ndim(table) == 1 else E.elem_shape
    t = np.asarray(table).reshape(tuple(1 << bits[ch] for ch in term) + es)
    order = sorted(range(len(term)), key=lambda i: sc.index(term[i]))
    t = t.transpose(order + list(range(len(term), len(term) + len(es))))
    t = t.reshape(tuple(1 << bits[ch] if ch in term else 1 for ch in sc) + es)
    full = np.broadcast_to(t, tuple(1 << bits[ch] for ch in sc) + es)
    return np.ascontiguousarray(full).reshape((-1,) + es)


def einsum(ctx, node: str, spec: str, operands: Sequence[Operand], point, value, *,
           sizes: Mapping[str, int] | None = None, scale: int = 1,
           kind: str = "einsum") -> list[Claim]:
    """Prove / check Ỹ(point) = ``value`` for Y = ``scale`` · einsum(``spec``,
    ``operands``) (module doc) and return the claims on the tensor operands (public
    tensors and `Public` factors are evaluated by the verifier instead).  ``sizes``
    gives the letters an operand does not (views whose letter count differs from the
    tensor's axis count).  ``kind`` names the relation in its derived transcript label
    (``{node}/{kind}``, `ctx.label`).  A malformed call is the side's error naming
    ``node``."""
    E = ctx.E
    try:
        ins, out = parse(spec)
        if len(ins) != len(operands) or not ins:
            raise ValueError(f"{len(operands)} operands for {len(ins)} terms")
        if scale % ctx.F.p == 0:
            raise ValueError(f"scale {scale} is zero mod p")
        sz = letter_sizes([(t, ctx.spec(op).shape) for t, op in zip(ins, operands)
                           if isinstance(op, str)], sizes)
        for ch in "".join(ins) + out:
            if ch not in sz:
                raise ValueError(f"letter {ch!r} has no size")
            mle.log2_exact(sz[ch])
    except (ValueError, KeyError) as e:
        raise error(ctx, f"{node}: einsum {spec!r}: {e}") from None
    bits = {ch: mle.log2_exact(d) for ch, d in sz.items()}
    if E.shape(point)[0] != sum(bits[ch] for ch in out):
        raise error(ctx, f"{node}: einsum {spec!r}: a point of {E.shape(point)[0]} "
                         f"coordinates on an output of {sum(bits[ch] for ch in out)}")
    r = split(point, out, bits)
    letters = list(dict.fromkeys("".join(ins)))
    count = {ch: sum(ch in t for t in ins) for ch in letters}
    free_sh = "".join(ch for ch in letters if count[ch] > 1 and ch in out)
    sc = free_sh + "".join(ch for ch in letters if count[ch] > 1 and ch not in out)
    halves = [ch for ch in letters if count[ch] == 1 and ch not in out]
    fixed = {ch: r[ch] for ch in letters if count[ch] == 1 and ch in out}
    fixed |= {ch: half_point(E, bits[ch]) for ch in halves}
    coef = scale << sum(bits[ch] for ch in halves)
    tensor = [isinstance(op, str) and ctx.spec(op).kind != "public" for op in operands]
    n = sum(bits[ch] for ch in sc)
    label = ctx.label(node, kind)

    def at(term: str, s: Mapping[str, np.ndarray]) -> np.ndarray:
        return join(E, term, {**fixed, **s})

    # a blinded value (zero knowledge, docs/zero-knowledge.md §5.1): carried on
    blind_in = ctx.blind_of(point, value) if ctx.zk is not None else ()
    if not sc and len(operands) == 1:  # a transpose, reshape, row sum: derived, no message
        inv = E.inv(E.scalar(coef % ctx.F.p).reshape((1,) + E.elem_shape))[0]
        v = E.mul(value, inv)
        (term,), (op,) = ins, operands
        if tensor[0]:
            return [ctx.claim(op, at(term, {}), v, scale_blind(E, blind_in, inv))]
        if blind_in:
            raise error(ctx, f"{label}: a blinded claim on a public operand")
        got = op.evaluate(at(term, {})) if isinstance(op, Public) else \
            ctx.eval_public(op, at(term, {}))
        ctx.check(lambda: E.equal(got, v), f"{label}: public operand does not match")
        return []

    eq = 1 if any(bits[ch] for ch in free_sh) else 0

    kw = {}

    def tables():  # prover only
        tabs = [_expand(E, mle.eq_table(E, join(E, free_sh, r)), free_sh, sc, bits)] \
            if eq and "eq" not in kw else []
        if "eq" in kw:  # built only if the eq-factored rounds do not serve the sumcheck
            tabs.append(sumcheck.Deferred(1 << n, lambda: _expand(
                E, mle.eq_table(E, join(E, free_sh, r)), free_sh, sc, bits)))
        for term, op in zip(ins, operands):
            base = isinstance(op, str)
            t = ctx.table(op) if base else op.table()
            if _rows(t) != 1 << sum(bits[ch] for ch in term):
                raise error(ctx, f"{label}: public factor {term!r} has a table of "
                                 f"{_rows(t)} entries")
            t, rest = _fold(E, t, term, fixed, bits, base)
            tabs.append(_expand(E, t, rest, sc, bits))
        return tabs

    def public(term, op):
        if isinstance(op, Public):
            return lambda p: op.evaluate(at(term, split(p, sc, bits)))
        return lambda p: ctx.eval_public(op, at(term, split(p, sc, bits)))

    pub = {eq + i: public(t, op) for i, (t, op) in enumerate(zip(ins, operands))
           if not tensor[i]}
    if eq:
        r_f = join(E, free_sh, r)
        pub[0] = lambda p: mle.eq_eval(E, r_f, join(E, free_sh, split(p, sc, bits)))
    terms = [(E.scalar(coef % ctx.F.p), tuple(range(eq + len(operands))))]
    hidden = [i for i, op in enumerate(operands) if tensor[i] and op in ctx.hide]
    if ctx.zk is not None and n > 0 and (blind_in or hidden):
        # the finals of the operands in `ctx.hide` masked by Z·ν (`zk.run_hidden`), their
        # claims blinded; the others' finals sent as they are
        shown = [eq + i for i in range(len(operands)) if tensor[i] and i not in hidden]
        rho, finals, blinds = zklib.run_hidden(ctx, label, n, terms, value, tables, pub,
                                               blinds=blind_in, reveal=shown)
        s = split(rho, sc, bits)
        return [ctx.claim(op, at(term, s), finals[eq + i], blinds[eq + i])
                for i, (term, op) in enumerate(zip(ins, operands)) if tensor[i]]
    if blind_in:
        raise error(ctx, f"{label}: a blinded claim needs a sumcheck (zero knowledge)")
    if eq and getattr(ctx, "prover", False) and E.name == "goldilocks-ext2" \
            and ctx.zk is None:
        # the eq factor over free_sh's coordinates (the high ones of the point over sc),
        # constant along the others: `sumcheck.prove`'s eq-factored rounds
        r_f = join(E, free_sh, r)
        nf = E.shape(r_f)[0]
        e = np.zeros((n, 2, 2), np.uint64)
        e[:n - nf, :, 0] = 1
        e[n - nf:, 0] = E.sub(E.ones(nf), r_f)
        e[n - nf:, 1] = r_f
        kw["eq"] = (0, e)
    rho, finals = ctx.run_sumcheck(label, n, terms, value, tables, public=pub, **kw)
    s = split(rho, sc, bits)
    return [ctx.claim(op, at(term, s), finals[eq + i])
            for i, (term, op) in enumerate(zip(ins, operands)) if tensor[i]]
