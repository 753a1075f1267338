"""Time the integer forward of a bench shape's training graph per op kind and per
matmul layout/shape (not a test; no proof).

    flock /tmp/heavy.lock python tests/bench/s33h5_forward_ops.py SIZE [REPS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path


def main(size: str, reps: int = 1) -> None:
    import torch

    from zklora.plugins.models import llama_train as lt
    from zklora.zkcore import bench, plugins
    from zklora.zkcore import graph as graphlib

    shape = bench.SIZES[size]
    batch, seq = bench.batch_seq(size)
    reg = plugins.registry()
    with tempfile.TemporaryDirectory() as tmp:
        m, ad = bench._write_checkpoint(Path(tmp), shape)
        params = {"model": str(m), "adapter": str(ad), "steps": 1, "batch": batch,
                  "seq": seq}
        spec, ckpt, adapter, batches, state = lt.load_private_state(params)
        t0 = time.process_time()
        inputs = lt.train_inputs(spec, ckpt, adapter, batches, state)
        print(f"train_inputs CPU {time.process_time() - t0:.3f}")
        t0 = time.process_time()
        g = lt.build_train_graph(spec, None, lt.batch_num_tokens(spec, inputs))
        print(f"build CPU {time.process_time() - t0:.3f}")
        per: dict = defaultdict(lambda: [0, 0.0])
        mm: dict = defaultdict(lambda: [0, 0.0])
        orig = graphlib._forward_node

        def timed(graph, registry, node, src, dst):
            c0 = time.perf_counter()
            orig(graph, registry, node, src, dst)
            dt = time.perf_counter() - c0
            per[node.op][0] += 1
            per[node.op][1] += dt
            if node.op in ("matmul", "einsum"):
                p = registry.op(node.op).params(node)
                key = (node.op, tuple(tuple(src[t].shape) for t in node.inputs),
                       getattr(p, "transpose_a", None), getattr(p, "transpose_b", None),
                       getattr(p, "group", None), getattr(p, "spec", None))
                mm[key][0] += 1
                mm[key][1] += dt

        graphlib._forward_node = timed
        for _ in range(reps):
            t0 = time.process_time()
            w0 = time.perf_counter()
            with torch.no_grad():
                graphlib.forward(g, inputs, reg)
            print(f"forward CPU {time.process_time() - t0:.3f} wall {time.perf_counter() - w0:.3f}")
        for k, (n, t) in sorted(per.items(), key=lambda kv: -kv[1][1]):
            print(f"{k:24s} {n:5d} {t:.3f}")
        for k, (n, t) in sorted(mm.items(), key=lambda kv: -kv[1][1])[:25]:
            print(f"{n:4d} {t:.3f} {k}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
