"""Prove one built-in bench shape (ZK off, profile fast: WHIR) into a proof file and print
prove CPU / wall, CPU per activation element and the phase timings as one JSON line —
the figures `zklora bench` reports, plus the proof file for a byte comparison between
trees (the bench itself deletes its proof).

    flock /tmp/heavy.lock python tests/bench/h3_prove_shape.py 25m /tmp/x/new.zkp
    PYTHONPATH=/tmp/old flock /tmp/heavy.lock python tests/bench/h3_prove_shape.py 25m \
        /tmp/x/old.zkp
    cmp /tmp/x/old.zkp /tmp/x/new.zkp
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(size: str, out: str) -> None:
    import zklora
    from zklora.zkcore import bench, pyapi

    shape = bench.SIZES[size]
    batch, seq = bench.batch_seq(size)
    with tempfile.TemporaryDirectory() as tmp:
        if size == "tiny":
            model, adapter = "tiny", None
        else:
            m, a = bench._write_checkpoint(Path(tmp), shape)
            model, adapter = str(m), str(a)
        extra = {"act_bits": shape["act_bits"]} if "act_bits" in shape else {}
        t0, c0 = time.perf_counter(), _cpu()
        res = pyapi.prove(model=model, adapter=adapter, steps=1, profile="fast",
                          zero_knowledge=False,
                          config={"task": {"model": "llama-train"},
                                  "model": {"batch": batch, "seq": seq, **extra}},
                          out=Path(out), progress=None)
        wall, cpu = time.perf_counter() - t0, _cpu() - c0
    acts = bench.activation_elements(shape, batch, seq)
    print(json.dumps({"tree": str(Path(zklora.__file__).parents[1]), "size": size,
                      "prove_wall": round(wall, 2), "prove_cpu": round(cpu, 2),
                      "compile_seconds": round(res.compile_seconds, 2),
                      "cpu_us_per_activation": round(cpu / acts * 1e6, 2),
                      "bytes": res.proof_size,
                      "timings": {k: round(v, 2) for k, v in res.timings.items()}}),
          flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
