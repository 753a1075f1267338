"""`llama.quantize_inputs` (the frozen weights' and adapters' fixed-point conversion) at a
`zklora bench` shape, an old tree against this one, interleaved (not a test).

    flock /tmp/heavy.lock python tests/bench/s24h6_quant_ab.py OLD [ROUNDS] [SIZE]

Each run is a fresh process (``PYTHONPATH`` = the tree) that starts a real prove and stops
it right after the first `quantize_inputs` (which it runs REPEAT times: process CPU and
wall of each, min reported); the outputs' hash is asserted equal across trees."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]
REPEAT = 3


class _Stop(Exception):
    pass


def one(size: str) -> None:
    import hashlib
    import tempfile
    import time

    import torch

    from zklora.plugins.models import llama_train
    from zklora.zkcore import bench, pyapi

    inner = llama_train.quantize_inputs
    out: dict = {}

    def wrap(*a, **kw):
        cpu, wall = [], []
        for _ in range(REPEAT):
            w0, c0 = time.perf_counter(), time.process_time()
            res = inner(*a, **kw)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
        h = hashlib.sha256()
        for k in sorted(res):
            v = res[k]
            h.update(k.encode() + str(tuple(v.shape)).encode() + str(v.dtype).encode())
            h.update(v.contiguous().numpy().tobytes())
        out.update(cpu=min(cpu), wall=min(wall), sha=h.hexdigest()[:16])
        raise _Stop

    llama_train.quantize_inputs = wrap
    shape = bench.SIZES[size]
    batch, seq = bench.batch_seq(size)
    with tempfile.TemporaryDirectory() as tmp:
        m, ad = bench._write_checkpoint(Path(tmp), shape)
        try:
            pyapi.prove(model=str(m), adapter=str(ad), steps=1, profile="fast",
                        zero_knowledge=False,
                        config={"task": {"model": "llama-train"},
                                "model": {"batch": batch, "seq": seq}})
        except _Stop:
            pass
    del torch
    print(json.dumps(out), flush=True)


def main() -> None:
    old = Path(sys.argv[1]).resolve()
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    size = sys.argv[3] if len(sys.argv) > 3 else "84m"
    res: dict[str, list[dict]] = {"old": [], "new": []}
    for _ in range(rounds):
        for tag, tree in (("old", old), ("new", HERE)):
            env = dict(os.environ, PYTHONPATH=str(tree))
            p = subprocess.run([str(tree / ".venv/bin/python"), __file__, "--one", size],
                               env=env, cwd=tree, capture_output=True, text=True, check=True)
            r = json.loads(p.stdout.strip().splitlines()[-1])
            res[tag].append(r)
            print(tag, r, flush=True)
    assert len({r["sha"] for v in res.values() for r in v}) == 1, "outputs differ"
    for k in ("cpu", "wall"):
        o = statistics.median(r[k] for r in res["old"])
        n = statistics.median(r[k] for r in res["new"])
        print(f"{k}: old {o:.4f} new {n:.4f} ratio {n / o:.3f}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        one(sys.argv[2])
    else:
        main()
