"""cProfile of the ZK verifier on the tiny training step (fast profile, ZK on and off).

    flock /tmp/heavy.lock python tests/bench/zk_verify_profile.py [N_LINES] [--make]

Proves the tiny step of ``tests/bench/zk_compare.py`` once each way (stored in
``/tmp/zk_verify_profile.pkl``, reused unless ``--make``), verifies each once warm,
then profiles one ZK-on verification and prints the top ``N_LINES`` by cumulative and
by own time, plus the off/on wall times of one more verification each.
"""

from __future__ import annotations

import cProfile
import pickle
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

PROOFS = Path("/tmp/zk_verify_profile.pkl")


def main() -> None:
    from tests.bench.zk_verify_ab import _setup
    from zklora.zkcore import graph as graphlib
    from zklora.zkcore import zk

    g, inputs, statement, be = _setup()
    if "--make" in sys.argv or not PROOFS.exists():
        made = {}
        for on in (False, True):
            with zk.session(on):
                made[on] = graphlib.prove(g, inputs, be, statement)
        PROOFS.write_bytes(pickle.dumps(made))
    made = pickle.loads(PROOFS.read_bytes())

    def verify(on):
        with zk.session(on):
            t = time.perf_counter()
            graphlib.verify(g, made[on][0], be, statement, made[on][1])
            return time.perf_counter() - t

    for on in (False, True):
        verify(on)
    print(f"verify off {verify(False):.3f} s, on {verify(True):.3f} s")
    n = int(next((a for a in sys.argv[1:] if a.isdigit()), "40"))
    pr = cProfile.Profile()
    pr.enable()
    verify(True)
    pr.disable()
    pr.dump_stats("/tmp/zk_verify_profile.prof")
    st = pstats.Stats(pr)
    st.sort_stats("cumulative").print_stats(n)
    st.sort_stats("tottime").print_stats(n)


if __name__ == "__main__":
    main()
