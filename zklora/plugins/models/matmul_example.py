"""``matmul-example``: prove Y = X·W for committed random integer matrices.

The smallest real end-to-end proof: X (m × k) and W (k × n) with entries in
[−bound, bound] drawn from a private seed, Y committed as the graph output.

The statement holds the shapes, the bound and the commitments of X, W and Y (group
``inputs`` / ``outputs`` of `statement_tensors`; `zklora.zkcore.api` commits them and
the proof opens against exactly those), so a verified proof says: the matrices
committed to as X and W have entries in [−bound, bound] (range checks in the proof,
`Graph.prove_bound`) and the matrix committed to as Y is their product.  Y's declared
bound ±k·bound² then follows (and stays below 2^54 < p/2, so Y = X·W over the
integers).  The seed never leaves the prover; anyone holding X, W or Y can recommit it
and compare with the statement.
"""

from __future__ import annotations

import torch

from zklora.zkcore.errors import ConfigError
from zklora.zkcore.graph import Graph
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.model import Model

_KEYS = {"m": 64, "k": 64, "n": 64, "bound": 1024, "seed": 0}
MAX_DIM = 1 << 14


class MatmulExample(Model):
    name = "matmul-example"
    description = "Y = X·W on random committed integer matrices"

    def public_params(self, params):
        for key in params:
            if key not in _KEYS:
                raise ConfigError(f"model: unknown key {key!r}; allowed: {', '.join(_KEYS)}")
        out = {k: params.get(k, v) for k, v in _KEYS.items()}
        for key in ("m", "k", "n"):
            v = out[key]
            if not isinstance(v, int) or isinstance(v, bool) or v < 1 or v > MAX_DIM or v & (v - 1):
                raise ConfigError(f"model.{key}: {v!r} must be a power of two in [1, {MAX_DIM}]")
        b = out["bound"]
        if not isinstance(b, int) or isinstance(b, bool) or not 1 <= b <= 1 << 20:
            raise ConfigError(f"model.bound: {b!r} must be an integer in [1, 2^20]")
        if not isinstance(out["seed"], int) or isinstance(out["seed"], bool):
            raise ConfigError("model.seed: must be an integer")
        del out["seed"]  # private
        return out

    def work_estimate(self, public) -> int:
        """Elements of the graph: X, W, Y (and, as much again, their range checks)."""
        pub = self.public_params(public)
        m, k, n = pub["m"], pub["k"], pub["n"]
        return 2 * (m * k + k * n + m * n)

    def build(self, public):
        m, k, n, b = public["m"], public["k"], public["n"], public["bound"]
        g = Graph()
        g.tensor("X", (m, k), "committed", (-b, b))
        g.tensor("W", (k, n), "committed", (-b, b))
        g.tensor("Y", (m, n), "committed", (-k * b * b, k * b * b))
        g.op("matmul", "y=x@w", ["X", "W"], ["Y"])
        g.outputs = ["Y"]
        g.prove_bound("X")
        g.prove_bound("W")
        return g

    def statement_tensors(self, public):
        """The statement publishes the commitments of X, W and Y."""
        return {"inputs": ["W", "X"], "outputs": ["Y"]}

    def witness(self, params):
        pub = self.public_params(params)
        gen = torch.Generator().manual_seed(int(params.get("seed", 0)))
        b = pub["bound"]
        x = torch.randint(-b, b + 1, (pub["m"], pub["k"]), generator=gen)
        w = torch.randint(-b, b + 1, (pub["k"], pub["n"]), generator=gen)
        return {"X": x, "W": w}


@hookimpl
def zk_models():
    return [MatmulExample()]
