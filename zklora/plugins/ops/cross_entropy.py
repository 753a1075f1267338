"""Cross-entropy loss over the whole vocabulary, as a public output.

Integer specification (`cross_entropy_forward`).  Inputs: logits Z (…, V) at scale s,
labels (…) (transformers' convention, already aligned with the rows of Z: label_t is
the target of row t, −100 = ignored), and the softmax node over Z (`add_softmax`, no
mask, κ = 2^w, shift w: scores at scale s + w) providing the row shifts c_t (scale
s + w; exactly the row maxima 2^w·max_v Z_tv, pinned by the softmax's one-hot argmax
selector) and the row sums S_t = Σ_v e_tv (scale s, S_t ≥ 2^s).  With q the mantissa bits:

    m_t   = [label_t ≠ −100],  Y_tv = m_t·[v = label_t]        (one-hot, committed)
    k_t   = bitlen(S_t) − 1 − q,  μ_t = ⌊S_t / 2^k_t⌋ ∈ [2^q, 2^(q+1)),
    ρ_t   = S_t − μ_t·2^k_t ∈ [0, 2^k_t),  γ_t = 2^k_t − 1 − ρ_t
    lμ_t  = round(ln(μ_t/2^q)·2^s)                          (log_table(q, s, q, 2^q))
    o_t   = round((k_t + q − s)·ln 2·2^s)                    (exponent table row k_t)
    ℓ_t   = c_t + 2^w·(lμ_t + o_t − Z[t, label_t])           (scale s + w)
    N     = Σ_t m_t,   total = Σ_t m_t·ℓ_t,   D = 2^w·N
    loss  = ⌊(total + ⌊D/2⌋) / D⌋  (round half up),  r_L = total + ⌊D/2⌋ − loss·D ∈ [0, D)

so loss ≈ mean_t (logsumexp(z_t) − z_t,label) at scale s, since c_t/2^(s+w) + ln(S_t/2^s)
= ln Σ_v exp(z_tv) up to the fixed-point roundings.  N is a public parameter (the number
of counted tokens is part of the statement) and the loss value is a public tensor
declared in the graph: the prover computes it first (`cross_entropy_value`).

Relations proven (all advice committed; Y, m and k, μ, … are what the backward needs
with the softmax's P for dlogits = (P − Y)/N):

  rows (`vanishes` over t, point ρ_t):  m² − m = 0;  (1 − m)·(label + 100) = 0;
      S − μ·pow − ρ = 0;  pow − 1 − ρ − γ = 0
  labels (einsum "tv,v->t" at ρ_t):  Σ_v v·Y_tv = m_t·label_t = label_t + 100 − 100·m_t
  grid (one sumcheck over (t, v)):   eq(τ)·(Y² − Y) = 0  (booleanity);
      Σ_{t,v} 2^(−log V)·m·(c + 2^w·(lμ + o)) − 2^w·Y·Z = loss·D − ⌊D/2⌋ + r_L
  sums (einsum row sums):  m_t = Σ_v Y_tv (claim on Y at (½…½, ρ_t));  Σ_t m_t = N
      (claim on m at ½…½)
  lookups: (μ, lμ) in the log table (also proves μ ∈ [2^q, 2^(q+1))), (k, pow, o) in the
      exponent table; ranges ρ, γ ∈ [0, 2^16), r_L, D − 1 − r_L ∈ [0, 2^16).

Hence Y is one-hot on counted rows with Σ v·Y = label (so Z[t, label] is selected),
zero on ignored rows, and a row is ignored iff its label is −100; S = μ·2^k + ρ with
ρ < 2^k pins k = ⌊log2 S⌋ − q; and the loss is the exact rounded mean.  With c and S
unique (softmax node), so is every output here: the loss is a function of Z and the
labels alone.

Zero knowledge (docs/zero-knowledge.md §5.1; a ZK session with hidden evaluations): the
row and grid zero-checks hide their finals (blinded claims), the labels' value
label + 100 − 100·m carries the row finals' blinds, and instead of (r_L, g_L) the prover
sends r̃_L + ν only (a masked reveal); g_L's claim is derived, g_L − ν = D − 1 − (r_L + ν)
(the check r_L + g_L = D − 1 moves into the opening), and the grid sumcheck carries the
unknown α·ν of its claim (`zk.run_hidden` with an input blind).  Outside a ZK session
the messages are the ones above, byte for byte.

Padded vocabulary (parameter ``vocab`` < V, the logits' width V a power of two): only
columns v < vocab are real.  The softmax node is masked by the public column prefix mask
Mc_v = [v < vocab] (`add_softmax(vocab=…)`: the padded columns get no mass, so c and S
are the max and the sum over the real columns), and the booleanity relation becomes

      eq(τ)·(Y² − Mc·Y) = 0          (Y ∈ {0, 1} on real columns, Y = 0 on padded ones)

with Mc's MLE evaluated by the verifier in closed form (`structured.prefix_mle`).  A
counted row's label = Σ_v v·Y_tv is then a real column: a label can never select a
padded column, and no padded logit enters the loss.  Without ``vocab`` (or vocab = V)
the relations are exactly the ones above.
"""

from __future__ import annotations

import math

import attrs
import numpy as np
import torch

from zklora.zkcore import mle, selfcheck, structured
from zklora.zkcore.build import Builder, builder, named_table
from zklora.zkcore.claims import scale_blind
from zklora.zkcore.einsum import Public, einsum
from zklora.zkcore.errors import ConfigError, ProverError
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.lookup import LookupRequest, Table
from zklora.zkcore.op import ABSORB, Op, Role, param
from zklora.zkcore.range import RangeCheck
from zklora.zkcore.relations import (
    error,
    inv_pow2,
    repeat_last,
    vanishes,
    zerocheck_hidden,
)


def log_table(in_scale_bits: int, out_scale_bits: int, domain_bits: int, lo: int = 1) -> Table:
    """The log table (family ``log`` of the registry, `named_table`)."""
    return named_table("log", in_scale_bits=in_scale_bits, out_scale_bits=out_scale_bits,
                       domain_bits=domain_bits, lo=lo)

IGNORE = -100
ROLES = ("loss", "Y", "m", "k", "pow", "off", "mu", "lmu", "rho", "gam", "rL", "gL")


class ExponentTable(Table):
    """Rows (k, 2^k, round((k + q − s)·ln 2·2^s)) for k ∈ [0, 2^bits)."""

    width = 3

    def __init__(self, q: int, s: int, bits: int = 5):
        self.name = f"ce_exponent[q={q},s={s},bits={bits}]"
        self.num_vars = bits
        k = np.arange(1 << bits, dtype=np.int64)
        off = np.array([math.floor((int(j) + q - s) * math.log(2) * (1 << s) + 0.5)
                        for j in k], np.int64)
        self._cols = [k, np.left_shift(np.int64(1), k), off]
        for c in self._cols:
            c.setflags(write=False)

    def columns(self):
        return self._cols


_EXP_TABLES: dict[tuple[int, int, int], ExponentTable] = {}


def exponent_table(q: int, s: int, bits: int = 5) -> ExponentTable:
    key = (int(q), int(s), int(bits))
    if key not in _EXP_TABLES:
        _EXP_TABLES[key] = ExponentTable(*key)
    return _EXP_TABLES[key]


def cross_entropy_forward(z: torch.Tensor, labels: torch.Tensor, c: torch.Tensor,
                          S: torch.Tensor, *, scale: int, shift: int, mantissa_bits: int,
                          name: str = "cross_entropy", vocab: int | None = None
                          ) -> dict[str, torch.Tensor]:
    """The integer specification (module doc); returns every output by role.  Labels
    must be −100 or in [0, vocab) (vocab defaults to the logits' width)."""
    s, w, q = scale, shift, mantissa_bits
    V = int(z.shape[-1]) if vocab is None else int(vocab)
    lab = labels.to(torch.int64)
    bad = (lab != IGNORE) & ((lab < 0) | (lab >= V))
    if bool(bad.any()):
        i = int(torch.nonzero(bad.reshape(-1))[0])
        raise ProverError(f"{name}: label {int(lab.reshape(-1)[i])} at flat index {i} is "
                          f"neither {IGNORE} nor in [0, {V})")
    m = (lab != IGNORE).to(torch.int64)
    N = int(m.sum())
    if N == 0:
        raise ProverError(f"{name}: no counted token (every label is {IGNORE})")
    Y = torch.zeros(z.shape, dtype=torch.int64)
    Y.scatter_(-1, torch.where(m > 0, lab, 0)[..., None], m[..., None])
    S = S.to(torch.int64)
    if S.numel() and int(S.min()) < 1 << q:
        raise ProverError(f"{name}: row sum below 2^{q}")
    nbits = torch.floor(torch.log2(S.to(torch.float64))).to(torch.int64)
    nbits = nbits + ((S >> nbits) >= 2).to(torch.int64) - ((S >> nbits) == 0).to(torch.int64)
    k = nbits - q
    pow_ = torch.ones_like(k) << k
    mu = S >> k
    rho = S - mu * pow_
    gam = pow_ - 1 - rho
    lt = log_table(q, s, q, 1 << q).columns()[1]
    lmu = torch.from_numpy(np.ascontiguousarray(lt[(mu - (1 << q)).numpy()]))
    et = exponent_table(q, s)
    if int(k.max()) >= et.size:
        raise ProverError(f"{name}: row sum exponent {int(k.max())} outside the table")
    off = torch.from_numpy(np.ascontiguousarray(et.columns()[2][k.numpy()]))
    zl = (z.to(torch.int64) * Y).sum(-1)
    ell = c.to(torch.int64) + (lmu + off - zl) * (1 << w)
    total = int((m * ell).sum())
    D = N << w
    loss = (total + D // 2) // D
    rL = total + D // 2 - loss * D
    return {"loss": torch.tensor([loss]), "Y": Y, "m": m, "k": k, "pow": pow_, "off": off,
            "mu": mu, "lmu": lmu, "rho": rho, "gam": gam, "rL": torch.tensor([rL]),
            "gL": torch.tensor([D - 1 - rL])}


def vocab_mask(V: int, vocab: int | None) -> torch.Tensor | None:
    """The (V,) 0/1 column mask [v < vocab], or None when every column is real."""
    if vocab is None or int(vocab) >= V:
        return None
    return structured.prefix_mask((V,), (int(vocab),)).materialise()


def default_mantissa_bits(V: int, scale: int = 16, limb_bits: int = 16) -> int:
    """The log-sum-exp mantissa width q for a logits width V: 15, raised so that the
    remainder ρ_t < 2^k_t, k_t ≤ scale + log2 V − 1 − q, fits one range-check limb
    (S_t < V·2^scale); the log table then has 2^q rows (2^17 at vocab 128256)."""
    return max(15, int(scale) + mle.log2_exact(int(V)) - int(limb_bits))


def cross_entropy_value(z: torch.Tensor, labels: torch.Tensor, *, scale: int = 16,
                        exp_scale: int = 18, digit_bits: int = 14,
                        mantissa_bits: int | None = None,
                        limb_bits: int = 16, vocab: int | None = None) -> tuple[int, int]:
    """(loss, number of counted tokens) of `add_cross_entropy` for integer logits ``z``:
    what the prover computes first, to declare the public loss.  ``vocab``: the true
    vocabulary (≤ the logits' width; padded columns take no softmax mass)."""
    w = exp_scale - scale
    sm = builder("softmax.forward")(z, vocab_mask(int(z.shape[-1]), vocab), scale=scale,
                                    shift=w, kappa=1 << w, digit_bits=digit_bits,
                                    exp_scale=exp_scale, limb_bits=limb_bits)
    if mantissa_bits is None:
        mantissa_bits = default_mantissa_bits(int(z.shape[-1]), scale, limb_bits)
    out = cross_entropy_forward(z, labels, sm["c"], sm["S"], scale=scale, shift=w,
                                mantissa_bits=mantissa_bits, vocab=vocab)
    return int(out["loss"][0]), int(out["m"].sum())


def _rows(shapes, p) -> tuple[int, ...]:
    return shapes["Z"][:-1]


class CrossEntropy(Op):
    """Mean cross-entropy as a public output (module doc)."""

    name = "cross_entropy"
    input_roles = ("Z", *(Role(r, shape=_rows) for r in ("labels", "c", "S")))
    output_roles = tuple(Role(r, "public" if r == "loss" else "committed",
                              (lambda s, p: (1,)) if r in ("loss", "rL", "gL") else
                              "Z" if r == "Y" else _rows) for r in ROLES)

    #: zero knowledge (docs/zero-knowledge.md §5.1): every output is committed (or the
    #: public loss) and its claims are never read here.  Inside the op: the row
    #: zero-check's finals are hidden (`vanishes`) and the labels' value computed from
    #: them carries their blinds; r_L is a masked reveal (g_L's claim derived from it,
    #: the grid sumcheck's claim carries its blind) and the grid's finals are hidden
    #: (`_grid`)
    zk_blinds = ABSORB

    @attrs.frozen
    class Params:  # field order: as unpacked by forward and _layout
        scale: int = param("int", lo=1, hi=16, doc="s")
        shift: int = param("int", lo=0, hi=8, doc="w")
        mantissa_bits: int = param("int", lo=1, hi=20, doc="q")
        num_tokens: int = param("int", lo=1, doc="N")
        limb_bits: int = param("int", default=16, lo=1, hi=16)
        vocab: int | None = param("int", lo=1, optional=True,
                                  doc="true vocabulary ≤ V (None: V); module doc")

    def forward(self, node, inputs):
        s, w, q, N, lb, vocab = attrs.astuple(self.params(node))
        z, lab, c, S = inputs
        out = cross_entropy_forward(z, lab, c, S, scale=s, shift=w, mantissa_bits=q,
                                    name=node.name, vocab=vocab)
        return [out[r] for r in ROLES]

    def _layout(self, ctx, node):
        s, w, q, N, lb, vocab = attrs.astuple(self.params(node))
        Z, lab, c, S = node.inputs
        zs = tuple(ctx.spec(Z).shape)
        rows = zs[:-1]
        names = dict(zip(ROLES, node.outputs))
        if not N <= min(int(np.prod(rows)), (1 << lb) >> w):
            raise error(ctx, f"op {node.name}: num_tokens {N} above the rows or 2^limb_bits")
        if vocab is not None and vocab > int(zs[-1]):
            raise error(ctx, f"op {node.name}: vocab {vocab} above the logits' width "
                        f"{zs[-1]}")
        pv = None if vocab is None or vocab == int(zs[-1]) else int(vocab)
        nv = mle.log2_exact(int(zs[-1]))
        nt = mle.num_vars(rows)
        L = int(ctx.publics[names["loss"]].reshape(-1)[0])
        # L·D − ⌊D/2⌋ + r_L = total (D = N·2^w, r_L ∈ [0, D)) pins L only if |L|·D < p/4:
        # then two accepted losses give (L − L')·D = r_L' − r_L over the integers, and
        # |r_L' − r_L| < D forces L = L'.  The loss comes from the untrusted statement.
        if abs(L) * (N << w) >= ctx.F.p // 4:
            raise error(ctx, f"op {node.name}: declared loss {L} is out of range")
        return s, w, q, N, lb, Z, lab, c, S, names, nv, nt, L, pv

    def range_checks(self, node, p, specs):
        """rho, gam, rL, gL ∈ [0, 2^limb_bits)."""
        names = dict(zip(ROLES, node.outputs))
        return [RangeCheck(names[r], 0, (1 << p.limb_bits) - 1, f"{node.name}/{r}")
                for r in ("rho", "gam", "rL", "gL")]

    def lookups(self, node, p, specs):
        """(μ, log μ) in the log table and (k, 2^k, offset) in the exponent table."""
        names = dict(zip(ROLES, node.outputs))
        q, s = p.mantissa_bits, p.scale
        return [LookupRequest(log_table(q, s, q, 1 << q), (names["mu"], names["lmu"]),
                              f"{node.name}/log"),
                LookupRequest(exponent_table(q, s), (names["k"], names["pow"], names["off"]),
                              f"{node.name}/exponent")]

    def relations(self, ctx, node, out_claims):
        """The row relations (`vanishes`), the label column (einsum at the row point),
        the grid sumcheck (booleanity of Y and the loss sum), the row sums (einsum),
        lookups and ranges (module doc)."""
        s, w, q, N, lb, Z, lab, c, S, names, nv, nt, L, pv = self._layout(ctx, node)
        E = ctx.E
        if ctx.prover and selfcheck.enabled():   # a clear error for a wrong statement
            got = int(ctx.value(names["loss"])[0])
            if got != L:
                raise ProverError(f"op {node.name}: the graph declares loss {L} but the "
                                  f"forward pass computes {got}")
            n = int(ctx.value(names["m"]).sum())
            if n != N:
                raise ProverError(f"op {node.name}: {n} counted tokens, the graph declares "
                                  f"{N}")
        V, m, Y = 1 << nv, names["m"], names["Y"]
        mu, pw, rho, gam = (names[r] for r in ("mu", "pow", "rho", "gam"))
        rows = vanishes(ctx, node.name, [
            [(1, (m, m)), (-1, (m,))], [(1, (lab,)), (100, ()), (-1, (m, lab)), (-100, (m,))],
            [(1, (S,)), (-1, (mu, pw)), (-1, (rho,))], [(1, (pw,)), (-1, ()), (-1, (rho,)),
                                                         (-1, (gam,))]])
        at = {cl.tensor: cl for cl in rows}
        rp, sz = at[m].point, {"t": 1 << nt, "v": V}

        def vcol(p):   # the MLE of the column index v = Σ_j 2^j·v_j
            acc = E.scalar(0)
            for j in range(nv):
                acc = E.add(acc, E.mul(E.scalar(1 << j), p[j]))
            return acc

        # Σ_v v·Y_tv = m_t·label_t = label_t + 100 − 100·m_t (the second row relation)
        vlab = E.add(E.sub(at[lab].value, E.mul(E.scalar(100), at[m].value)), E.scalar(100))
        # hidden row finals (zero knowledge): the value carries B_label − 100·B_m
        ctx.register_blind(rp, vlab, tuple(at[lab].blind)
                           + scale_blind(E, at[m].blind, E.scalar(-100)))
        claims = rows + einsum(
            ctx, node.name, "tv,v->t", [Y, Public(lambda: E.from_ints(np.arange(V)), vcol)],
            rp, vlab, sizes=sz, kind="labels")
        # grid
        D1, none = E.scalar((N << w) - 1), E.zeros(0)
        if ctx.zk is not None and ctx.carries_blinds and names["rL"] in ctx.hide:
            # zero knowledge: r̃L + ν sent (a masked reveal, its claim blinded); g_L's
            # claim is derived, g̃L = D − 1 − r̃L: g̃L − ν = D − 1 − v_L (no value sent)
            (vL,) = ctx.reveal(ctx.label(node.name, "rL"), [names["rL"]], none)
            bL = ctx.blind_of(none, vL)
            ctx.claim(names["gL"], none, E.sub(D1, vL), scale_blind(E, bL, E.scalar(-1)))
            vG = None
        else:
            vL, vG = ctx.exchange(ctx.label(node.name, "rL"), 2, lambda: E.from_ints(
                torch.cat([ctx.value(names["rL"]).reshape(-1),
                           ctx.value(names["gL"]).reshape(-1)])))
            ctx.check(lambda: E.equal(E.add(vL, vG), D1),
                      f"op {node.name}: loss remainder r_L ∉ [0, N·2^w)")
            bL = ()
        tau = ctx.challenges(ctx.label(node.name, "grid/tau"), nt + nv)
        row_t = {"m": m, "c": c, "lmu": names["lmu"], "off": names["off"]}

        def grid_tables():
            # the integer tables in the base field (flat, not lifted: the sumcheck reads
            # them there, the same messages): the grid has tokens × vocab entries, so
            # each lifted copy held through the sumcheck would cost twice the bytes
            gt = {"eq": mle.eq_table(E, tau), "Y": ctx.table(Y), "Z": ctx.table(Z)}
            gt |= {r: repeat_last(E, ctx.table(t), V) for r, t in row_t.items()}
            if pv is not None:
                gt["Mc"] = np.tile(ctx.F.from_ints(vocab_mask(V, pv).numpy()).reshape(-1),
                                   1 << nt)
            return gt

        pub = {"eq": lambda p: mle.eq_eval(E, tau, p)}
        if pv is not None:   # the column prefix mask [v < vocab], closed form
            pub["Mc"] = lambda p: structured.prefix_mle(E, p[:nv], pv)
        inv, D = inv_pow2(E, nv), N << w
        iw = E.mul(inv, E.scalar(1 << w))
        tensor = {"Y": Y, "Z": Z, **row_t}
        gp, gf, gb = _grid(ctx, ctx.label(node.name, "grid"), nt + nv, [
            ([(1, ("eq", "Y", "Y")), (-1, ("eq", "Mc", "Y") if pv is not None else ("eq", "Y"))],
             E.scalar(0)),                                     # booleanity of Y (Mc: padded)
            ([(inv, ("m", "c")), (iw, ("m", "lmu")), (iw, ("m", "off")), (-(1 << w), ("Y", "Z"))],
             E.add(E.scalar(L * D - D // 2), vL))], grid_tables, pub,       # the loss sum
            [r for r, t in tensor.items() if t in ctx.hide], bL)
        claims += [ctx.claim(Y, gp, gf["Y"], gb["Y"]), ctx.claim(Z, gp, gf["Z"], gb["Z"])]
        claims += [ctx.claim(t, gp[nv:], gf[r], gb[r]) for r, t in row_t.items()]
        # m_t = Σ_v Y_tv at ρ_t;  Σ_t m_t = N
        claims += einsum(ctx, node.name, "tv->t", [Y], rp, at[m].value, sizes=sz)
        claims += einsum(ctx, node.name, "t->", [m], none, E.scalar(N), sizes=sz)
        if vG is not None:
            claims.append(ctx.claim(names["rL"], none, vL))
            claims.append(ctx.claim(names["gL"], none, vG))
        return claims   # the log and exponent lookups: `lookups`


def _grid(ctx, label: str, num_vars: int, relations, tables, public, hide, blind):
    """The grid zero-check (`relations.zerocheck_hidden`: the finals of the tables named
    in ``hide`` hidden, in a blind-aware run of a ZK session): returns (point, values,
    blinds).  With ``blind`` (zero knowledge: the loss sum's value holds the masked
    r̃L + B) the claim carries the unknown α·B (the loss sum is relation 1), so the
    sumcheck is always `zk.run_hidden` with that input blind (docs/zero-knowledge.md
    §5.1, "Carrying an unknown through a sumcheck")."""
    hide = hide if ctx.carries_blinds else []
    return zerocheck_hidden(ctx, label, num_vars, relations, tables, public, hide,
                            blinds=[(), blind] if blind else ())


def add_cross_entropy(g, name: str, Z: str, labels: str, *, loss: int, num_tokens: int,
                      scale: int = 16, exp_scale: int = 18, digit_bits: int = 14,
                      mantissa_bits: int | None = None, limb_bits: int = 16,
                      vocab: int | None = None) -> str:
    """Add the softmax over the vocabulary and the cross-entropy node; returns the name
    of the public loss tensor ``{name}/loss`` (shape (1,), value ``loss``), which is
    appended to ``g.outputs``.  ``loss`` and ``num_tokens`` come from
    `cross_entropy_value` on the integer logits (the prover runs the forward first).

    Z (…, V) at ``scale``; labels (…) committed, aligned with Z's rows (already
    shifted for causal LM), −100 = ignored.  The softmax node ``{name}/softmax`` keeps
    P (for dlogits = (P − Y)/N) and ``{name}/Y`` is the committed one-hot of the labels.
    ``vocab`` (default V): the true vocabulary of padded logits — columns v ≥ vocab take
    no softmax mass and no label (module doc); pass the same to `cross_entropy_value`.
    """
    zs = tuple(g.tensors[Z].shape)
    rows = zs[:-1]
    if tuple(g.tensors[labels].shape) != rows:
        raise ConfigError(f"cross-entropy {name}: labels shape {g.tensors[labels].shape} "
                          f"does not match the logits' rows {rows}")
    w = exp_scale - scale
    if not 0 <= w <= 8:
        raise ConfigError(f"cross-entropy {name}: exp_scale − scale must be in [0, 8]")
    V = int(zs[-1])
    if mantissa_bits is None:
        mantissa_bits = default_mantissa_bits(V, scale, limb_bits)
    if scale + mle.log2_exact(V) - mantissa_bits > limb_bits:
        raise ConfigError(f"cross-entropy {name}: vocabulary too large for "
                          f"{mantissa_bits} mantissa bits")
    if vocab is not None and not 1 <= int(vocab) <= V:
        raise ConfigError(f"cross-entropy {name}: vocab {vocab} must be in [1, {V}]")
    pv = None if vocab is None or int(vocab) == V else int(vocab)
    sm = builder("softmax")(g, f"{name}/softmax", Z, scale=scale, shift=w, kappa=1 << w,
                            digit_bits=digit_bits, exp_scale=exp_scale, limb_bits=limb_bits,
                            vocab=pv)
    et = exponent_table(mantissa_bits, scale)
    offs = et.columns()[2]
    q = mantissa_bits
    bounds = {"Y": (0, 1), "m": (0, 1), "k": (0, et.size - 1), "pow": (1, 1 << (et.size - 1)),
              "off": (int(offs.min()), int(offs.max())), "mu": (1 << q, (1 << (q + 1)) - 1),
              "lmu": (0, math.ceil(math.log(2) * (1 << scale))),
              **{r: (0, (1 << limb_bits) - 1) for r in ("rho", "gam", "rL", "gL")}}
    outs = [g.tensor(f"{name}/loss", (1,), "public", value=torch.tensor([int(loss)]))]
    for r in ROLES[1:]:
        shape = zs if r == "Y" else (1,) if r in ("rL", "gL") else rows
        outs.append(g.tensor(f"{name}/{r}", shape, "committed", bounds[r]))
    g.op("cross_entropy", name, [Z, labels, sm["c"], sm["S"]], outs, scale=scale, shift=w,
         mantissa_bits=mantissa_bits, num_tokens=int(num_tokens), limb_bits=limb_bits,
         **({} if pv is None else {"vocab": pv}))
    if outs[0] not in g.outputs:
        g.outputs.append(outs[0])
    return outs[0]


@hookimpl
def zk_ops():
    return [CrossEntropy()]


@hookimpl
def zk_builders():
    return [Builder("cross_entropy", add_cross_entropy,
                    "mean causal-LM cross-entropy (add_cross_entropy)")]
