"""A whole proven step at a `zklora bench` shape, old tree against new, for a change
that alters the proof (s30h2: prove-time range-check limb widths by padded cost; not a
test).

    flock /tmp/heavy.lock python tests/bench/s30h2_prove_ab.py OLD_TREE [ROUNDS] [SIZE] [FIRST]

As `h1_prove_ab.py` (fresh process per run, PYTHONPATH = the tree, order alternating,
FIRST = "old" or "new" for round 0) but the shas are printed, not asserted equal, with
the proof size and the bench phases' walls (`res.timings`); one JSON line a run, then
medians and new/old ratios."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def one(size: str) -> None:
    import hashlib
    import tempfile
    import time

    from zklora.zkcore import bench, pyapi

    shape = bench.SIZES[size]
    batch, seq = bench.batch_seq(size)
    with tempfile.TemporaryDirectory() as tmp:
        m, ad = bench._write_checkpoint(Path(tmp), shape)
        w0, c0 = time.perf_counter(), time.process_time()
        res = pyapi.prove(model=str(m), adapter=str(ad), steps=1, profile="fast",
                          zero_knowledge=False,
                          config={"task": {"model": "llama-train"},
                                  "model": {"batch": batch, "seq": seq}},
                          out=Path(tmp) / "p.zkp")
        out = {"prove_wall": time.perf_counter() - w0, "prove_cpu": time.process_time() - c0,
               "bytes": len(res.data), "sha": hashlib.sha256(res.data).hexdigest()[:24]}
    for k, v in (res.timings or {}).items():
        if isinstance(v, int | float):
            out[f"t_{k}"] = float(v)
    print(json.dumps(out), flush=True)


def main(old: str, rounds: int, size: str, first: str = "old") -> None:
    trees = {"old": str(Path(old).resolve()), "new": str(HERE)}
    res: dict[str, list[dict]] = {n: [] for n in trees}
    order = [first, "new" if first == "old" else "old"]
    for r in range(rounds):
        for name in (order if r % 2 == 0 else order[::-1]):
            p = subprocess.run([sys.executable, __file__, "--one", size],
                               env=dict(os.environ, PYTHONPATH=trees[name]),
                               capture_output=True, text=True, cwd="/tmp", check=True)
            res[name].append(json.loads(p.stdout.strip().splitlines()[-1]))
            print(name, size, json.dumps(res[name][-1]), flush=True)
    for key in res["old"][0]:
        if key == "sha" or key not in res["new"][0]:
            continue
        mo = statistics.median(r[key] for r in res["old"])
        mn = statistics.median(r[key] for r in res["new"])
        print(f"{key:16s} old {mo:12.2f}  new {mn:12.2f}  new/old {mn / mo:.3f}")
    print(size, "shas old", {r["sha"] for r in res["old"]}, "new", {r["sha"] for r in res["new"]})


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        one(sys.argv[2])
    else:
        main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1,
             sys.argv[3] if len(sys.argv) > 3 else "25m",
             sys.argv[4] if len(sys.argv) > 4 else "old")
