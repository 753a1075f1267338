"""Does the RMSNorm backward's dX fit in ONE rounding? (s36h1; not a test)

For every `add_rmsnorm_backward` of a model's training graph, prints the bound of the
one-rounding product u·r (dX = ⌊u·r/2^s_r⌉, r = rM·H the forward's pinned per-row
rsqrt): r_pin·max|u| (`r_pinned_max`, u's declared bound), against what the field allows
(`SAFE_MAX` ≈ 2^63 for Goldilocks: a larger product may wrap, and then (dX, R) no longer
pins dX), next to today's two-step product w·H (≈ r_pin·max|u|/2^k), and the bits of 2^s_r/H at
the largest exponent e (the widest remainder of a per-row variable-shift rounding
dX = ⌊u·rM/2^(s_r − shift + e)⌉, the alternative docs/perf notes sketch).  Builds the graph
and stops before the witness (a `_Stop` raised from ``graph.forward``); tiny proves
nothing either.

    .venv/bin/python tests/bench/s36h1_one_rounding_fit.py [tiny 25m 84m]
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from zklora.plugins.ops import rmsnorm_backward as rb  # noqa: E402
from zklora.zkcore import graph as graphlib  # noqa: E402
from zklora.zkcore.quant import SAFE_MAX  # noqa: E402


class _Stop(Exception):
    pass


def rows(size: str) -> list[dict]:
    out: list[dict] = []
    orig = rb.rmsnorm_backward_bounds

    def spy(name, pl, dy, gamma, n, o=None):
        b = orig(name, pl, dy, gamma, n, o)
        r_pin = rb.r_pinned_max(pl)
        out.append({"name": name, "d": pl.n_true, "s_r": pl.r_scale, "k": b.k,
                    "r_pin": r_pin, "u": b.u.max_abs, "one": r_pin * b.u.max_abs,
                    "two": b.dx2.max_abs, "dX": b.dx.max_abs,
                    "pbits": pl.r_scale - pl.shift + pl.e_max})
        return b

    def stop(*a, **k):
        raise _Stop

    rb.rmsnorm_backward_bounds = spy
    saved = graphlib.forward, graphlib._forward
    graphlib.forward = graphlib._forward = stop
    try:
        from zklora.zkcore import bench, pyapi
        with tempfile.TemporaryDirectory() as tmp:
            try:
                if size == "tiny":
                    pyapi.prove(task="train", model="tiny", zero_knowledge=False)
                else:
                    shape = bench.SIZES[size]
                    batch, seq = bench.batch_seq(size)
                    m, ad = bench._write_checkpoint(Path(tmp), shape)
                    pyapi.prove(model=str(m), adapter=str(ad), steps=1, profile="fast",
                                zero_knowledge=False,
                                config={"task": {"model": "llama-train"},
                                        "model": {"batch": batch, "seq": seq}},
                                out=Path(tmp) / "p.zkp")
            except _Stop:
                pass
    finally:
        rb.rmsnorm_backward_bounds = orig
        graphlib.forward, graphlib._forward = saved
    return out


def main(argv: list[str]) -> None:
    lim = math.log2(SAFE_MAX)
    for size in argv or ["tiny", "25m", "84m"]:
        rs = rows(size)
        print(f"{size}: {len(rs)} RMSNorm backwards; limit SAFE_MAX = 2^{lim:.2f}")
        print("  name | d | s_r | k | r_pin | max|u| | u·r (one rounding) | w·H (two-step) "
              "| max|dX| | one fits | bits of 2^s_r/H_min")
        for r in rs:
            lg = {k: math.log2(r[k]) for k in ("r_pin", "u", "one", "two", "dX")}
            print(f"  {r['name']} | {r['d']} | {r['s_r']} | {r['k']} | 2^{lg['r_pin']:.1f} | "
                  f"2^{lg['u']:.1f} | 2^{lg['one']:.1f} | 2^{lg['two']:.1f} | "
                  f"2^{lg['dX']:.1f} | {r['one'] <= SAFE_MAX} | {r['pbits']}")


if __name__ == "__main__":
    main(sys.argv[1:])
