"""`zklora bench` workers pass the prover's phase progress on (their stderr, relayed
line by line with the size as prefix by `bench._spawn`), and a failing worker's error
still quotes the tail of its stderr."""

from __future__ import annotations

import io
import json
import sys

import pytest

from zklora.zkcore import bench
from zklora.zkcore.errors import ZkLoraError


def _fake_worker(monkeypatch, code: str) -> None:
    """`_spawn` runs ``code`` (a Python program) instead of the bench worker."""
    real = bench.subprocess.Popen

    def popen(cmd, **kw):
        return real([sys.executable, "-c", code], **kw)

    monkeypatch.setattr(bench.subprocess, "Popen", popen)


def test_worker_stderr_is_relayed_live_and_result_parsed(monkeypatch):
    doc = json.dumps({"ok": True, "result": {"x": 1}})
    _fake_worker(monkeypatch, "import sys\n"
                 "print('zklora: lookups: started', file=sys.stderr, flush=True)\n"
                 f"print({doc!r})\n"
                 "print('zklora: lookups: done', file=sys.stderr)\n")
    out = io.StringIO()
    assert bench._spawn({"size": "s1"}, timeout=60, stream=out) == {"x": 1}
    lines = out.getvalue().splitlines()
    assert lines == ["bench: s1: zklora: lookups: started", "bench: s1: zklora: lookups: done"]


def test_failing_worker_quotes_its_stderr(monkeypatch):
    _fake_worker(monkeypatch, "import sys\nprint('boom at the end', file=sys.stderr)\n"
                 "sys.exit(5)\n")
    with pytest.raises(ZkLoraError, match="exit 5.*boom at the end"):
        bench._spawn({"size": "s2"}, timeout=60, stream=io.StringIO())


def test_worker_timeout(monkeypatch):
    _fake_worker(monkeypatch, "import time\ntime.sleep(30)\n")
    with pytest.raises(ZkLoraError, match="timed out"):
        bench._spawn({"size": "s3"}, timeout=1, stream=io.StringIO())
