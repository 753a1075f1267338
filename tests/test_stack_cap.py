"""A witness larger than one commitment may hold (the scheme's ``max_vars``: WHIR's
2^28, which a 30-layer SmolLM-135M step's 2^30 entries exceed) is committed as several
stacks of at most 2^max_vars entries (`Committer.flush_packed`), decided from the sizes
on both sides: it proves and verifies, and a tampered proof is still rejected."""

from __future__ import annotations

import pytest

from zklora.plugins.commitments.ligero import Ligero
from zklora.zkcore import api, config, proof
from zklora.zkcore.committer import Committer
from zklora.zkcore.errors import ZkLoraError

CFG = {"profile": "debug", "proof": {"commitment": "ligero"},
       "model": {"m": 32, "k": 64, "n": 32}}


largest: list[int] = []


def _stacks(monkeypatch) -> list[int]:
    """Prove `CFG`, recording the size (entries) of every stack the prover commits."""
    sizes: list[int] = []
    orig = Committer.flush

    def flush(self, ch):
        if self.prover and self._pending:
            sizes.append(sum(s.size for s, _ in self._pending))
            largest.append(max(s.size for s, _ in self._pending))
        return orig(self, ch)

    monkeypatch.setattr(Committer, "flush", flush)
    data = api.prove(config.from_dict(CFG)).data
    monkeypatch.setattr(Committer, "flush", orig)
    return sizes, data


def test_witness_split_into_capped_stacks(monkeypatch):
    base, _ = _stacks(monkeypatch)
    cap = max(largest).bit_length() - 1   # the largest tensor fills a stack
    assert max(base) > 1 << cap           # one stack would exceed the cap
    monkeypatch.setattr(Ligero, "max_vars", cap)
    sizes, data = _stacks(monkeypatch)
    assert max(sizes) <= 1 << cap and len(sizes) > len(base)
    api.verify(data)                      # the verifier splits the same way
    pf = proof.decode(data)
    # a flipped byte in the proof stream is rejected
    raw = bytearray(data)
    raw[len(raw) // 2] ^= 1
    with pytest.raises(ZkLoraError):
        api.verify(bytes(raw))
    # a verifier with another cap does not agree with this proof's stacks
    monkeypatch.setattr(Ligero, "max_vars", None)
    with pytest.raises(ZkLoraError):
        api.verify(data)
    assert pf.statement
