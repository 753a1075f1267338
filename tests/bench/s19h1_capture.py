"""Capture the inputs of every `Whir._fold_streamed` call of a bench-shape prove (not a
test): the round (pickled), the table(s) and a given W as .npy files, W's points and
coefficients — the inputs `s19h1_fold_ab.py` replays.

    flock /tmp/heavy.lock python tests/bench/s19h1_capture.py SIZE OUTDIR
"""

from __future__ import annotations

import pickle
import sys
import tempfile
from pathlib import Path

import numpy as np


def main(size: str, out: str) -> None:
    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import bench, pyapi, scratch

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    orig = W.Whir._fold_streamed
    count = [0]

    def load(t):
        return t.load() if isinstance(t, scratch.Spilled) else np.array(t)

    def cap(self, ch, rd, s):
        i = count[0]
        count[0] += 1
        tabs = s.table if s.mu is not None else (s.table,)
        for j, t in enumerate(tabs):
            np.save(out / f"fold{i}_t{j}.npy", load(t))
        if s.w is not None:
            np.save(out / f"fold{i}_w.npy", s.w.load())
        with open(out / f"fold{i}.pkl", "wb") as f:
            pickle.dump(dict(rd=rd, ntab=len(tabs), mu=s.mu, points=s.points,
                             coefs=s.coefs, given=s.w is not None), f)
        print(f"fold{i}: k={rd.k} N={tabs[0].shape} T={len(tabs)} "
              f"q={None if s.points is None else s.points.shape[0]} given={s.w is not None}",
              file=sys.stderr, flush=True)
        return orig(self, ch, rd, s)

    W.Whir._fold_streamed = cap
    shape = bench.SIZES[size]
    batch, seq = bench.batch_seq(size)
    with tempfile.TemporaryDirectory() as tmp:
        m, a = bench._write_checkpoint(Path(tmp), shape)
        extra = {"act_bits": shape["act_bits"]} if "act_bits" in shape else {}
        pyapi.prove(model=str(m), adapter=str(a), steps=1, profile="fast",
                    zero_knowledge=False,
                    config={"task": {"model": "llama-train"},
                            "model": {"batch": batch, "seq": seq, **extra}},
                    out=out / "proof.zkp", progress=None)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
