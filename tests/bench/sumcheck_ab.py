"""The tiny training step proven with the fused sumcheck rounds and without them,
interleaved in one process (issue 13; not a test).

    python tests/bench/sumcheck_ab.py [--rounds R] [--replay-repeat K]

Proves the tiny step of ``tests/bench/test_bench_train.py`` (fast profile) with
`zklora.zkcore.sumcheck.FUSED` off (the rounds before issue 13) and on, alternately,
``R`` times each after one warm-up of each, checks the proofs are byte-identical, and
prints one JSON line: per mode the median prove wall and CPU seconds (process CPU, all
threads), the median time spent inside `sumcheck.prove`, and the sumcheck calls and
rounds.  Then replays every recorded sumcheck call (`tests/bench/sumcheck_profile.py`)
``K`` times per mode, interleaved: sumcheck-only wall, time in numba kernels and the
Python time per round.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.getcwd())


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--replay-repeat", type=int, default=5)
    a = ap.parse_args(argv)

    from tests.bench import sumcheck_profile as SP
    from tests.bench.test_bench_train import _setup
    from zklora.zkcore import graph as graphlib
    from zklora.zkcore import sumcheck as SC
    from zklora.zkcore.config import PROFILES, resolve
    from zklora.zkcore.plugins import registry

    be = resolve(PROFILES["fast"], registry())
    spec, ck, ad, ids, g, inputs, statement = _setup()
    orig = SC.prove
    acc = {"t": 0.0, "calls": 0, "rounds": 0}

    def timed(*args, **kw):
        t0 = time.perf_counter()
        out = orig(*args, **kw)
        acc["t"] += time.perf_counter() - t0
        acc["calls"] += 1
        acc["rounds"] += len(out[0])
        return out

    modes = {"unfused": False, "fused": True}
    res = {m: {"wall": [], "cpu": [], "sumcheck": []} for m in modes}
    proofs = {}
    SC.prove = timed
    try:
        for m, flag in modes.items():  # warm-up
            SC.FUSED = flag
            proofs[m] = graphlib.prove(g, inputs, be, statement)[0]
        for _ in range(a.rounds):
            for m, flag in modes.items():
                SC.FUSED = flag
                acc.update(t=0.0, calls=0, rounds=0)
                w0, c0 = time.perf_counter(), time.process_time()
                stream = graphlib.prove(g, inputs, be, statement)[0]
                res[m]["wall"].append(time.perf_counter() - w0)
                res[m]["cpu"].append(time.process_time() - c0)
                res[m]["sumcheck"].append(acc["t"])
                res[m]["calls"], res[m]["rounds"] = acc["calls"], acc["rounds"]
                assert stream == proofs[m]
    finally:
        SC.prove = orig
        SC.FUSED = True
    out = {"identical": proofs["fused"] == proofs["unfused"], "proof_bytes": len(proofs["fused"])}
    for m in modes:
        r = res[m]
        out[m] = {"prove_wall_s": round(statistics.median(r["wall"]), 3),
                  "prove_cpu_s": round(statistics.median(r["cpu"]), 3),
                  "sumcheck_in_prove_s": round(statistics.median(r["sumcheck"]), 3),
                  "calls": r["calls"], "rounds": r["rounds"],
                  "all_cpu": [round(x, 2) for x in r["cpu"]],
                  "all_sumcheck": [round(x, 3) for x in r["sumcheck"]]}
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "calls.pkl")
        SP.record(path, warm=False)
        out["replay"] = SP.replay(path, a.replay_repeat, (False, True))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
