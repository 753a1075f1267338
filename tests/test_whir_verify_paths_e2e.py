"""End to end: a fresh process verifies the tiny training step's whir proof without
starting numba (no compiled function loaded: the cold twins of
`zklora.kernels.goldilocks`), and rejects a proof with one changed byte."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_VERIFY = """
import sys
from zklora.zkcore import api, pyapi
from zklora.zkcore.errors import ProofFormatError, VerificationError
from zklora.kernels import goldilocks as G
blob = open(sys.argv[1], "rb").read()
if len(sys.argv) > 2:
    b = bytearray(blob)
    b[int(sys.argv[2])] ^= 0x10
    blob = bytes(b)
try:
    pyapi.verify(blob)
    print("verified")
except (VerificationError, ProofFormatError) as e:
    print("rejected", type(e).__name__)
print("numba started", G.numba_started())
"""


def _run(*args):
    p = subprocess.run([sys.executable, "-c", _VERIFY, *map(str, args)], cwd=ROOT,
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.mark.slow
def test_tiny_step_verified_without_numba(tmp_path):
    cfg = tmp_path / "whir.toml"
    cfg.write_text('[proof]\ncommitment = "whir"\nzero_knowledge = false\n'
                   '[commitment.whir]\nregime = "conjectured"\n')
    out = tmp_path / "tiny.zkp"
    p = subprocess.run([sys.executable, "-m", "zklora.zkcore.cli", "prove", "--task", "train",
                        "--config", str(cfg), "--out", str(out), "--quiet"], cwd=ROOT,
                       capture_output=True, text=True, timeout=1800)
    assert p.returncode == 0, p.stderr
    assert _run(out).split("\n")[:2] == ["verified", "numba started False"]
    n = out.stat().st_size
    for pos in (n // 3, n // 2, n - 100):  # op messages and the whir opening
        assert _run(out, pos).startswith("rejected")
