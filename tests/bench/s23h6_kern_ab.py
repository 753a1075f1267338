"""evec_mat / lincomb_base of an old tree vs this one at the 25m prove's shapes (not a test).

    python tests/bench/s23h6_kern_ab.py OLD_TREE [ROUNDS]

Each round runs every shape once per tree, each tree in a fresh process (``PYTHONPATH`` =
the tree), the order alternating; the per-call time is the median of 5 timed batches.
Prints medians over the rounds and new/old ratios; the outputs' hashes are asserted equal."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]
#: (kernel, rows, columns, calls a timed batch): the 25m prove's hot shapes (s23h6)
SHAPES = [("evec_mat", 128, 256, 200), ("evec_mat", 256, 256, 100),
          ("evec_mat", 256, 1024, 30), ("evec_mat", 256, 4096, 8), ("evec_mat", 32, 64, 500),
          ("lincomb_base", 6, 1 << 19, 3), ("lincomb_base", 2, 1 << 16, 30)]


def one() -> None:
    import hashlib
    import time

    import numpy as np

    from zklora.kernels import goldilocks as G
    from zklora.kernels import ntt, whir
    from zklora.kernels.goldilocks import P_INT

    ntt._evec_mat_ser(np.ones((8, 2), np.uint64), np.ones((8, 8), np.uint64),
                      np.zeros((8, 2), np.uint64))   # start numba (else the cold numpy path)
    assert not G.cold(1)
    res = {}
    for kern, r, c, n in SHAPES:
        rng = np.random.default_rng(r * 7 + c)
        e = rng.integers(0, P_INT, (r, 2), dtype=np.uint64)
        M = rng.integers(0, P_INT, (r, c), dtype=np.uint64)
        fn = ntt.evec_mat if kern == "evec_mat" else whir.lincomb_base
        args = (e, M) if kern == "evec_mat" else (M, e)

        def call(fn=fn, args=args):
            return fn(*args)

        out = call()
        ts = []
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(n):
                call()
            ts.append((time.perf_counter() - t) / n)
        res[f"{kern} {r}x{c}"] = (statistics.median(ts) * 1e6,
                                  hashlib.sha256(out.tobytes()).hexdigest()[:16])
    print(json.dumps(res))


def main() -> None:
    old = Path(sys.argv[1]).resolve()
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    for i in range(rounds):
        order = [("old", old), ("new", HERE)] if i % 2 == 0 else [("new", HERE), ("old", old)]
        for tag, tree in order:
            out = subprocess.run([sys.executable, str(HERE / "tests/bench/s23h6_kern_ab.py"),
                                  "--one"], env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
                                 cwd=tree, capture_output=True, text=True, check=True).stdout
            runs[tag].append(json.loads(out.strip().splitlines()[-1]))
    for k in runs["old"][0]:
        assert all(r[k][1] == runs["old"][0][k][1] for r in runs["old"] + runs["new"]), k
        o = statistics.median(r[k][0] for r in runs["old"])
        n = statistics.median(r[k][0] for r in runs["new"])
        print(f"{k:24s} old {o:9.1f} us  new {n:9.1f} us  new/old {n / o:.3f}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--one"]:
        one()
    else:
        main()
