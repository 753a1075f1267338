"""s36h5: the witness's declared-bound min/max, old (``torch.aminmax``) vs new
(`graph._minmax`: `int_gemm.minmax_i64`), on every `_check_declared` call of one
bench-path prove's witness phase, in one process (not a test): each call's tensor is
passed R times through each variant, alternating, CPU summed per variant (the calls'
own sizes and layouts).  Run in the new tree:

    flock /tmp/heavy.lock env PYTHONPATH=. python tests/bench/s36h5_minmax_ab.py SIZE [R]
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import torch


def main(size: str, reps: int = 3) -> None:
    from zklora.plugins.models import llama_train as lt
    from zklora.zkcore import graph

    sys.path.insert(0, str(Path(__file__).parent))
    from s34h4_witness_ab import prove_until

    spent = {"torch": 0.0, "numba": 0.0}
    sizes: Counter = Counter()
    orig = graph._check_declared

    def old(v):
        return tuple(int(x) for x in torch.aminmax(v))

    def timed(spec, v):
        if v.dtype == torch.int64 and spec.bound is not None and v.numel():
            sizes[v.numel()] += 1
            for _ in range(reps):
                for name, fn in (("torch", old), ("numba", graph._minmax)) if _ % 2 == 0 \
                        else (("numba", graph._minmax), ("torch", old)):
                    c0 = time.process_time()
                    got = fn(v)
                    spent[name] += time.process_time() - c0
                    assert got == old(v)
        return orig(spec, v)

    class Stop(Exception):
        pass

    def stop(fn):
        def inner(*a, **kw):
            fn(*a, **kw)
            raise Stop
        return inner

    graph._minmax(torch.arange(5))   # compiled (or loaded) before any timing
    graph._check_declared = timed
    lt.LlamaTrain.witness = stop(lt.LlamaTrain.witness)
    prove_until(size, Stop)
    n = sum(sizes.values())
    print(f"{size}: {n} calls, sizes (numel: calls) {sorted(sizes.items())[:12]} …")
    for k, v in spent.items():
        print(f"{k:6s} {v / reps:.4f} s a pass ({v / reps / n * 1e6:.1f} us a call)")
    print(f"numba/torch {spent['numba'] / spent['torch']:.3f}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3)
