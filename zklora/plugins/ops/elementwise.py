"""Element-wise ops: linear combinations (``add``, ``sub``, ``scale``, ``lincomb``) and
the Hadamard product (``hadamard``), with numpy-style broadcasting.

Broadcasting (§3.2): inputs are aligned to the output shape from the right (missing
leading axes count as size 1); an input of size 1 on an axis the output has is
broadcast along it.  Since Σ over a broadcast axis' bits of eq(r, ·) is 1, the MLE of a
broadcast input at the output point r is the input's MLE at r *without that axis'
coordinates*: `coords` lists the output coordinates an input keeps.

Relations proven, for a claim Ỹ(r) = v on the output:

* ``lincomb`` Y = Σ_i c_i·X_i (public integers c_i, nonzero mod p; ``add`` is all
  c_i = 1, ``sub`` is (1, −1), ``scale`` is one input with c):
  v = Σ_i c_i·X̃_i(r|X_i).  No sumcheck: the prover sends X̃_i(r|X_i) for every input
  but the last, whose value the verifier derives as (v − Σ_{i<n} c_i v_i)/c_n.  The
  output is one claim per input.
* ``hadamard`` Y = X1 ⊙ X2.  Split the output's coordinates into A (axes both inputs
  have), D1 (axes only X1 has: X2 is broadcast there) and D2 (only X2 has).  As
  eq(r, x) = eq(r_A, a)·eq(r_D1, d1)·eq(r_D2, d2),

      v = Σ_{a∈{0,1}^|A|} eq(r_A, a) · F1(a) · F2(a),
      F1(a) = X̃1(a, r_D1),  F2(a) = X̃2(a, r_D2),

  i.e. each input is first folded on its exclusive coordinates at r, then one
  degree-3 sumcheck over A (eq is public: the verifier evaluates eq(r_A, r'_A)).  The
  output is the claims X̃1(r'_A, r_D1) = F1(r'_A), X̃2(r'_A, r_D2) = F2(r'_A).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np
import torch

from zklora.zkcore import mle
from zklora.zkcore.errors import ProverError
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.op import NoParams, Op, param
from zklora.zkcore.quant import SAFE_MAX
from zklora.zkcore.relations import error


def aligned(shape: Sequence[int], ndim: int) -> tuple[int, ...]:
    """``shape`` left-padded with 1s to ``ndim`` axes."""
    if len(shape) > ndim:
        raise ValueError(f"shape {tuple(shape)} has more axes than the output ({ndim})")
    return (1,) * (ndim - len(shape)) + tuple(int(d) for d in shape)


def axis_kinds(in_shape: Sequence[int], out_shape: Sequence[int]) -> list[bool]:
    """For each output axis whether the input has it (True) or is broadcast along it;
    ValueError if ``in_shape`` does not broadcast to ``out_shape``."""
    a = aligned(in_shape, len(out_shape))
    kinds = []
    for ax, (di, do) in enumerate(zip(a, out_shape)):
        if di == do:
            kinds.append(True)
        elif di == 1:
            kinds.append(False)
        else:
            raise ValueError(f"shape {tuple(in_shape)} does not broadcast to {tuple(out_shape)} "
                             f"(axis {ax}: {di} vs {do})")
    return kinds


def coords(in_shape: Sequence[int], out_shape: Sequence[int]) -> list[int]:
    """Output point coordinates owned by the axes the input has, ascending: the input's
    point is ``r[coords(...)]``."""
    ov = mle.axis_vars(out_shape)
    kinds = axis_kinds(in_shape, out_shape)
    return sorted(c for ax, k in enumerate(kinds) if k for c in ov[ax])


def fold_axes(E, table: np.ndarray, shape: Sequence[int], fold: Sequence[int],
              point: np.ndarray) -> np.ndarray:
    """Partially evaluate the MLE of a base-field ``table`` of ``shape`` on the axes
    ``fold`` at ``point`` (coordinates of those axes, ascending as in the full point).

    Returns a challenge-field table over the remaining axes, in their order.
    """
    fold = sorted(fold)
    if not fold or all(int(shape[a]) == 1 for a in fold):
        return mle.lift(E, table, base=True)
    rest = [a for a in range(len(shape)) if a not in fold]
    t = np.asarray(table).reshape(tuple(int(d) for d in shape))
    t = np.ascontiguousarray(np.transpose(t, fold + rest))
    rows = int(np.prod([shape[a] for a in fold]))
    return E.vecmat(mle.eq_table(E, point), t.reshape(rows, -1))


def _broadcasts(node, specs) -> None:
    """ValueError unless every input broadcasts to the output's shape."""
    for x in node.inputs:
        axis_kinds(specs[x].shape, specs[node.outputs[0]].shape)


def _check_fits(name: str, bound_abs: int) -> None:
    if bound_abs > SAFE_MAX:
        raise ProverError(f"op {name}: result may reach {bound_abs}, outside the safe "
                          f"integer range ±{SAFE_MAX}")


def _max_abs(x: torch.Tensor) -> int:
    return int(x.abs().max()) if x.numel() else 0


# -- linear combinations ---------------------------------------------------------------


class LinComb(Op):
    """Y = Σ_i c_i·X_i with public integer coefficients (see module doc)."""

    name = "lincomb"
    input_roles = ("X*",)
    output_roles = ("Y",)

    @attrs.frozen
    class Params:
        coeffs: tuple[int, ...] = param("ints", doc="one per input")

    def coeffs(self, node) -> list[int]:
        return list(self.params(node).coeffs)

    def validate(self, node, params, specs):
        cs = self.coeffs(node)
        if len(cs) != len(node.inputs):
            raise ValueError(f"{len(cs)} coefficients for {len(node.inputs)} inputs")
        _broadcasts(node, specs)

    def _checked(self, ctx, node) -> list[int]:
        cs = self.coeffs(node)
        for c in cs:
            if c % ctx.F.p == 0:
                raise error(ctx, f"op {node.name}: coefficient {c} is zero mod p")
        return cs

    def forward(self, node, inputs):
        cs = self.coeffs(node)
        _check_fits(node.name, sum(abs(c) * _max_abs(x) for c, x in zip(cs, inputs)))
        y = None
        for c, x in zip(cs, inputs):
            t = x if c == 1 else x * c
            y = t if y is None else y + t
        return [y]

    def _points(self, ctx, node, claim):
        out = ctx.spec(node.outputs[0]).shape
        return [claim.point[coords(ctx.spec(x).shape, out)] for x in node.inputs]

    def _last(self, ctx, cs, v, vals):
        E = ctx.E
        acc = v
        for c, u in zip(cs[:-1], vals):
            acc = E.sub(acc, E.mul(E.scalar(c), u))
        inv = E.inv(E.scalar(cs[-1]).reshape((1,) + E.elem_shape))[0]
        return E.mul(acc, inv)

    def relations(self, ctx, node, out_claims):
        """v = Σ_i c_i·X̃_i(r|X_i): the values of all inputs but the last are sent, the
        last is derived."""
        (claim,) = out_claims.values()
        cs = self._checked(ctx, node)
        pts = self._points(ctx, node, claim)
        n = len(node.inputs) - 1
        got = ctx.exchange(f"{node.name}/lincomb", n, lambda: np.stack(
            [ctx.evaluate(x, p) for x, p in zip(node.inputs[:-1], pts[:-1])])) if n else []
        vals = [got[i] for i in range(n)]
        last = self._last(ctx, cs, claim.value, vals)
        return [ctx.claim(x, p, u) for x, p, u in zip(node.inputs, pts, vals + [last])]


class Add(LinComb):
    """Y = X1 + X2 (+ …), with broadcasting."""

    name = "add"
    Params = NoParams

    def coeffs(self, node):
        return [1] * len(node.inputs)


class Sub(LinComb):
    """Y = X1 − X2, with broadcasting."""

    name = "sub"
    input_roles = ("A", "B")
    Params = NoParams

    def coeffs(self, node):
        return [1, -1]


class Scale(LinComb):
    """Y = c·X for a public integer c (param ``c``, nonzero mod p)."""

    name = "scale"
    input_roles = ("X",)

    @attrs.frozen
    class Params:
        c: int = param("int", doc="nonzero mod p")

    def coeffs(self, node):
        return [self.params(node).c]


# -- Hadamard product ------------------------------------------------------------------


class Hadamard(Op):
    """Y = X1 ⊙ X2 with broadcasting (see module doc for the relation)."""

    name = "hadamard"
    input_roles = ("X1", "X2")
    output_roles = ("Y",)
    Params = NoParams

    def validate(self, node, params, specs):
        _broadcasts(node, specs)

    def forward(self, node, inputs):
        x1, x2 = inputs
        _check_fits(node.name, _max_abs(x1) * _max_abs(x2))
        return [x1 * x2]

    @staticmethod
    def _layout(ctx, node):
        """Output coords of A, D1, D2 and, per input, (aligned shape, folded axes)."""
        out = tuple(ctx.spec(node.outputs[0]).shape)
        shapes = [aligned(ctx.spec(x).shape, len(out)) for x in node.inputs]
        k1, k2 = (axis_kinds(s, out) for s in shapes)
        ov = mle.axis_vars(out)
        both = sorted(c for ax in range(len(out)) if k1[ax] and k2[ax] for c in ov[ax])
        only = []
        folds = []
        for mine, other in ((k1, k2), (k2, k1)):
            axes = [ax for ax in range(len(out)) if mine[ax] and not other[ax] and out[ax] > 1]
            only.append(sorted(c for ax in axes for c in ov[ax]))
            folds.append(axes)
        return both, only, shapes, folds

    @staticmethod
    def _claims(ctx, node, r, rA, both, only, finals):
        full = r.copy()
        if both:
            full[both] = rA
        out = []
        for x, d, f in zip(node.inputs, only, finals):
            out.append(ctx.claim(x, full[sorted(both + d)], f))
        return out

    def relations(self, ctx, node, out_claims):
        """v = Σ_a eq(r_A, a)·F1(a)·F2(a) with the inputs folded on their exclusive
        coordinates (module doc): one degree-3 sumcheck, eq public."""
        (claim,) = out_claims.values()
        E = ctx.E
        r = claim.point
        both, only, shapes, folds = self._layout(ctx, node)
        r_both = r[both]

        def tables():
            return [mle.eq_table(E, r_both)] + [
                fold_axes(E, ctx.table(x), s, f, r[d])
                for x, s, f, d in zip(node.inputs, shapes, folds, only)]

        rA, finals = ctx.run_sumcheck(f"{node.name}/hadamard", len(both), [(1, (0, 1, 2))],
                                      claim.value, tables,
                                      public={0: lambda p: mle.eq_eval(E, r_both, p)})
        return self._claims(ctx, node, r, rA, both, only, finals[1:])


@hookimpl
def zk_ops():
    return [LinComb(), Add(), Sub(), Scale(), Hadamard()]
