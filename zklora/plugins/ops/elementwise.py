"""Element-wise ops: linear combinations (``add``, ``sub``, ``scale``, ``lincomb``) and
the Hadamard product (``hadamard``), with numpy-style broadcasting.

Broadcasting (§3.2): inputs are aligned to the output shape from the right (missing
leading axes count as size 1); an input of size 1 on an axis the output has is
broadcast along it.  Since Σ over a broadcast axis' bits of eq(r, ·) is 1, the MLE of a
broadcast input at the output point r is the input's MLE at r *without that axis'
coordinates* (`zklora.zkcore.einsum.sub_point`).

Relations proven, for a claim Ỹ(r) = v on the output:

* ``lincomb`` Y = Σ_i c_i·X_i (public integers c_i, nonzero mod p; ``add`` is all
  c_i = 1, ``sub`` is (1, −1), ``scale`` is one input with c):
  v = Σ_i c_i·X̃_i(r|X_i).  No sumcheck: the prover sends X̃_i(r|X_i) for every input
  but the last, whose value the verifier derives as (v − Σ_{i<n} c_i v_i)/c_n.  The
  output is one claim per input.
* ``hadamard`` Y = X1 ⊙ X2: the einsum of the broadcast letters (``"abc,c->abc"``,
  `zklora.zkcore.einsum.broadcast`).  Output coordinates both inputs have (A) become
  the variables of one degree-3 sumcheck with an eq(r_A, ·) factor; each input is
  first folded at r on the coordinates only it has:

      v = Σ_{a∈{0,1}^|A|} eq(r_A, a) · X̃1(a, r_D1) · X̃2(a, r_D2),

  and the output is the claims X̃1(r'_A, r_D1), X̃2(r'_A, r_D2) at the sumcheck point.
"""

from __future__ import annotations

import attrs
import numpy as np
import torch

from zklora.kernels.int_gemm import minmax_i64
from zklora.zkcore import mle
from zklora.zkcore import zk as zklib
from zklora.zkcore.claims import blind_value, scale_blind
from zklora.zkcore.einsum import broadcast, einsum, sub_point
from zklora.zkcore.errors import ProverError
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.op import ABSORB, PASS, NoParams, Op, param
from zklora.zkcore.quant import SAFE_MAX
from zklora.zkcore.relations import error


def _broadcasts(node, specs) -> None:
    """ValueError unless every input broadcasts to the output's shape."""
    broadcast([specs[x].shape for x in node.inputs], specs[node.outputs[0]].shape)


def _check_fits(name: str, bound_abs: int) -> None:
    if bound_abs > SAFE_MAX:
        raise ProverError(f"op {name}: result may reach {bound_abs}, outside the safe "
                          f"integer range ±{SAFE_MAX}")


def _max_abs(x: torch.Tensor) -> int:
    """max |x| (0 for an empty tensor): over a contiguous int64 CPU tensor from
    `int_gemm.minmax_i64` (one vectorised pass, no |x| temporary; exact as Python ints)."""
    if not x.numel():
        return 0
    if x.dtype == torch.int64 and x.is_cpu and x.is_contiguous():
        lo, hi = minmax_i64(x.detach().numpy().reshape(-1))
        return max(-int(lo), int(hi))
    return int(x.abs().max())


# -- linear combinations ---------------------------------------------------------------


class LinComb(Op):
    """Y = Σ_i c_i·X_i with public integer coefficients (see module doc)."""

    name = "lincomb"
    input_roles = ("X*",)
    output_roles = ("Y",)
    #: zero knowledge: the values sent masked and the claim's blind carried to the last
    #: input's claim (`relations`)
    zk_blinds = PASS

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
        ins, out, sizes = broadcast([ctx.spec(x).shape for x in node.inputs],
                                    ctx.spec(node.outputs[0]).shape)
        return [sub_point(claim.point, out, t, sizes) for t in ins]

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
        E = ctx.E
        # zero knowledge (`ctx.carries_blinds`): X̃_i + ν_i sent for the inputs that may
        # carry blinds (`ctx.hide`); the last input's claim then carries
        # (B − Σ_i c_i·ν_i)/c_n, B the output claim's blind
        nus = [(zklib.fresh_nu(ctx),) if ctx.zk is not None and ctx.carries_blinds
               and x in ctx.hide and zklib.room(ctx, 1) else () for x in node.inputs[:-1]]
        got = ctx.exchange(f"{node.name}/lincomb", n, lambda: np.stack(
            [E.add(ctx.evaluate(x, p), blind_value(ctx, b)) if b else ctx.evaluate(x, p)
             for x, p, b in zip(node.inputs[:-1], pts[:-1], nus)])) if n else []
        vals = [got[i] for i in range(n)]
        last = self._last(ctx, cs, claim.value, vals)
        inv = E.inv(E.scalar(cs[-1]).reshape((1,) + E.elem_shape))[0]
        bl = scale_blind(E, ctx.blind_of(claim.point, claim.value), inv)
        for c, b in zip(cs[:-1], nus):
            bl += scale_blind(E, b, E.sub(E.scalar(0), E.mul(E.scalar(c), inv)))
        return [ctx.claim(x, p, u, b) for x, p, u, b in
                zip(node.inputs, pts, vals + [last], [*nus, bl])]


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
    #: zero knowledge: a blinded claim on Y ends in the einsum's hidden sumcheck (none
    #: without a coordinate both inputs have: `blinds`)
    zk_blinds = ABSORB

    def blinds(self, node, specs):
        ins, _, sizes = broadcast([specs[x].shape for x in node.inputs],
                                  specs[node.outputs[0]].shape)
        shared = set(ins[0]) & set(ins[1])
        return ABSORB if sum(mle.log2_exact(int(sizes[ch])) for ch in shared) else None

    def validate(self, node, params, specs):
        _broadcasts(node, specs)

    def forward(self, node, inputs):
        x1, x2 = inputs
        _check_fits(node.name, _max_abs(x1) * _max_abs(x2))
        return [x1 * x2]

    def relations(self, ctx, node, out_claims):
        """The einsum of the broadcast letters (module doc): one degree-3 sumcheck over
        the coordinates both inputs have, each input folded on its own."""
        (c,) = out_claims.values()
        ins, out, sizes = broadcast([ctx.spec(x).shape for x in node.inputs],
                                    ctx.spec(node.outputs[0]).shape)
        return einsum(ctx, node.name, f"{','.join(ins)}->{out}", node.inputs, c.point, c.value,
                      sizes=sizes)


@hookimpl
def zk_ops():
    return [LinComb(), Add(), Sub(), Scale(), Hadamard()]
