"""cProfile + rusage of one bench-shape prove's commitments phase only (the profiler runs
inside graph's "commitments" section): top functions by own time, the phase's user / sys
CPU, minor faults and wall.  Not a test.

    flock /tmp/heavy.lock python tests/bench/s32h5_commit_phase.py 25m /tmp/x [--dump F]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import sys
import time
from contextlib import contextmanager
from pathlib import Path


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("size")
    ap.add_argument("outdir")
    ap.add_argument("--dump")
    ap.add_argument("--top", type=int, default=40)
    a = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).parent))
    import h3_prove_shape

    from zklora.zkcore import graph

    prof = cProfile.Profile()
    orig = graph._SectionRecorder.section
    info: dict = {}

    @contextmanager
    def section(self, name):
        if name != "commitments":
            with orig(self, name):
                yield
            return
        r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        prof.enable()
        try:
            with orig(self, name):
                yield
        finally:
            prof.disable()
            r1 = resource.getrusage(resource.RUSAGE_SELF)
            info.update(wall=time.perf_counter() - t0, user=r1.ru_utime - r0.ru_utime,
                        sys=r1.ru_stime - r0.ru_stime, minflt=r1.ru_minflt - r0.ru_minflt,
                        majflt=r1.ru_majflt - r0.ru_majflt,
                        inblock=r1.ru_inblock - r0.ru_inblock,
                        oublock=r1.ru_oublock - r0.ru_oublock)

    graph._SectionRecorder.section = section
    out = Path(a.outdir)
    out.mkdir(parents=True, exist_ok=True)
    h3_prove_shape.main(a.size, str(out / f"{a.size}.zkp"))
    print("commitments phase:", {k: round(v, 3) if isinstance(v, float) else v
                                 for k, v in info.items()})
    if a.dump:
        prof.dump_stats(a.dump)
    st = pstats.Stats(prof)
    st.sort_stats("tottime").print_stats(a.top)
    st.sort_stats("cumulative").print_stats(a.top)


if __name__ == "__main__":
    main()
