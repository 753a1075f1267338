"""Zero knowledge on vs off, interleaved in one process (issue 15, acceptance 4).

    .venv/bin/python tests/bench/zk_compare.py --rounds 2            # tiny training step
    .venv/bin/python tests/bench/zk_compare.py --rounds 5 --small    # matmul+rescale+lookup
    .venv/bin/python tests/bench/zk_compare.py --rounds 5 --small --profile paper   # hyrax

The tiny training step is the setup of ``tests/bench/test_bench_train.py`` (`_setup`:
tiny LLaMA, batch 4 × 32, one AdamW step, fast profile: goldilocks, ligero,
logup-gkr — both runs with the scheme the profile proves with in zero knowledge, so the
ratio is that of zero knowledge alone; ``--commitment`` overrides it); ``--small``
proves the rescale graph of ``tests/test_rescale_op.py`` under the same profile.
One warm-up proof each way, then ``rounds`` × (off, on): prove wall time, verify wall
time (the median of ``--verify-reps`` verifications, off and on interleaved), proof
bytes; prints one JSON line per proof and the medians and ratios (on / off) at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import attrs

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))

from zklora.zkcore import graph as graphlib  # noqa: E402
from zklora.zkcore import zk  # noqa: E402
from zklora.zkcore.config import PROFILES, ZK_COMMITMENT, resolve  # noqa: E402
from zklora.zkcore.plugins import registry  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--profile", default="fast", choices=sorted(PROFILES),
                    help="proof stack (paper: bls12-381-fr, hyrax, tlookup)")
    ap.add_argument("--verify-reps", type=int, default=1,
                    help="verify each proof this many times (median; off/on proofs' "
                         "verifications interleaved)")
    ap.add_argument("--commitment", default=None,
                    help="commitment scheme of both runs (default: the one the profile "
                         "proves with in zero knowledge, config.ZK_COMMITMENT: ligero for "
                         "fast, whose ZK-off default is WHIR)")
    a = ap.parse_args()
    stack = PROFILES[a.profile]
    scheme = a.commitment or ZK_COMMITMENT.get(a.profile, stack.commitment)
    be = resolve(attrs.evolve(stack, commitment=scheme), registry())
    print(json.dumps({"profile": a.profile, "commitment": scheme}), flush=True)
    if a.small:
        from tests.test_rescale_op import rescale_graph, wit
        g, inputs, statement = rescale_graph(), wit(), {}
    else:
        from tests.bench.test_bench_train import _setup
        _, _, _, _, g, inputs, statement = _setup()
    for on in (False, True):   # warm-up (numba compilation, caches)
        with zk.session(on):
            graphlib.prove(g, inputs, be, statement)
    res: dict[bool, list] = {False: [], True: []}
    for _ in range(a.rounds):
        made = {}
        for on in (False, True):
            with zk.session(on):
                t0 = time.perf_counter()
                made[on] = graphlib.prove(g, inputs, be, statement)
                made[on] += (time.perf_counter() - t0,)
        times: dict[bool, list] = {False: [], True: []}
        for _ in range(max(1, a.verify_reps)):
            for on in (False, True):
                with zk.session(on):
                    t0 = time.perf_counter()
                    graphlib.verify(g, made[on][0], be, statement, made[on][1])
                    times[on].append(time.perf_counter() - t0)
        for on in (False, True):
            stream, _, tp = made[on]
            tv = statistics.median(times[on])
            res[on].append((tp, tv, len(stream)))
            print(json.dumps({"zk": on, "prove": round(tp, 3), "verify": round(tv, 3),
                              "proof": len(stream)}), flush=True)
    med = {on: [statistics.median(x[i] for x in res[on]) for i in range(3)] for on in res}
    names = ("prove", "verify", "proof")
    print(json.dumps({"median_off": dict(zip(names, med[False])),
                      "median_on": dict(zip(names, med[True])),
                      "ratio": {n: round(med[True][i] / med[False][i], 3)
                                for i, n in enumerate(names)}}))


if __name__ == "__main__":
    main()
