"""Log the shapes the streamed WHIR commit's tile kernels see in one proven step (not a
test): `K.twist_dft_tiles`, `K.mobius_rows_tiles`, `K.mobius_high`, with per-shape call
counts and CPU / wall seconds.

    flock /tmp/heavy.lock env PYTHONPATH=. .venv/bin/python tests/bench/s38h3_shapes.py 25m
"""

from __future__ import annotations

import collections
import sys
import tempfile
import time
from pathlib import Path


def main(size: str) -> None:
    from zklora.kernels import whir as K
    from zklora.zkcore import bench, pyapi

    log: dict[tuple, list[float]] = collections.defaultdict(lambda: [0, 0.0, 0.0])

    def wrap(name, fn, key):
        def w(*a, **kw):
            w0, c0 = time.perf_counter(), time.process_time()
            try:
                return fn(*a, **kw)
            finally:
                e = log[(name,) + key(*a, **kw)]
                e[0] += 1
                e[1] += time.process_time() - c0
                e[2] += time.perf_counter() - w0
        return w

    K.twist_dft_tiles = wrap(
        "twist_dft_tiles", K.twist_dft_tiles,
        lambda ram, piece, a0, rows, d, k, lt, cb, wa, out: (
            f"ram{tuple(ram.shape)} piece{tuple(piece.shape)} rows={rows} d={d} k={k} "
            f"lt={lt} cb={cb}",))
    K.mobius_rows_tiles = wrap(
        "mobius_rows_tiles", K.mobius_rows_tiles,
        lambda src, out, lt, cb: (f"src{src.shape} out{tuple(out.shape)} lt={lt}",))
    K.mobius_high = wrap("mobius_high", K.mobius_high,
                         lambda a, j0: (f"n={a.shape[0]} j0={j0}",))
    shape = bench.SIZES[size]
    batch, seq = bench.batch_seq(size)
    with tempfile.TemporaryDirectory() as tmp:
        m, ad = bench._write_checkpoint(Path(tmp), shape)
        c0 = time.process_time()
        pyapi.prove(model=str(m), adapter=str(ad), steps=1, profile="fast",
                    zero_knowledge=False,
                    config={"task": {"model": "llama-train"},
                            "model": {"batch": batch, "seq": seq}},
                    out=Path(tmp) / "p.zkp")
        print(f"prove CPU {time.process_time() - c0:.2f} s")
    for key, (n, c, w) in sorted(log.items()):
        print(f"{key[0]:18s} {key[1]:70s} calls {n:4d} cpu {c:7.3f} wall {w:7.3f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "25m")
