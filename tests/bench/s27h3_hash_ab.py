"""Process CPU inside the Merkle hashing entry points (`blake3_numba.hash_many`,
`hash_pairs`) during a whole prove at a `zklora bench` shape, an old tree against this
one, interleaved, one round per call (not a test).

    cd NEWTREE && PYTHONPATH=$PWD flock /tmp/heavy.lock .venv/bin/python \\
        tests/bench/s27h3_hash_ab.py OLDTREE SIZE

Each tree runs once in a fresh process (``PYTHONPATH`` = the tree): `h1_prove_ab.one`
with the two entry points wrapped (process CPU, all threads, while inside them); prints
per tree the prove CPU, the hashing CPU and calls, and the proof's SHA-256 prefix
(asserted equal)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def one(size: str) -> None:
    sys.path.insert(0, str(Path(os.environ["PYTHONPATH"]) / "tests" / "bench"))
    import h1_prove_ab

    from zklora.kernels import blake3_numba as B

    acc = {}

    def timed(name, fn):
        def wrap(*a, **kw):
            c0 = time.process_time()
            try:
                return fn(*a, **kw)
            finally:
                t = acc.setdefault(name, [0.0, 0])
                t[0] += time.process_time() - c0
                t[1] += 1
        return wrap

    B.hash_many = timed("hash_many", B.hash_many)
    B.hash_pairs = timed("hash_pairs", B.hash_pairs)
    h1_prove_ab.one(size)
    print(json.dumps({k: v for k, v in acc.items()}), flush=True)


def main(old: str, size: str) -> None:
    trees = {"old": str(Path(old).resolve()), "new": str(HERE)}
    shas = set()
    for name, tree in trees.items():
        p = subprocess.run([sys.executable, __file__, "--one", size],
                           env=dict(os.environ, PYTHONPATH=tree),
                           capture_output=True, text=True, cwd="/tmp", check=True)
        lines = p.stdout.strip().splitlines()
        run, hashes = json.loads(lines[-2]), json.loads(lines[-1])
        shas.add(run["sha"])
        print(name, size, f"prove_cpu {run['prove_cpu']:.2f}",
              " ".join(f"{k} {c:.3f} s / {n}" for k, (c, n) in hashes.items()), flush=True)
    assert len(shas) == 1, f"proofs differ: {shas}"
    print("sha", shas.pop())


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        one(sys.argv[2])
    else:
        main(sys.argv[1], sys.argv[2])
