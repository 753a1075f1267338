"""Deliberately wrong versions of the example ops: each must FAIL the op conformance
suite (tests/test_writing_an_op.py).

* ``square_off_by_one`` — forward computes X ⊙ X but the relation claims
  Y = X ⊙ X + 1 (the sumcheck is run on Ỹ(r) − 1): the honest proof does not verify.
* ``square_unchecked`` — "forgets" the sumcheck: it only reveals X̃(r) at the output's
  point, so nothing ties Y to X and a tampered Y is accepted.
* ``relu_no_y_range`` — ReLU without the range check Y ∈ [0, hi]: every one-element
  tamper is still rejected, but a coordinated cheat (selector 1 everywhere, Y = X for
  negative X) is accepted; the suite's bounds check catches the missing range check.
"""

from __future__ import annotations

from zklora.zkcore import mle
from zklora.zkcore.hookspecs import hookimpl

from .square_relu import Relu, Square, _one_to_one


class SquareOffByOne(Square):
    """Claims Y = X ⊙ X + 1 while forward computes X ⊙ X."""

    name = "square_off_by_one"

    def relations(self, ctx, node, out_claims):
        X, Y = _one_to_one(node)
        c = out_claims[Y]
        E = ctx.E
        point, finals = ctx.run_sumcheck(
            f"{node.name}/square", ctx.spec(X).num_vars, [(1, (0, 1, 1))],
            E.sub(c.value, E.scalar(1)),
            lambda: [mle.eq_table(E, c.point), ctx.ext_table(X)],
            public={0: lambda p: mle.eq_eval(E, c.point, p)})
        return [ctx.claim(X, point, finals[1])]


class SquareUnchecked(Square):
    """Reveals X̃ at the output's point and checks nothing."""

    name = "square_unchecked"

    def relations(self, ctx, node, out_claims):
        X, Y = _one_to_one(node)
        ctx.reveal(f"{node.name}/x", [X], out_claims[Y].point)
        return []


class ReluNoYRange(Relu):
    """ReLU missing its range check on Y."""

    name = "relu_no_y_range"

    @staticmethod
    def ranges(ctx, node, Y, T, lo, hi):
        ctx.range(T, 0, -lo - 1, label=f"{node.name}/T")


@hookimpl
def zk_ops():
    return [SquareOffByOne(), SquareUnchecked(), ReluNoYRange()]
