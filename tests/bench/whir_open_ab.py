"""WHIR batched opening, an old tree against this one (not a test).

    python tests/bench/whir_open_ab.py /tmp/old [ROUNDS] [SIZES]

One process per tree (``PYTHONPATH`` = the tree), alternating; each commits the
tables of SIZES (comma-separated log sizes, default 8 tables of 2^18 and 4 of 2^16:
the reduction sumcheck of a batch of equal sizes and the merged continuation), two
claims each, runs one warm-up opening, then times ROUNDS openings (process CPU and
wall, medians) and prints the proof's SHA-256 (equal in both trees)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def serve(rounds: int, sizes: list[int]) -> None:
    import hashlib
    import time

    import numpy as np

    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import mle
    from zklora.zkcore.commit import Evaluation, OpenItem
    from zklora.zkcore.plugins import registry
    from zklora.zkcore.transcript import ProverChannel, Transcript

    F = registry().field("goldilocks")
    E = F.ext
    s = W.Whir(F, {"regime": "conjectured", "direct_vars": 0})
    rng = np.random.default_rng(1)
    opens = []
    for n in sizes:
        t = F.random(rng, 1 << n)
        _, st = s.commit(t)
        evs = [Evaluation(r, mle.evaluate(E, t, r, base=True))
               for r in (E.random(rng, n) for _ in range(2))]
        opens.append(OpenItem(st, evs))
    cpu, wall, digest = [], [], None
    for i in range(rounds + 1):
        ch = ProverChannel(Transcript(b"whir_open_ab"))
        w0, c0 = time.perf_counter(), time.process_time()
        s.open(ch, opens)
        if i:
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
        digest = hashlib.sha256(ch.proof_bytes()).hexdigest()[:24]
    print(json.dumps({"cpu": cpu, "wall": wall, "sha": digest}))


def main(old: str, rounds: int, sizes: str) -> None:
    res = {}
    for name, tree in [("old", old), ("new", str(HERE))] * 2:
        env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve()))
        out = subprocess.run([sys.executable, __file__, "--serve", str(rounds), sizes],
                             env=env, capture_output=True, text=True, cwd="/tmp", check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        prev = res.setdefault(name, {"cpu": [], "wall": [], "sha": r["sha"]})
        assert prev["sha"] == r["sha"]
        prev["cpu"] += r["cpu"]
        prev["wall"] += r["wall"]
    assert res["old"]["sha"] == res["new"]["sha"], "proofs differ"
    mo, mn = (statistics.median(res[k]["cpu"]) for k in ("old", "new"))
    wo, wn = (statistics.median(res[k]["wall"]) for k in ("old", "new"))
    print(f"sizes {sizes}: open CPU median old {mo:.3f} s, new {mn:.3f} s, new/old "
          f"{mn / mo:.3f}; wall {wo:.3f} -> {wn:.3f} s ({wn / wo:.3f}); same proof "
          f"{res['new']['sha']}")


if __name__ == "__main__":
    if sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), [int(x) for x in sys.argv[3].split(",")])
    else:
        main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3,
             sys.argv[3] if len(sys.argv) > 3 else "18,18,18,18,18,18,18,18,16,16,16,16")
