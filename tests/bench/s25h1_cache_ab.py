"""Prover cache A/B at a `zklora bench` shape (not a test), interleaved, one round per
call so each ``flock`` hold stays short:

    flock /tmp/heavy.lock python tests/bench/s25h1_cache_ab.py OLDTREE SIZE ROUND OUT.jsonl
    python tests/bench/s25h1_cache_ab.py --summary OUT.jsonl

Each round runs, each in a fresh process (``PYTHONPATH`` = the tree, order rotated by
ROUND): ``old`` (OLDTREE, no cache), ``new`` (this tree, no cache), ``cold`` (this tree,
an empty cache: commits and stores the entry) and ``warm`` (this tree, the entry stored
by a setup run).  Each prints prove CPU (process time), wall, peak RSS, the cache status
and the proof's SHA-256 (asserted equal by ``--summary``, which prints medians and
ratios over the rounds)."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


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
        w0, c0 = time.perf_counter(), time.process_time()
        res = pyapi.prove(model=str(m), adapter=str(ad), steps=1, profile="fast",
                          zero_knowledge=False,
                          config={"task": {"model": "llama-train"},
                                  "model": {"batch": batch, "seq": seq}},
                          out=Path(tmp) / "p.zkp", **kw)
        out = {"prove_wall": time.perf_counter() - w0, "prove_cpu": time.process_time() - c0,
               "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "cache": getattr(res, "prover_cache", None),
               "mc_wall": res.timings.get("model-commitment"),
               "sha": hashlib.sha256(res.data).hexdigest()[:24]}
    print(json.dumps(out), flush=True)


def run(tree: str, size: str, cache: str) -> dict:
    p = subprocess.run([sys.executable, __file__, "--one", size, cache],
                       env=dict(os.environ, PYTHONPATH=tree), capture_output=True, text=True,
                       cwd="/tmp")
    if p.returncode:
        sys.exit(p.stderr[-3000:])
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(old: str, size: str, rnd: int, out: str) -> None:
    base = Path(f"/tmp/s25h1/cache-{size}")
    warm, cold = base / "warm", base / "cold"
    if not warm.exists():
        print("setup", run(str(HERE), size, str(warm)), flush=True)
    modes = ["old", "new", "cold", "warm"]
    k = rnd % len(modes)
    for mode in modes[k:] + modes[:k]:
        if mode == "cold":
            shutil.rmtree(cold, ignore_errors=True)
        r = run(old if mode == "old" else str(HERE), size,
                {"old": "-", "new": "-", "cold": str(cold), "warm": str(warm)}[mode])
        r.update(mode=mode, size=size, round=rnd)
        print(r, flush=True)
        with open(out, "a") as f:
            f.write(json.dumps(r) + "\n")


def summary(path: str) -> None:
    rows = [json.loads(x) for x in open(path)]
    for size in sorted({r["size"] for r in rows}):
        rs = [r for r in rows if r["size"] == size]
        shas = {r["sha"] for r in rs}
        assert len(shas) == 1, f"{size}: proofs differ {shas}"
        med = {m: {k: statistics.median(r[k] for r in rs if r["mode"] == m)
                   for k in ("prove_cpu", "prove_wall", "rss_mib")}
               for m in ("old", "new", "cold", "warm") if any(r["mode"] == m for r in rs)}
        n = {m: sum(r["mode"] == m for r in rs) for m in med}
        print(size, "sha", shas.pop(), "runs", n)
        for m, v in med.items():
            print(f"  {m:5} cpu {v['prove_cpu']:6.2f}  wall {v['prove_wall']:6.2f}  rss "
                  f"{v['rss_mib']:7.0f} MiB   cpu/old "
                  f"{v['prove_cpu'] / med['old']['prove_cpu']:.3f}"
                  f"  wall/old {v['prove_wall'] / med['old']['prove_wall']:.3f}")
        print("  statuses", sorted({(r["mode"], r["cache"]) for r in rs}, key=str))


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        one(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "--summary":
        summary(sys.argv[2])
    else:
        main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
