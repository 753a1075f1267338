"""The two witness phases of `zklora prove --task train`, timed in-process (issue 13:
"compute the witness once").

    .venv/bin/python tests/bench/witness_phases.py --layers 2 --dir /tmp/w   # writes, runs
    .venv/bin/python tests/bench/witness_phases.py --dir /tmp/w --hash out.json

``--layers L`` first writes a checkpoint of the SmolLM-135M widths with L layers (hidden
576, FFN 1536, 9 heads over 3 KV heads of dim 64, vocab 49152, tied embeddings; LoRA q,v,
random init; a seeded random batch 1 × 128) into ``--dir`` (as `/tmp/smol/make.py`).
Then, inside one scratch session exactly as `api.prove` does, it runs and times the
"integer computation" (`make_statement` + `check_work` + `model.witness`: the losses'
integer run) and the "forward pass" (`model.build` + `graph.forward(drop=…)`, which takes
the handed-over witness, `graph.Traced`), each as wall and process CPU seconds, with
the peak RSS.  ``--hash FILE`` writes the statement and the sha256 of every tensor the
forward pass returns (compare two trees' files for bit-identity); ``--profile FILE``
writes a cProfile of both phases.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import resource
import time
from pathlib import Path


def make(d: Path, layers: int) -> None:
    import numpy as np

    from zklora.plugins.models.data import random_batch
    from zklora.plugins.models.hf import save_adapter, save_model
    from zklora.plugins.models.tiny import tiny_adapter, tiny_arch, tiny_lora, tiny_weights

    arch = tiny_arch(3, hidden_size=576, intermediate_size=1536, num_layers=layers,
                     vocab_size=49152, num_heads=9, head_dim=64, tie_word_embeddings=True)
    save_model(d / "model", arch, tiny_weights(arch, seed=0).weights)
    save_adapter(d / "adapter", tiny_adapter(arch, tiny_lora(targets=("q", "v")),
                                             init="random"))
    np.save(d / "batch.npy", random_batch(49152, 1, 128, 3).numpy())


def rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def run(d: Path, hash_out: str | None) -> dict:
    import torch

    from zklora.zkcore import api, pyapi, scratch
    from zklora.zkcore import graph as graphlib
    from zklora.zkcore.plugins import registry

    cfg = pyapi.build_config(task="train", model=str(d / "model"),
                             adapter=str(d / "adapter"), data=str(d / "batch.npy"))
    reg = registry()
    model = api._model(reg, cfg.model)
    out: dict = {}
    with scratch.session():
        t0, c0 = time.perf_counter(), time.process_time()
        st = api.make_statement(cfg, model)
        api.check_work(model, st["params"])
        w = model.witness(cfg.model_params)
        t1, c1 = time.perf_counter(), time.process_time()
        out["integer_computation"] = {"wall_s": t1 - t0, "cpu_s": c1 - c0,
                                      "peak_rss_gib": rss_gib()}
        g = model.build(st["params"])
        values = graphlib.forward(g, w, reg, drop=bool(g.node_segments))
        t2, c2 = time.perf_counter(), time.process_time()
        out["forward_pass"] = {"wall_s": t2 - t1, "cpu_s": c2 - c1, "peak_rss_gib": rss_gib(),
                               "handed_over": isinstance(w, graphlib.Traced)}
        out["losses"] = st["params"]["losses"]
        if hash_out:
            h = {}
            for k in values:
                v = torch.as_tensor(values[k]).to(torch.int64).contiguous()
                h[k] = [list(v.shape), hashlib.sha256(v.numpy().tobytes()).hexdigest()]
            Path(hash_out).write_text(json.dumps({"statement": st, "values": h},
                                                 sort_keys=True, default=str))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True, type=Path)
    ap.add_argument("--layers", type=int, default=None,
                    help="write a SmolLM-width checkpoint with this many layers first")
    ap.add_argument("--hash", default=None)
    ap.add_argument("--profile", default=None)
    a = ap.parse_args()
    if a.layers is not None:
        make(a.dir, a.layers)
    if a.profile:
        prof = cProfile.Profile()
        res = prof.runcall(run, a.dir, a.hash)
        prof.dump_stats(a.profile)
    else:
        res = run(a.dir, a.hash)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
