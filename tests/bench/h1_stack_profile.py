"""cProfile of one captured streamed stack reduction (`stack._prove_streaming`) in this
tree (not a test).

    python tests/bench/h1_capture.py 25m /tmp/cap      # (heavy) writes /tmp/cap/stack<i>.pkl
    python tests/bench/h1_stack_profile.py /tmp/cap/stack1.pkl [TOP]

Replays the captured call inside a scratch session (the stacked table read through a
`scratch.Spilled` file, as `h1_stack_ab.py` does) once to warm up, then once under
cProfile; prints the TOP functions by own time.  For another tree run it with
``PYTHONPATH`` = that tree."""

from __future__ import annotations

import cProfile
import os
import pickle
import pstats
import sys


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    cap = argv[0]
    top = int(argv[1]) if len(argv) > 1 else 18
    from zklora.zkcore import scratch, stack
    from zklora.zkcore.plugins import registry
    from zklora.zkcore.transcript import ProverChannel, Transcript

    E = registry().field("goldilocks").ext
    with open(cap, "rb") as f:
        d = pickle.load(f)
    tabs = []
    for i, t in enumerate(d["tables"]):
        path = f"{cap}.tab{i}"
        if not os.path.exists(path) or os.path.getsize(path) != t.nbytes:
            t.tofile(path + ".tmp")
            os.replace(path + ".tmp", path)
        tabs.append(scratch.Spilled(path, 0, t.shape, t.dtype.str))
    del d["tables"]

    def once():
        with scratch.session():
            ch = ProverChannel(Transcript(b"h1_stack_ab"))
            stack._prove_streaming(ch, E, d["label"], d["K"], tabs, d["base"], d["claims"],
                                   d["weights"])

    once()
    pr = cProfile.Profile()
    pr.enable()
    once()
    pr.disable()
    pstats.Stats(pr).sort_stats("tottime").print_stats(top)


if __name__ == "__main__":
    main()
