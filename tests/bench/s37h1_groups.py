"""The 84m model commitment's `published.commit_groups` alone, with and without the
reused WHIR work arrays (`Whir.work_arrays`), alternating in one process (not a test).

    env PYTHONPATH=TREE python tests/bench/s37h1_groups.py ROUNDS [SIZE] [MODES]

SIZE 84m (default) or 25m: random int32 weights of the size's frozen tensors (embedding,
head, per layer q k v o gate up down and two norms, a final norm), grouped as the model
commitment groups them (`modelcommit.frozen_groups`), committed inside a scratch session
as the prover does.  MODES (default ``old,new``): ``new`` = as the tree does (work
arrays when the scheme has them), ``old`` = `Whir.work_arrays` hidden (fresh arrays
every table), ``trim`` = as ``new`` with the C heap trimmed after every table.  Per
run: wall, process CPU, user, sys, minor faults, the commitments' sha256 (equal across
modes), the peak RSS so far."""

from __future__ import annotations

import hashlib
import json
import resource
import sys
import time

import numpy as np


def tensors(size: str) -> dict[str, int]:
    from zklora.zkcore import bench
    s = bench.SIZES[size]
    h, f, v = s["hidden"], s["ffn"], s["vocab"]
    lg = lambda x: int(x).bit_length() - 1   # noqa: E731
    out = {"embed": lg(v * h), "lm_head": lg(v * h), "norm": lg(h)}
    for i in range(s["layers"]):
        for nm in ("q", "k", "v", "o"):
            out[f"l{i}.{nm}"] = lg(h * h)
        for nm, sz in (("gate", h * f), ("up", h * f), ("down", f * h)):
            out[f"l{i}.{nm}"] = lg(sz)
        out[f"l{i}.n1"] = out[f"l{i}.n2"] = lg(h)
    return out


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    size = sys.argv[2] if len(sys.argv) > 2 else "84m"
    modes = (sys.argv[3] if len(sys.argv) > 3 else "old,new").split(",")
    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import modelcommit, scratch
    from zklora.zkcore import published as publib
    from zklora.zkcore.plugins import registry
    F = registry().field("goldilocks")
    from zklora.zkcore.config import PROFILE_COMMITMENT_PARAMS as PP
    scheme = W.Whir(F, dict(PP["fast"]["whir"]))
    nv = tensors(size)
    rng = np.random.default_rng(5)
    vals = {n: rng.integers(-(1 << 15), 1 << 15, size=1 << v, dtype=np.int32)
            for n, v in nv.items()}
    groups = modelcommit.frozen_groups(nv)
    made = W.Whir.__dict__.get("work_arrays")   # the staticmethod itself
    enc = W.Whir._encode_streamed

    def trimmed(*a, **k):   # mode "trim": work arrays, the heap trimmed after every table
        try:
            return enc(*a, **k)
        finally:
            scratch.trim()
    with scratch.session():
        scheme.commit(F.random(rng, 1 << 14))   # kernels loaded
        for r in range(rounds):
            for mode in modes:
                W.Whir._encode_streamed = enc if mode != "trim" else trimmed
                if made is not None:
                    if mode == "old":
                        W.Whir.work_arrays = None
                    else:
                        W.Whir.work_arrays = made
                r0 = resource.getrusage(resource.RUSAGE_SELF)
                w0, c0 = time.perf_counter(), time.process_time()
                out = publib.commit_groups(scheme, F, groups, lambda n: vals[n])
                w, c = time.perf_counter() - w0, time.process_time() - c0
                r1 = resource.getrusage(resource.RUSAGE_SELF)
                h = hashlib.sha256(b"".join(g.commitment for g in out)).hexdigest()[:16]
                print(json.dumps({
                    "round": r, "mode": mode, "groups": len(out), "wall": round(w, 3),
                    "cpu": round(c, 3), "user": round(r1.ru_utime - r0.ru_utime, 3),
                    "sys": round(r1.ru_stime - r0.ru_stime, 3),
                    "minflt": r1.ru_minflt - r0.ru_minflt, "coms": h,
                    "maxrss_mib": r1.ru_maxrss // 1024}), flush=True)
                scratch.release(trim_heap=True)
    if made is not None:
        W.Whir.work_arrays = made


if __name__ == "__main__":
    main()
