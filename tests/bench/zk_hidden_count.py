"""How many of the tiny training step's tensors may carry blinds in a ZK proof
(docs/zero-knowledge.md §5.1, `graph._hidden_tensors`), and, per producing op kind, how
many do not.

    .venv/bin/python tests/bench/zk_hidden_count.py            # prove once with ZK, count
    .venv/bin/python tests/bench/zk_hidden_count.py --verify   # ... and verify it
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from unittest import mock

import attrs

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))

from zklora.zkcore import graph as graphlib  # noqa: E402
from zklora.zkcore import zk  # noqa: E402
from zklora.zkcore.config import PROFILES, ZK_COMMITMENT, resolve  # noqa: E402
from zklora.zkcore.plugins import registry  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--verify", action="store_true")
    a = ap.parse_args()
    stack = PROFILES["fast"]
    be = resolve(attrs.evolve(stack, commitment=ZK_COMMITMENT.get("fast", stack.commitment)),
                 registry())
    from tests.bench.test_bench_train import _setup
    _, _, _, _, g, inputs, statement = _setup()
    seen = []
    orig = graphlib._hidden_tensors

    def spy(*args, **kw):
        out = orig(*args, **kw)
        seen.append(out)
        return out

    used: dict[str, list[int]] = {}
    alloc = zk.MaskPool.allocate

    def counting(self, ctx, n, degree):   # slots taken per pool, groups committed
        reg = alloc(self, ctx, n, degree)
        if ctx.prover:
            u = used.setdefault(self.prefix, [0, 0])
            u[0] += 1
            u[1] = self.groups
        return reg

    with zk.session(), mock.patch.object(graphlib, "_hidden_tensors", spy), \
            mock.patch.object(zk.MaskPool, "allocate", counting):
        proof, sections = graphlib.prove(g, inputs, be, statement)
    print(json.dumps({"slots_taken_and_groups_per_pool": used}))
    hide = seen[0]
    producers = {}
    for node in reversed(g.nodes):
        for o in node.outputs:
            producers[o] = node.op
    eligible = {t for t, s in g.tensors.items() if s.kind in ("committed", "virtual")}
    missing = Counter(producers.get(t, "-") for t in eligible - hide)
    hidden = Counter(producers.get(t, "-") for t in hide)
    print(json.dumps({"tensors": len(g.tensors), "committed_or_virtual": len(eligible),
                      "may_carry_blinds": len(hide), "proof_bytes": len(proof),
                      "not_by_producer": dict(missing.most_common()),
                      "carrying_by_producer": dict(hidden.most_common())}, indent=1))
    if a.verify:
        with zk.session():
            graphlib.verify(g, proof, be, statement, sections)
        print("verified")


if __name__ == "__main__":
    main()
