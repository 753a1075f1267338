"""cProfile of one `zklora bench`-path prove (as h1_prove_ab's ``--one``: ZK off, profile
fast), dumping pstats and printing the witness-phase and segment-set-up attribution
(not a test).

    flock /tmp/heavy.lock python tests/bench/s33h5_witness_profile.py SIZE OUT.prof
"""

from __future__ import annotations

import cProfile
import sys
import tempfile
import time
from pathlib import Path


def main(size: str, dump: str) -> None:
    from zklora.zkcore import bench, pyapi

    shape = bench.SIZES[size]
    batch, seq = bench.batch_seq(size)
    with tempfile.TemporaryDirectory() as tmp:
        m, ad = bench._write_checkpoint(Path(tmp), shape)
        pr = cProfile.Profile()
        w0, c0 = time.perf_counter(), time.process_time()
        pr.enable()
        pyapi.prove(model=str(m), adapter=str(ad), steps=1, profile="fast",
                    zero_knowledge=False,
                    config={"task": {"model": "llama-train"},
                            "model": {"batch": batch, "seq": seq}},
                    out=Path(tmp) / "p.zkp")
        pr.disable()
        print(f"prove wall {time.perf_counter() - w0:.2f} CPU {time.process_time() - c0:.2f}")
        pr.dump_stats(dump)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
