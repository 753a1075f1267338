"""Interleaved A/B of the tiny training step's prove in ONE tree: rescales' Y and R
defined by their limbs (`rescale.limb_outputs`, the default) against the same tree with
that pass switched off (Y and R committed and range-checked), so the comparison isolates
the pass from everything else that changed (issue 13).

    flock /tmp/heavy.lock python tests/bench/limbs_ab.py [ROUNDS] [H F N V B T]

(with a shape: `segment_memory.py`'s model — ``tiny_arch`` of hidden H, FFN F, N layers,
vocabulary V, H/32 heads of 32, seeded weights, a random q/v adapter — at batch B × T,
instead of the built-in tiny model at 1 × 16.)

One warm prover process per variant (the "off" one replaces the pass by a no-op before
the plugin registry is built), the same protocol as `tiny_trees_ab.py`: a warm-up prove +
verify, then one timed prove per round, the order alternating.  Prints per-round CPU /
wall / bytes, the medians and the on/off ratio.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tiny_trees_ab as ab  # noqa: E402


def serve(out: Path, variant: str, shape: list[int]) -> None:
    if variant == "off":
        from zklora.plugins.ops import rescale

        rescale.limb_outputs = lambda g, registry=None: []   # before the registry exists
    if not shape:
        ab.serve(out)
        return
    import tempfile
    import time

    import numpy as np

    from zklora.plugins.models import llama
    from zklora.plugins.models.hf import save_adapter, save_model
    from zklora.plugins.models.tiny import tiny_adapter, tiny_arch, tiny_lora, tiny_weights
    from zklora.zkcore import pyapi

    H, F, N, V, B, T = shape
    arch = tiny_arch(H // 32, hidden_size=H, intermediate_size=F, num_layers=N,
                     vocab_size=V, num_heads=H // 32, head_dim=32)
    d = Path(tempfile.mkdtemp(prefix=f"limbs-ab-{variant}-"))
    save_model(d / "model", arch, tiny_weights(arch, seed=0).weights)
    save_adapter(d / "adapter", tiny_adapter(arch, tiny_lora(targets=("q", "v")),
                                             init="random"))
    np.save(d / "batch.npy", llama.random_batch(V, B, T, 3).numpy())
    kw = dict(config={"task": {"model": "llama-train"},
                      "model": {"model": str(d / "model"), "adapter": str(d / "adapter"),
                                "data": str(d / "batch.npy"), "steps": 1}})
    pyapi.prove(out=out, progress=None, **kw)
    v = pyapi.verify(out)
    print(json.dumps({"ready": pyapi.__file__, "verify": v.seconds}), flush=True)
    for _ in sys.stdin:
        t, c = time.perf_counter(), ab._cpu()
        res = pyapi.prove(out=out, progress=None, **kw)
        print(json.dumps({"wall": time.perf_counter() - t, "cpu": ab._cpu() - c,
                          "bytes": res.proof_size, "timings": res.timings}), flush=True)


def main(rounds: int, shape: list[int]) -> None:
    procs = {}
    for name, variant in (("old", "off"), ("new", "on")):
        procs[name] = subprocess.Popen(
            [sys.executable, __file__, "--serve", f"/tmp/limbs_ab_{variant}.zkp", variant,
             *map(str, shape)],
            env=dict(os.environ, PYTHONPATH=str(ab.HERE)), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, cwd="/tmp")
    print("old = limb_outputs off, new = on; shape", shape or "tiny 1 x 16", flush=True)
    for name, p in procs.items():
        print(name, p.stdout.readline().strip(), flush=True)
    res: dict[str, list[dict]] = {n: [] for n in procs}
    for r in range(rounds):
        for name in (("old", "new") if r % 2 == 0 else ("new", "old")):
            p = procs[name]
            p.stdin.write("go\n")
            p.stdin.flush()
            d = json.loads(p.stdout.readline())
            res[name].append(d)
            print(name, r, json.dumps(d), flush=True)
    for p in procs.values():
        p.stdin.close()
        p.wait()
    med = {}
    for name, rs in res.items():
        cpu = statistics.median(d["cpu"] for d in rs)
        wall = statistics.median(d["wall"] for d in rs)
        med[name] = cpu
        print(f"{name}: median prove CPU {cpu:.2f} s, wall {wall:.2f} s, "
              f"bytes {rs[0]['bytes']}")
    print(f"new/old CPU ratio {med['new'] / med['old']:.3f}; per-round ratios",
          [round(b["cpu"] / a["cpu"], 3) for a, b in zip(res["old"], res["new"])])


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--serve":
        serve(Path(sys.argv[2]), sys.argv[3], [int(x) for x in sys.argv[4:]])
    elif len(sys.argv) in (1, 2, 8):
        main(int(sys.argv[1]) if len(sys.argv) >= 2 else 5,
             [int(x) for x in sys.argv[2:]])
    else:
        sys.exit(__doc__)
