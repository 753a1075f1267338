"""Prover-cache HIT A/B at a `zklora bench` shape (not a test), old tree vs new tree,
interleaved, one round per call so each ``flock`` hold stays short:

    flock /tmp/heavy.lock python tests/bench/s26h1_hit_ab.py OLDTREE NEWTREE SIZE ROUND OUT.jsonl
    python tests/bench/s26h1_hit_ab.py --summary OUT.jsonl

Each tree gets its own cache directory (``/tmp/s26h1/cache-TREE-SIZE``), filled once by
a setup run (not counted).  A round then runs a hit prove in each tree (fresh process,
``PYTHONPATH`` = the tree, order alternated by ROUND) and records the prove's process
CPU split into user and system time (``getrusage`` deltas around `pyapi.prove`), wall,
peak RSS, the phase walls (``timings``) and the proof's SHA-256 (asserted equal by
``--summary``, which prints medians and new/old ratios)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path


def one(size: str, cache: str) -> None:
    import hashlib
    import resource
    import tempfile
    import time

    from zklora.zkcore import bench, pyapi

    shape = bench.SIZES[size]
    batch, seq = bench.batch_seq(size)
    kw = {} if cache == "-" else {"prover_cache": cache}
    with tempfile.TemporaryDirectory() as tmp:
        m, ad = bench._write_checkpoint(Path(tmp), shape)
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        w0 = time.perf_counter()
        res = pyapi.prove(model=str(m), adapter=str(ad), steps=1, profile="fast",
                          zero_knowledge=False,
                          config={"task": {"model": "llama-train"},
                                  "model": {"batch": batch, "seq": seq}},
                          out=Path(tmp) / "p.zkp", **kw)
        wall = time.perf_counter() - w0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        out = {"wall": wall, "user": r1.ru_utime - r0.ru_utime,
               "sys": r1.ru_stime - r0.ru_stime,
               "cpu": r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime,
               "rss_mib": r1.ru_maxrss / 1024, "minflt": r1.ru_minflt - r0.ru_minflt,
               "majflt": r1.ru_majflt - r0.ru_majflt,
               "cache": getattr(res, "prover_cache", None),
               "timings": {k: round(v, 3) for k, v in res.timings.items()},
               "sha": hashlib.sha256(res.data).hexdigest()[:24]}
    print(json.dumps(out), flush=True)


def run(tree: str, size: str, cache: str) -> dict:
    p = subprocess.run([sys.executable, __file__, "--one", size, cache],
                       env=dict(os.environ, PYTHONPATH=tree), capture_output=True, text=True,
                       cwd="/tmp")
    if p.returncode:
        sys.exit(p.stderr[-3000:])
    return json.loads(p.stdout.strip().splitlines()[-1])


def cache_dir(tree: str, size: str) -> str:
    return f"/tmp/s26h1/cache-{Path(tree).name}-{size}"


def main(old: str, new: str, size: str, rnd: int, out: str) -> None:
    trees = {"old": old, "new": new}
    for tree in trees.values():
        if not Path(cache_dir(tree, size)).exists():
            print("setup", run(tree, size, cache_dir(tree, size)), flush=True)
    order = ["old", "new"] if rnd % 2 == 0 else ["new", "old"]
    for mode in order:
        r = run(trees[mode], size, cache_dir(trees[mode], size))
        r.update(mode=mode, size=size, round=rnd)
        print(json.dumps(r), flush=True)
        with open(out, "a") as f:
            f.write(json.dumps(r) + "\n")


def summary(out: str) -> None:
    rows = [json.loads(x) for x in open(out) if x.strip()]
    for size in sorted({r["size"] for r in rows}):
        rs = [r for r in rows if r["size"] == size]
        shas = {r["sha"] for r in rs}
        assert len(shas) == 1, f"{size}: proofs differ {shas}"
        assert all(r["cache"] == "hit" for r in rs), f"{size}: not all hits"
        med = {}
        for mode in ("old", "new"):
            m = [r for r in rs if r["mode"] == mode]
            if not m:
                continue
            med[mode] = {k: statistics.median(r[k] for r in m)
                         for k in ("cpu", "user", "sys", "wall", "rss_mib", "minflt")}
            ph = {k: statistics.median(r["timings"].get(k, 0.0) for r in m)
                  for k in m[0]["timings"]}
            print(size, mode, len(m), {k: round(v, 3) for k, v in med[mode].items()},
                  {k: round(v, 2) for k, v in ph.items()})
        if len(med) == 2:
            print(size, "new/old", {k: round(med["new"][k] / med["old"][k], 3)
                                    for k in med["new"] if med["old"][k]}, "sha", shas.pop())


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        one(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "--summary":
        summary(sys.argv[2])
    else:
        main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
