"""A prover killed with SIGTERM removes its scratch directory (issue 14: "removed at the
end, even on failure")."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

CHILD = r"""
import sys, time
import numpy as np
from zklora.zkcore import scratch
with scratch.session(threshold=0) as st:
    st.save([np.arange(1000, dtype=np.uint64)], tag="t")
    print(st.path, flush=True)
    time.sleep(60)
"""


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_sigterm_removes_the_scratch_directory(tmp_path):
    env = dict(os.environ, ZKLORA_SCRATCH_DIR=str(tmp_path))
    p = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True,
                         env=env)
    try:
        path = p.stdout.readline().strip()
        assert path.startswith(str(tmp_path)) and os.listdir(path)
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert rc == 128 + signal.SIGTERM
    assert not os.path.exists(path)


def test_the_handler_is_restored_after_the_session():
    from zklora.zkcore import scratch
    before = signal.getsignal(signal.SIGTERM)
    with scratch.session():
        inside = signal.getsignal(signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is before
    if before is signal.SIG_DFL:
        assert inside is not signal.SIG_DFL


def test_a_callers_own_handler_is_left_alone():
    from zklora.zkcore import scratch
    seen = []
    old = signal.signal(signal.SIGTERM, lambda s, f: seen.append(s))
    try:
        with scratch.session():
            assert signal.getsignal(signal.SIGTERM) is not scratch._on_sigterm
    finally:
        signal.signal(signal.SIGTERM, old)
    assert seen == []
