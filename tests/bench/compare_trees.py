"""Compare the tiny training step across source trees (e.g. two commits) in one run.

    git worktree add /tmp/old <commit>
    .venv/bin/python tests/bench/compare_trees.py /tmp/old . --rounds 2 --reps 2

Each (tree, repetition) runs in a fresh process with the tree first on ``sys.path``, in
interleaved order (old, new, old, new, …) so that machine noise hits every tree alike.
In each process: one warm-up proof (numba compilation, caches), then ``rounds`` timed
prove + verify (the prove's wall and process CPU time, all threads) of the setup of
``tests/bench/test_bench_train.py`` (`_setup`: tiny LLaMA, batch 4 × 32, one AdamW step,
fast profile).  Prints one JSON line per process
and, at the end, the medians per tree and the ratios against the first tree.

``--shape H,F,L,V,B,T`` proves a wider model instead: `tiny_arch` with hidden H, FFN F,
L layers, vocabulary V, heads of 32 (H/32 query and key-value heads), seeded random
weights and adapter, batch B × T, one AdamW step (e.g. ``--shape 256,512,4,1024,1,64``).
``--no-warmup`` skips the warm-up proof (numba's caches of the trees already warm).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

_CHILD = r"""
import hashlib, json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from tests.bench.test_bench_train import _setup
from zklora.zkcore import graph as graphlib
from zklora.zkcore.config import PROFILES, resolve
from zklora.zkcore.plugins import registry
be = resolve(PROFILES["fast"], registry())
if sys.argv[3]:
    from zklora.plugins.models import llama_train as lt
    from zklora.plugins.models.llama import ForwardSpec, random_batch
    from zklora.plugins.models.tiny import tiny_adapter, tiny_arch, tiny_weights
    from zklora.zkcore.quant import QuantConfig
    H, F, L, V, B, T = (int(x) for x in sys.argv[3].split(","))
    arch = tiny_arch(hidden_size=H, intermediate_size=F, num_layers=L, vocab_size=V,
                     num_heads=H // 32, num_kv_heads=H // 32, head_dim=32)
    ck, ad = tiny_weights(arch, seed=0), tiny_adapter(arch, init="random")
    spec = lt.TrainSpec(ForwardSpec(arch, ad.spec, QuantConfig(), B, T), 1)
    inputs = lt.train_inputs(spec, ck, ad, [random_batch(V, B, T, 3)])
    g, res = lt.integer_train(spec, inputs)
    public = spec.to_public()
    public["losses"] = res.losses
    statement = {"model": "llama-train", "params": public}
else:
    spec, ck, ad, ids, g, inputs, statement = _setup()
if sys.argv[4] == "1":
    graphlib.prove(g, inputs, be, statement)
pt, vt, ct = [], [], []
for _ in range(int(sys.argv[2])):
    t0, c0 = time.perf_counter(), time.process_time()
    stream, sections = graphlib.prove(g, inputs, be, statement)
    pt.append(time.perf_counter() - t0)
    ct.append(time.process_time() - c0)
    t0 = time.perf_counter()
    graphlib.verify(g, stream, be, statement, sections)
    vt.append(time.perf_counter() - t0)
print(json.dumps({"tree": sys.argv[1], "prove": pt, "prove_cpu": ct, "verify": vt,
                  "proof": len(stream),
                  "sha256": hashlib.sha256(stream).hexdigest()[:16],
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trees", nargs="+")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--shape", default="", help="H,F,L,V,B,T: a wider model (module doc)")
    ap.add_argument("--no-warmup", action="store_true", help="no warm-up proof")
    a = ap.parse_args()
    trees = [os.path.abspath(t) for t in a.trees]
    runs: dict[str, list[dict]] = {t: [] for t in trees}
    for _ in range(a.reps):
        for t in trees:
            env = dict(os.environ, PYTHONPATH=t)
            out = subprocess.run([sys.executable, "-c", _CHILD, t, str(a.rounds), a.shape,
                                  "0" if a.no_warmup else "1"], cwd=t,
                                 env=env, capture_output=True, text=True, check=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            print(json.dumps(row), flush=True)
            runs[t].append(row)
    base = None
    for t in trees:
        rs = runs[t]
        med = {"prove": statistics.median([x for r in rs for x in r["prove"]]),
               "prove_cpu": statistics.median([x for r in rs for x in r.get("prove_cpu", [0])]),
               "verify": statistics.median([x for r in rs for x in r["verify"]]),
               "proof": rs[-1]["proof"], "rss_mib": max(r["rss_mib"] for r in rs),
               "sha256": sorted({r.get("sha256", "?") for r in rs})}
        base = base or med
        ratio = {k: med[k] / base[k] if base[k] else float("nan")
                 for k in ("prove", "prove_cpu", "verify", "proof", "rss_mib")}
        print(f"{t}: prove {med['prove']:.2f} s (CPU {med['prove_cpu']:.2f} s), verify "
              f"{med['verify']:.3f} s, proof "
              f"{med['proof']:,} B (sha256 {', '.join(med['sha256'])}), peak RSS "
              f"{med['rss_mib']:.0f} MiB; ratios against "
              f"the first tree: " + ", ".join(f"{k} ×{v:.2f}" for k, v in ratio.items()))


if __name__ == "__main__":
    main()
