"""Scratch bytes of the whir prover per committed element (issue 14), not a test.

Commits one random table of 2^n elements inside a scratch session that spills
everything (threshold 0), opens it at two points, and prints: the store's
``bytes_written`` and the scratch directory's on-disk size right after the commit (by
file kind), the on-disk peak in the commit and in the opening (sampled before every
file deletion) and at the end of the opening,
per committed element and as a multiple of the table's 8 bytes an element; commit and
open times; and the SHA-256 of the proof (run it in two trees to check identical bytes):

    flock /tmp/heavy.lock .venv/bin/python tests/bench/whir_scratch.py 22 24
    PYTHONPATH=/tmp/old flock /tmp/heavy.lock .venv/bin/python tests/bench/whir_scratch.py 22
"""

from __future__ import annotations

import collections
import hashlib
import os
import sys
import time
from pathlib import Path

import numpy as np


def _disk(path: str) -> dict[str, int]:
    """Allocated bytes of the scratch files by kind (the name before the counter)."""
    out: dict[str, int] = collections.Counter()
    for f in os.listdir(path):
        st = os.stat(os.path.join(path, f))
        out[f.rsplit("-", 1)[0]] += st.st_blocks * 512
    return dict(out)


def main() -> None:
    import zklora
    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import mle, scratch
    from zklora.zkcore.commit import Evaluation, OpenItem
    from zklora.zkcore.plugins import registry
    from zklora.zkcore.transcript import ProverChannel, Transcript

    print("tree", Path(zklora.__file__).parent.parent, file=sys.stderr)
    F = registry().field("goldilocks")
    E = F.ext
    for n in [int(a) for a in sys.argv[1:]] or [22]:
        rng = np.random.default_rng(n)
        t = F.random(rng, 1 << n)
        t.flags.writeable = False      # kept by reference, like the kernel's stack
        evs = [Evaluation(r, mle.evaluate(E, t, r, base=True))
               for r in (E.random(rng, n) for _ in range(2))]
        s = W.Whir(F, {"direct_vars": 0})
        tab = 8 << n
        with scratch.session(threshold=0) as store:
            # on-disk peak in the commit, in the opening: sampled before every file
            # deletion (the transient files' high mark)
            peak, phase, orig = [0, 0], [0], store.discard

            def discard(h, store=store, orig=orig, peak=peak, phase=phase):
                peak[phase[0]] = max(peak[phase[0]], sum(_disk(store.path).values()))
                orig(h)

            store.discard = discard
            t0 = time.perf_counter()
            _, st = s.commit(t)
            t1 = time.perf_counter()
            after = _disk(store.path)
            w_commit = store.bytes_written
            phase[0] = 1
            ch = ProverChannel(Transcript(b"whir_scratch"))
            s.open(ch, [OpenItem(st, evs)])
            t2 = time.perf_counter()
            end = _disk(store.path)
            w_all = store.bytes_written
        proof = ch.proof_bytes()
        held = sum(after.values())
        print(f"n={n}: commit {t1 - t0:.2f} s, open {t2 - t1:.2f} s; after commit on disk "
              f"{held / (1 << n):.2f} B/elem = {held / tab:.2f}x table "
              f"({', '.join(f'{k} {v / (1 << n):.2f}' for k, v in sorted(after.items()))}); "
              f"bytes_written commit {w_commit / (1 << n):.2f} B/elem, whole "
              f"{w_all / (1 << n):.2f} B/elem; on disk at the end "
              f"{sum(end.values()) / (1 << n):.2f} B/elem; peak on disk in the commit "
              f"{max(peak[0], held) / (1 << n):.2f}, in the opening "
              f"{peak[1] / (1 << n):.2f} B/elem; proof {len(proof)} B sha256 "
              f"{hashlib.sha256(proof).hexdigest()[:24]}", flush=True)


if __name__ == "__main__":
    main()
