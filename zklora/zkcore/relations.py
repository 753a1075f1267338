"""The op vocabulary above single services (DESIGN §3.8): batched zero-checks over named
tables, the rescale identity, limb decompositions and small point helpers.

Everything here runs unchanged on both sides: it only uses the context services of
`zklora.zkcore.op` (``ctx.challenge``, ``ctx.run_sumcheck``, ``ctx.reveal``,
``ctx.claim``), which a `ProverContext` answers by computing and sending and a
`VerifierContext` by reading and checking.

**Zero-check** (`zerocheck`).  ``relations`` = [(terms, value)], each term
``(coefficient, (name, …))`` a product of named tables.  With α drawn from the
transcript, one sumcheck proves

    Σ_x Σ_k α^k · Σ_{(c, names) ∈ terms_k} c · Π_{n ∈ names} T_n(x) = Σ_k α^k · value_k

(a relation that must vanish at every x carries an ``eq(τ, x)`` factor named in its
terms, and value 0).  It returns the point and every table's value there; the caller
turns the values of committed tensors into claims and checks nothing else: the
sumcheck's final check already ties them together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

from zklora.kernels import goldilocks as KG

from . import mle, selfcheck, sumcheck
from .claims import scale_blind
from .errors import ProverError, VerificationError

#: default limb width of decompositions proven by range lookups
LIMB = 16

Term = tuple[object, tuple[str, ...]]
Relation = tuple[list[Term], np.ndarray]


# -- errors -------------------------------------------------------------------------------

def error(ctx, message: str) -> Exception:
    """The side's error for a malformed node: `ProverError` for the prover,
    `VerificationError` for the verifier (raise it)."""
    return ProverError(message) if ctx.prover else VerificationError(message)


# -- limbs ----------------------------------------------------------------------------------

def limbs(bits: int, lb: int = LIMB) -> list[int]:
    """Widths of the ``lb``-bit limbs of a ``bits``-bit value (the top one narrower)."""
    return [lb] * (bits // lb) + ([bits % lb] if bits % lb else [])


def split_limbs(x: torch.Tensor, bits: int, lb: int = LIMB) -> list[torch.Tensor]:
    """The limbs of nonnegative ``x`` (< 2^bits), low limb first."""
    return [(x >> (lb * j)) & ((1 << w) - 1) for j, w in enumerate(limbs(bits, lb))]


def limb_terms(names: Sequence[str], coef: int = 1, lb: int = LIMB) -> list[Term]:
    """coef·Σ_k 2^(lb·k)·names[k] as single-factor terms (the caller prepends eq)."""
    return [(coef * (1 << (lb * k)), (n,)) for k, n in enumerate(names)]


# -- points ---------------------------------------------------------------------------------

def half_point(E, n: int) -> np.ndarray:
    """The point (½, …, ½) of n coordinates (an MLE there is the table's mean)."""
    half = E.inv(E.scalar(2).reshape((1,) + E.elem_shape))[0]
    return np.stack([half] * n) if n else E.zeros(0)


def inv_pow2(E, k: int) -> np.ndarray:
    """2^(−k) in E."""
    return E.inv(E.scalar(1 << k).reshape((1,) + E.elem_shape))[0]


def repeat_last(E, t: np.ndarray, n: int) -> np.ndarray:
    """A flat table broadcast along a new lowest axis of size n."""
    return np.repeat(t, n, axis=0)


# -- the zero-check -------------------------------------------------------------------------

def table_names(relations: Sequence[Relation]) -> list[str]:
    """The tables the relations name, in first-use order (the sumcheck's table order)."""
    names: list[str] = []
    for terms, _ in relations:
        for _, fs in terms:
            for f in fs:
                if f not in names:
                    names.append(f)
    return names


def _merged(E, relations, names, alpha):
    idx = {n: i for i, n in enumerate(names)}
    terms = []
    claim = E.scalar(0)
    coef = E.scalar(1)
    for rel, value in relations:
        for c, fs in rel:
            cc = E.scalar(c) if isinstance(c, int | np.integer) else c
            terms.append((E.mul(coef, cc), tuple(idx[f] for f in fs)))
        claim = E.add(claim, E.mul(coef, value))
        coef = E.mul(coef, alpha)
    return terms, claim


def zerocheck(ctx, label: str, num_vars: int, relations: Sequence[Relation],
              tables: Callable[[], Mapping[str, np.ndarray]] | Mapping[str, np.ndarray] | None,
              public: Mapping[str, Callable[[np.ndarray], np.ndarray]] = {},  # noqa: B006
              ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Prove / check Σ_x Σ_k α^k·rel_k(x) = Σ_k α^k·value_k (module doc) with one
    sumcheck over ``num_vars`` variables.  ``tables()`` (prover only) maps every name to
    its challenge-field table; ``public[name]`` evaluates a table the verifier computes
    itself (eq factors, masks) at the final point.  The values of the other tables are
    sent.  Returns (point, {name: value at the point})."""
    point, vals, _ = zerocheck_hidden(ctx, label, num_vars, relations, tables, public)
    return point, vals


def zerocheck_hidden(ctx, label: str, num_vars: int, relations: Sequence[Relation],
                     tables, public: Mapping[str, Callable] = {},  # noqa: B006
                     hide: Sequence[str] = (), blinds: Sequence[Sequence] = (),
                     eq: tuple[str, np.ndarray] | None = None):
    """`zerocheck` whose finals of the tables named in ``hide`` are hidden (zero
    knowledge, docs/zero-knowledge.md §5.1: `zk.run_hidden`, the value sent is
    f̃(r) + Z(r)·ν): returns (point, {name: value}, {name: blind terms}), the blind of a
    hidden table's value (its claim is f̃(r) + blind = value), () for the others.  Outside
    a ZK session, without a variable or with nothing to hide: `zerocheck`'s messages and
    no blinds.  At most `hidden_capacity` tables are hidden (the rest sent as they are).
    ``blinds[k]``: the blind terms of relation k's value when that value is masked (value
    = true value + Σ blind, zero knowledge): the claim carries Σ_k α^k·blinds[k] as an
    unknown, so the sumcheck is always `zk.run_hidden` with that input blind
    (docs/zero-knowledge.md §5.1, "Carrying an unknown through a sumcheck")."""
    E = ctx.E
    names = table_names(relations)
    alpha = ctx.challenge(f"{label}/alpha")
    terms, claim = _merged(E, relations, names, alpha)
    pub = {i: public[n] for i, n in enumerate(names) if n in public}
    carried: tuple = ()
    coef = E.scalar(1)
    for k in range(len(relations)):
        if k < len(blinds) and blinds[k]:
            from .claims import scale_blind

            carried += tuple(scale_blind(E, blinds[k], coef))
        coef = E.mul(coef, alpha)

    def tabs():
        t = tables() if callable(tables) else tables
        return [t[n] for n in names]

    hid = [i for i, n in enumerate(names) if n in set(hide) and i not in pub] \
        if ctx.zk is not None and num_vars > 0 else []
    hid = hid[:hidden_capacity(ctx)]
    if hid and not carried:   # (with an unknown the sumcheck must hide: no `zk.room`)
        from . import zk as zklib

        hid = hid if zklib.room(ctx, 2) else []
    if not hid and not carried:
        kw = {}
        if eq is not None and eq[0] in names and getattr(ctx, "prover", False) \
                and E.name == "goldilocks-ext2":   # (name, τ): eq(τ, ·)
            tau = np.asarray(eq[1])
            kw["eq"] = (names.index(eq[0]), np.stack([E.sub(E.ones(num_vars), tau), tau], 1))
        point, finals = ctx.run_sumcheck(label, num_vars, terms, claim, tabs, public=pub, **kw)
        return point, dict(zip(names, finals)), {n: () for n in names}
    from . import zk as zklib

    shown = [i for i in range(len(names)) if i not in pub and i not in hid]
    point, finals, out = zklib.run_hidden(ctx, label, num_vars, terms, claim, tabs,
                                          pub, blinds=carried, reveal=shown)
    return point, dict(zip(names, finals)), dict(zip(names, out))


def hidden_capacity(ctx) -> int:
    """How many tables one hidden sumcheck may hide (their ν's share the upper half of
    one mask slot, `zk.run_hidden`)."""
    from . import zk as zklib

    return (1 << (zklib.slot_vars(ctx.E.degree) - 1)) // ctx.E.degree


def _spread(t: np.ndarray, d: int, high: bool) -> np.ndarray:
    """A flat table broadcast along d new low (or, with ``high``, high) coordinates."""
    if not d:
        return t
    return np.tile(t, (1 << d,) + (1,) * (np.ndim(t) - 1)) if high else np.repeat(t, 1 << d, 0)


#: `_check_vanishes` reads relations over at least this many indices a chunk of
#: `CHECK_CHUNK` at a time (goldilocks): four chunk buffers, no whole-size temporaries
CHECK_CHUNKED_MIN = 1 << 20
CHECK_CHUNK = 1 << 18


def _check_vanishes(ctx, node: str, relations, low: Mapping[str, int],
                    high: Sequence[str] = ()) -> None:
    """Prover self-check: every relation holds at every index (in the base field)."""
    F = ctx.F
    names = {f for rel in relations for _, fs in rel for f in fs}
    size = max((np.asarray(ctx.table(f)).shape[0] << low[f] for f in names), default=0)
    if F.name == "goldilocks" and size >= CHECK_CHUNKED_MIN:
        _check_chunked(ctx, node, relations, low, high, size)
        return
    for k, rel in enumerate(relations):
        acc = None
        for c, fs in rel:
            t = F.scalar(c)
            for f in fs:
                t = F.mul(t, _spread(ctx.table(f), low[f], f in high))
            acc = t if acc is None else F.add(acc, t)
        bad = np.nonzero(np.asarray(acc) != np.asarray(F.scalar(0)))[0] if acc is not None \
            and np.ndim(acc) else []
        if len(bad):
            raise ProverError(f"{node}: relation {k} fails at flat index {int(bad[0])} (the "
                              "witness does not follow the spec)")


def _piece(t: np.ndarray, d: int, high: bool, lo: int, c: int, buf: np.ndarray) -> np.ndarray:
    """Indices lo … lo + c − 1 of ``t`` broadcast along d low (``high``: high) coordinates
    (`_spread`): a view of ``t`` where it is one, else written into ``buf``."""
    if not d:
        return t[lo:lo + c]
    if high:
        m = t.shape[0]
        if c <= m:
            return t[lo & (m - 1):(lo & (m - 1)) + c]
        buf.reshape(-1, m)[:] = t[None, :]
        return buf
    if c >= 1 << d:
        buf.reshape(-1, 1 << d)[:] = t[lo >> d:(lo + c) >> d, None]
    else:
        buf[:] = t[lo >> d]
    return buf


def _check_chunked(ctx, node: str, relations, low: Mapping[str, int], high: Sequence[str],
                   size: int) -> None:
    """`_check_vanishes` over goldilocks a chunk of `CHECK_CHUNK` indices at a time: each
    term's product and the relation's sum in reused buffers with the field's vector
    kernels (a term's first table copied in, the others multiplied into it, the
    coefficient last unless it is 1; the same field elements as the whole-table
    evaluation, so the same verdict and first failing index)."""
    F = ctx.F
    c = min(CHECK_CHUNK, size)
    mul = KG.vmul if c >= KG.SMALL else KG.vmul_s
    add = KG.vadd if c >= KG.SMALL else KG.vadd_s
    acc, t, tmp = (np.empty(c, np.uint64) for _ in range(3))
    tabs = {f: np.asarray(ctx.table(f)).reshape(-1) for rel in relations for _, fs in rel
            for f in fs}
    for k, rel in enumerate(relations):
        if not any(fs for _, fs in rel):
            continue    # constants only: the whole-table check never flags them either
        one = np.asarray(F.scalar(1))
        coefs = [None if fs and np.array_equal(F.scalar(cf), one) else
                 np.full(c, F.scalar(cf), np.uint64) for cf, fs in rel]
        for lo in range(0, size, c):
            for j, ((_, fs), cf) in enumerate(zip(rel, coefs)):
                if fs:
                    t[:] = _piece(tabs[fs[0]], low[fs[0]], fs[0] in high, lo, c, tmp)
                    for f in fs[1:]:
                        mul(t, _piece(tabs[f], low[f], f in high, lo, c, tmp), t)
                    if cf is not None:
                        mul(t, cf, t)
                else:
                    t[:] = cf
                if j:
                    add(acc, t, acc)
                else:
                    acc[:] = t
            bad = np.flatnonzero(acc)
            if bad.size:
                raise ProverError(f"{node}: relation {k} fails at flat index "
                                  f"{lo + int(bad[0])} (the witness does not follow the spec)")


def vanishes(ctx, node: str, relations: Sequence[Sequence[Term]],
             high: Sequence[str] = ()) -> list:
    """Every relation Σ_t c_t·Π_{T ∈ t} T(x) — terms over names of graph tensors, ``()``
    a constant — vanishes at every index x of the largest tensor: one zero-check
    Σ_x eq(τ, x)·Σ_k α^k·rel_k(x) = 0 with τ drawn here (`zerocheck`).  A tensor of d
    fewer variables is broadcast along the low d coordinates (the leading axes
    (…, rows) of a (…, rows, L) tensor: x = (j, i) reads it at i).  Labels derive from
    ``node``; the prover's tables are the tensors themselves; public tensors are
    evaluated by the verifier, every other tensor gets its claim at the sumcheck point
    (without its broadcast coordinates), returned.  A tensor named in ``high`` is
    broadcast along the high coordinates instead (numpy's broadcasting from the right:
    a mask over the trailing axes)."""
    E, eq = ctx.E, "<eq>"
    names = table_names([(rel, None) for rel in relations])
    if eq in names or not names:
        raise error(ctx, f"{node}: a zero-check needs tensors (and none named {eq})")
    n = max(ctx.spec(t).num_vars for t in names)
    low = {t: n - ctx.spec(t).num_vars for t in names}
    own = {t: slice(0, n - low[t]) if t in high else slice(low[t], None) for t in names}
    # the prover's self-check (a precise message for a witness off the spec): before the
    # zero-check in a ZK session (a hidden sumcheck does not check its own sums), else
    # only once the zero-check's own round or final check has failed -- a relation off
    # at any index makes Σ eq(τ, x)·rel(x) ≠ 0 but with probability ≤ n/|E| -- so an
    # honest prover does not evaluate every relation at every index twice
    check = ctx.prover and selfcheck.enabled()
    if check and getattr(ctx, "zk", None) is not None:
        _check_vanishes(ctx, node, relations, low, high)
    tau = ctx.challenges(ctx.label(node, "zerocheck/tau"), n)
    rels = [([(c, (eq, *fs)) for c, fs in rel], E.scalar(0)) for rel in relations]
    pub = {t: (lambda p, t=t: ctx.eval_public(t, p[own[t]])) for t in names
           if ctx.spec(t).kind == "public"}
    # zero knowledge: inside an op that hands the values on (`ctx.carries_blinds`) the
    # finals of tensors that may carry blinds (`ctx.hide`) are hidden, their claims
    # blinded and the (point, value) → blind registered for the op (`register_blind`)
    hide = [t for t in names if t in ctx.hide and t not in pub] \
        if getattr(ctx, "carries_blinds", False) else []
    try:
        point, vals, blinds = zerocheck_hidden(
            ctx, ctx.label(node, "zerocheck"), n, rels,
            lambda: {eq: mle.eq_table(E, tau) if ctx.zk is not None else
                     # built only if the eq-factored rounds do not serve the zero-check
                     sumcheck.Deferred(1 << n, lambda: mle.eq_table(E, tau))} | {
                t: _spread(ctx.table(t), low[t], t in high) for t in names},
            public={eq: lambda p: mle.eq_eval(E, tau, p), **pub}, hide=hide, eq=(eq, tau))
    except ProverError:
        if check and getattr(ctx, "zk", None) is None:
            _check_vanishes(ctx, node, relations, low, high)   # which relation, which index
        raise
    out = []
    for t in names:
        if t in pub:
            continue
        out.append(ctx.claim(t, point[own[t]], vals[t], blinds[t]))
        ctx.register_blind(point[own[t]], vals[t], blinds[t])
    return out


# -- rescale --------------------------------------------------------------------------------

def rescale_input_claim(ctx, X: str, point, v_y, v_r, shift: int):
    """X = 2^s·Y + R − 2^(s−1) is linear, so at any point X̃ = 2^s·Ỹ + R̃ − 2^(s−1): the
    claim on X that claims Ỹ(point) = v_y and R̃(point) = v_r imply."""
    E = ctx.E
    v_x = E.sub(E.add(E.mul(E.scalar(1 << shift), v_y), v_r), E.scalar(1 << (shift - 1)))
    # blinded v_y, v_r (zero knowledge, `ProverContext.register_blind`): X̃ + 2^s·B_y + B_r
    blind = scale_blind(E, ctx.blind_of(point, v_y), E.scalar(1 << shift)) + \
        tuple(ctx.blind_of(point, v_r))
    c = ctx.claim(X, point, v_x, blind)
    return c
