"""scripts/gpu_check.py runs end to end against the emulated cuda backend (tests/cuda_emu.py
standing in for cupy): every conformance row, the benchmarks' bit-for-bit cross-checks
(the ligero commitment among them) and the JSON report, at a small size — so the script
the GPU machine runs once is not first tried there."""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from pathlib import Path

import pytest

from . import cuda_emu

ROOT = Path(__file__).resolve().parents[1]


def _fake_cupy() -> types.ModuleType:
    mod = types.ModuleType("cupy")
    for k, v in vars(cuda_emu.cupy).items():
        setattr(mod, k, v)
    mod.__version__ = "emulated"
    mod.cuda = types.SimpleNamespace(
        is_available=lambda: True,
        runtime=types.SimpleNamespace(deviceSynchronize=lambda: None))
    mod.get_default_memory_pool = lambda: types.SimpleNamespace(free_all_blocks=lambda: None)
    return mod


@pytest.mark.slow
def test_gpu_check_script_on_emulated_cuda(tmp_path, monkeypatch):
    if cuda_emu.CXX is None:
        pytest.skip("no C++ compiler for the CUDA host emulation")
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy())
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "scripts/gpu_check.py")
    gc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gc)
    out = tmp_path / "gpu_check.json"
    rc = gc.main(["--out", str(out), "--log-n", "13", "--reps", "1", "--skip-step"])
    report = json.loads(out.read_text())
    assert rc == 0 and report["ok"], json.dumps(report, indent=1)[:4000]
    assert set(report["conformance"]) >= {"blake3_rows", "merkle", "rs_encode", "fetch"}
    assert all(v == "ok" for v in report["conformance"].values())
    assert "ligero_commit_2^13" in report["bench"]
    assert all(b["match"] for b in report["bench"].values())
