"""File-backed pages the lookup argument keeps resident (issue 14; a benchmark, not a test).

    python tests/bench/segment_memory_lookup_pages.py [--drop-bytes N] [--no-drop] [--small]

proves 4 requests of 2^22 rows into range16 (`lookup_suite.prove_tables`, plain
commitment) with every stack spilled (``ZKLORA_SPILL_BYTES=0``: the columns are views of
read-only scratch maps), while a thread samples /proc/self/statm every 5 ms; prints the
largest (resident, file-backed) MiB seen inside `LogUpGKR.prove_many` and the seconds of
the whole proof.  ``--drop-bytes``: `logup_gkr.DROP_BYTES`; ``--no-drop``: the leaves'
writer never gives pages back (only `scratch.releasing` does); ``--small``: thresholds
forced down (`STREAM_BYTES` 4 MiB, `KEEP_LAYERS` 12: many short leaf ranges).
"""

from __future__ import annotations

import argparse
import os
import threading
import time

os.environ["ZKLORA_SPILL_BYTES"] = "0"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--drop-bytes", type=int)
    ap.add_argument("--no-drop", action="store_true")
    ap.add_argument("--small", action="store_true")
    a = ap.parse_args(argv)
    import numpy as np
    import torch

    from zklora.plugins.lookups import logup_gkr as L
    from zklora.zkcore import scratch
    from zklora.zkcore.range import range_table
    from zklora.zkcore.testing import lookup_suite as S

    if a.drop_bytes is not None:
        L.DROP_BYTES = a.drop_bytes
    if a.no_drop:
        scratch.drop_pages = lambda arr: None
    if a.small:
        L.STREAM_BYTES, L.KEEP_LAYERS = 4 << 20, 12
    peak = [0.0, 0.0]
    inside = [False]

    def sample() -> None:
        while True:
            with open("/proc/self/statm") as f:
                v = f.read().split()
            r, fb = int(v[1]) * 4096 / 2**20, int(v[2]) * 4096 / 2**20
            if inside[0] and fb > peak[1]:
                peak[:] = [r, fb]
            time.sleep(0.005)

    threading.Thread(target=sample, daemon=True).start()
    orig = L.LogUpGKR.prove_many

    def prove_many(self, ctx, cs):
        inside[0] = True
        try:
            return orig(self, ctx, cs)
        finally:
            inside[0] = False

    L.LogUpGKR.prove_many = prove_many
    rng = np.random.default_rng(0)
    col = torch.from_numpy(rng.integers(0, 1 << 16, size=1 << 22))
    t = time.perf_counter()
    S.prove_tables(L.LogUpGKR(), "goldilocks", [(range_table(16), [[col]] * 4)])
    print({"drop_bytes": L.DROP_BYTES, "no_drop": a.no_drop, "small": a.small,
           "lookups_resident_mib": round(peak[0]), "lookups_file_backed_mib": round(peak[1]),
           "seconds": round(time.perf_counter() - t, 1)})


if __name__ == "__main__":
    main()
