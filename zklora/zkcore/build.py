"""What op and model plugins share when they build graphs — in the kernel, so that no
plugin imports another plugin (issue 10).

* **Bounds**: `declared_bound` (a tensor's declared bound, or one derived through
  undeclared linear combinations), `max_abs`, `pow2_bound`, `check_fits`.
* **Rescale**: `add_rescale` / `rescale_node` declare Y = X/2^shift rounded and its
  remainder and add a node of the ``rescale`` op (the relation is proven by the op
  registered under that name; `zklora.zkcore.quant.rescale` is the integer spec).
* **Lookup**: `find_node` (a node by name, e.g. a forward node a backward reads).
* **Named contributions of other plugins**, fetched through the plugin registry by name,
  never by importing the plugin that contributes them:

  - `builder(name)` — a graph builder (or builder-side helper) another plugin publishes
    through the ``zk_builders`` hook as a `Builder`, e.g. ``builder("attention")(g, …)``;
  - `named_table(name, **params)` — a public lookup table of a family contributed
    through ``zk_tables``, e.g. ``named_table("silu", in_scale_bits=8, …)``;
  - `table_bound` — the range of a table's column (the declared bound of a looked-up
    output).

Builders name ops by their registered name (``g.op("rescale", …)``); a graph that uses an
op no plugin registers is refused by `Graph.check` with the registry's error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from .errors import ConfigError
from .graph import Graph
from .lookup import Table
from .op import OpNode
from .quant import SAFE_MAX, Bound

# -- bounds ----------------------------------------------------------------------------

#: ops whose output is a linear combination of their inputs (declared_bound follows them)
_LINEAR = {"add", "sub", "lincomb", "scale"}


def declared_bound(g: Graph, name: str) -> Bound | None:
    """A tensor's declared bound, or one derived from its producer's inputs when it is an
    undeclared linear combination (ops ``add``/``sub``/``lincomb``/``scale``) of tensors
    with bounds; None when there is neither."""
    spec = g.tensors[name]
    if spec.bound is not None:
        return Bound(*spec.bound)
    node = g.producer(name)
    if node is None or node.op not in _LINEAR:
        return None
    if node.op == "lincomb":
        cs = [int(c) for c in node.params["coeffs"]]
    elif node.op == "scale":
        cs = [int(node.params["c"])]
    elif node.op == "sub":
        cs = [1, -1]
    else:
        cs = [1] * len(node.inputs)
    acc = Bound(0, 0)
    for c, x in zip(cs, node.inputs):
        b = declared_bound(g, x)
        if b is None:
            return None
        acc = acc + b * c
    return acc


def pow2_bound(max_abs: int) -> tuple[int, int]:
    """The smallest (−2^(b−1), 2^(b−1) − 1) ⊇ [−max_abs, max_abs]: a power-of-two
    width, so its range check is one-sided (full limbs plus one narrower top limb)."""
    b = int(max_abs).bit_length() + 1
    return (-(1 << (b - 1)), (1 << (b - 1)) - 1)


def max_abs(bound: tuple[int, int] | None, what: str) -> int:
    """max(|lo|, |hi|) of a bound; a `ConfigError` naming ``what`` when there is none."""
    if bound is None:
        raise ConfigError(f"{what} needs a declared bound")
    return max(abs(int(bound[0])), abs(int(bound[1])))


def check_fits(node: str, what: str, value: int, limit: int = SAFE_MAX) -> None:
    """`ConfigError` naming ``node`` unless ``value`` < ``limit`` (p/2 of the field, or
    the int64/Goldilocks safe range)."""
    if value >= limit:
        raise ConfigError(f"{node}: {what} may reach ≈2^{value.bit_length()}, not below "
                          f"the safe bound ≈2^{limit.bit_length()}; lower the declared "
                          "bounds or the scales")


# -- rescale -----------------------------------------------------------------------------


def add_rescale(g: Graph, node: str, X: str, shift: int, bound, *, y: str, r: str,
                derived: bool = False) -> str:
    """Declare Y = X/2^shift rounded (committed, declared ``bound``: a (lo, hi) pair or a
    `zklora.zkcore.quant.Bound`) and its remainder R (committed, [0, 2^shift)) as tensors
    named ``y`` and ``r``, and the ``rescale`` node ``node``; returns Y.

    ``derived``: ``bound`` contains ⌊(x + 2^(shift−1))/2^shift⌋ for every value x that
    X can take when the inputs of X's producer lie in their declared (or proven)
    bounds — the builder derived it, it asserts nothing — so the op may check Y in a
    wider power-of-two box, one-sided (`zklora.plugins.ops.rescale`, docs/soundness.md
    §3.1).  Leave it False for a bound that clamps (an activation bound)."""
    shape = g.tensors[X].shape
    b = bound.as_tuple() if hasattr(bound, "as_tuple") else tuple(bound)
    g.tensor(y, shape, "committed", b)
    g.tensor(r, shape, "committed", (0, (1 << shift) - 1))
    extra = {"derived": True} if derived else {}
    g.op("rescale", node, [X], [y, r], shift=int(shift), **extra)
    return y


def rescale_node(g: Graph, name: str, X: str, shift: int, bound, *,
                 derived: bool = False) -> str:
    """``{name}`` = X/2^shift rounded (committed, ``bound``), remainder ``{name}_R``,
    node ``{name}/rescale`` (``derived``: see `add_rescale`)."""
    return add_rescale(g, f"{name}/rescale", X, shift, bound, y=name, r=f"{name}_R",
                       derived=derived)


# -- graph lookups -----------------------------------------------------------------------


def find_node(g: Graph, name: str) -> OpNode:
    """The node called ``name``; a `ConfigError` if the graph has none."""
    for n in g.nodes:
        if n.name == name:
            return n
    raise ConfigError(f"graph has no node {name!r} (is the forward op declared?)")


# -- contributions of other plugins, by name -----------------------------------------------


@attrs.frozen
class Builder:
    """A named graph builder (or builder-side helper) a plugin publishes through the
    ``zk_builders`` hook so that other plugins call it without importing its module.
    Calling the `Builder` calls ``fn``."""

    name: str
    fn: Callable[..., Any]
    doc: str = ""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)


def builder(name: str) -> Callable[..., Any]:
    """The builder published under ``name`` (hook ``zk_builders``) in the process-wide
    registry; a `zklora.zkcore.errors.PluginError` listing the registered ones if none."""
    from .plugins import registry

    return registry().get("builder", name).fn


def named_table(name: str, **params: Any) -> Table:
    """The public table ``name(**params)`` of a family contributed through ``zk_tables``
    (``registry().table(name).build(**params)``; built deterministically and cached)."""
    from .plugins import registry

    return registry().table(name).build(**params)


def table_bound(t: Table, column: int = 1) -> Bound:
    """The range [min, max] of a table's column (default: the output column of a
    two-column function table)."""
    c = t.columns()[column]
    return Bound(int(c.min()), int(c.max()))
