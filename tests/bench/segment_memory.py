"""Peak RSS of one proven training step, segmented or not (issue 14; not a test).

    python tests/bench/segment_memory.py H F N V B T [--unsegmented] [--executor local]

builds ``tiny_arch(hidden_size=H, intermediate_size=F, num_layers=N, vocab_size=V,
num_heads=H/32, num_kv_heads=H/32, head_dim=32)`` (``--heads``, ``--kv-heads``,
``--head-dim``, ``--tied`` change those: the SmolLM-135M shape of issue 14 is
``576 1536 30 49152 1 128 --heads 9 --kv-heads 3 --head-dim 64 --tied``)
+ `tiny_weights(seed=0)` + a random
adapter on q, v, batch ``llama.random_batch(V, B, T, seed=3)``, proves one AdamW step
in-process with `api.prove` (default profile) and prints one JSON line: peak RSS
(``ru_maxrss``), prove seconds, proof bytes, the per-phase RSS high-water marks and, per
phase, the resident set (VmRSS) when it started and the most seen at a progress event.
``--out FILE`` writes the proof; ``--commitment whir`` proves with WHIR (conjectured
regime) instead of the profile's scheme.  ``--unsegmented``: the graph without segments (the
prover before issue 14).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_mib() -> float:
    """The resident set now (VmRSS), MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _commitment(name: str | None) -> dict:
    """Config tables choosing commitment scheme ``name`` (none: the profile's)."""
    if name is None:
        return {}
    extra = {"commitment": {"whir": {"regime": "conjectured"}}} if name == "whir" else {}
    return {"proof": {"commitment": name}, **extra}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    for k in ("H", "F", "N", "V", "B", "T"):
        ap.add_argument(k, type=int)
    ap.add_argument("--unsegmented", action="store_true")
    ap.add_argument("--executor", default="local")
    ap.add_argument("--out", help="write the proof file here (to `cmp` two runs)")
    ap.add_argument("--commitment", help="override the profile's commitment scheme "
                    "(whir runs its conjectured regime)")
    ap.add_argument("--heads", type=int, help="attention heads (default H/32)")
    ap.add_argument("--kv-heads", type=int, help="key/value heads (default: --heads)")
    ap.add_argument("--head-dim", type=int, default=32)
    ap.add_argument("--tied", action="store_true", help="tie the embeddings and the head")
    a = ap.parse_args(argv)
    from zklora.plugins.models import llama
    from zklora.plugins.models.hf import save_adapter, save_model
    from zklora.plugins.models.tiny import tiny_adapter, tiny_arch, tiny_lora, tiny_weights
    from zklora.zkcore import api, config
    from zklora.zkcore.graph import Graph

    if a.unsegmented:
        @contextmanager
        def _none(self, segment_id):
            yield segment_id
        Graph.segment = _none
        Graph.assign_segment = lambda self, n, s: None
    heads = a.heads or a.H // 32
    arch = tiny_arch(a.kv_heads or heads, hidden_size=a.H, intermediate_size=a.F,
                     num_layers=a.N, vocab_size=a.V, num_heads=heads, head_dim=a.head_dim,
                     tie_word_embeddings=a.tied)
    d = Path(tempfile.mkdtemp(prefix="segmem-"))
    ck = tiny_weights(arch, seed=0)
    save_model(d / "model", arch, ck.weights)
    save_adapter(d / "adapter", tiny_adapter(arch, tiny_lora(targets=("q", "v")),
                                             init="random"))
    np.save(d / "batch.npy", llama.random_batch(a.V, a.B, a.T, 3).numpy())
    cfg = config.from_dict({"task": {"model": "llama-train"},
                            "model": {"model": str(d / "model"),
                                      "adapter": str(d / "adapter"),
                                      "data": str(d / "batch.npy"), "steps": 1},
                            **_commitment(a.commitment)})
    phases: dict[str, float] = {}
    now: dict[str, list[float]] = {}   # phase -> [resident at its start, max resident seen]

    def progress(phase, i, n):
        phases[phase] = max(phases.get(phase, 0.0), _rss_mib())
        cur = _current_mib()
        lo_hi = now.setdefault(phase, [cur, cur])
        lo_hi[1] = max(lo_hi[1], cur)

    t = time.perf_counter()
    res = api.prove(cfg, progress=progress)
    dt = time.perf_counter() - t
    if a.out:
        Path(a.out).write_bytes(res.data)
    print(json.dumps({"shape": [a.H, a.F, a.N, a.V, a.B, a.T],
                      "segmented": not a.unsegmented, "peak_rss_mib": round(_rss_mib()),
                      "prove_s": round(dt, 1), "proof_bytes": len(res.data),
                      "phase_hwm_mib": {k: round(v) for k, v in phases.items()},
                      "phase_resident_start_max_mib": {k: [round(a), round(b)]
                                                       for k, (a, b) in now.items()}}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
