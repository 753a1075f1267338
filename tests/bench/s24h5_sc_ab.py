"""s24h5: the process CPU spent inside `zklora.zkcore.sumcheck.prove` (every op-group and
claim-reduction sumcheck of a proven step) at a `zklora bench` shape, an old tree against
this one, interleaved (not a test).

    flock /tmp/heavy.lock python tests/bench/s24h5_sc_ab.py OLD [ROUNDS] [SIZE]

Each run is a fresh process (``PYTHONPATH`` = the tree) running this script's
``--one SIZE``: `h1_prove_ab.one` with ``sumcheck.prove`` and the zero-checks' prover
self-check ``relations._check_vanishes`` wrapped (process CPU by `time.process_time`,
wall).  The proofs' hashes are asserted equal; medians and
new/old ratios are printed."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def one(size: str) -> None:
    import contextlib
    import io
    import time

    sys.path.insert(0, str(Path(os.environ["PYTHONPATH"]) / "tests" / "bench"))
    import h1_prove_ab

    from zklora.zkcore import relations as RL
    from zklora.zkcore import sumcheck as ZS

    acc = {"sc_cpu": 0.0, "sc_wall": 0.0, "sc_calls": 0, "cv_cpu": 0.0, "cv_wall": 0.0}

    def timed(inner, key):
        def wrap(*a, **kw):
            c0, w0 = time.process_time(), time.perf_counter()
            try:
                return inner(*a, **kw)
            finally:
                acc[f"{key}_cpu"] += time.process_time() - c0
                acc[f"{key}_wall"] += time.perf_counter() - w0
                if key == "sc":
                    acc["sc_calls"] += 1
        return wrap

    ZS.prove = timed(ZS.prove, "sc")
    RL._check_vanishes = timed(RL._check_vanishes, "cv")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        h1_prove_ab.one(size)
    res = json.loads(buf.getvalue().strip().splitlines()[-1])
    res.update(acc)
    print(json.dumps(res))


def main() -> None:
    if sys.argv[1] == "--one":
        one(sys.argv[2])
        return
    old = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    size = sys.argv[3] if len(sys.argv) > 3 else "25m"
    trees = {"old": old, "new": str(HERE)}
    res: dict[str, list[dict]] = {"old": [], "new": []}
    for r in range(rounds):
        for name in (("old", "new") if r % 2 == 0 else ("new", "old")):
            tree = trees[name]
            env = dict(os.environ, PYTHONPATH=tree)
            out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--one", size],
                                 env=env, cwd=tree, capture_output=True, text=True, check=True)
            d = json.loads(out.stdout.strip().splitlines()[-1])
            print(name, {k: round(v, 3) if isinstance(v, float) else v for k, v in d.items()},
                  flush=True)
            res[name].append(d)
    shas = {d["sha"] for v in res.values() for d in v}
    assert len(shas) == 1, shas
    for k in ("sc_cpu", "sc_wall", "cv_cpu", "cv_wall", "prove_cpu", "prove_wall"):
        mo = statistics.median(d[k] for d in res["old"])
        mn = statistics.median(d[k] for d in res["new"])
        print(f"{k:10s} old {mo:8.3f} new {mn:8.3f} x{mn / mo:.3f}")
    print("sha", shas.pop())


if __name__ == "__main__":
    main()
