"""`ZKLORA_FROZEN_DIRECT` (`published.FROZEN_DIRECT`) through a whole prove: with the
base model's lone tables spilled to direct-I/O scratch files the proof is the same bytes
as with them in RAM, and it verifies.  The tiny model's weights are all binned by
default, so `published.MAX_SHARED` is lowered to make lone tables (both prover and
verifier plan the groups with it) and the spill size to make them spill."""

from __future__ import annotations

from zklora.zkcore import published, pyapi, scratch


def test_frozen_direct_same_proof(tmp_path, monkeypatch):
    monkeypatch.setenv("ZKLORA_SPILL_BYTES", "65536")
    monkeypatch.setattr(published, "MAX_SHARED", 1 << 10)
    calls = []
    real = scratch.Store._write_direct

    def spy(self, dfd, fd, b, pos):
        calls.append(pos)
        return real(self, dfd, fd, b, pos)

    monkeypatch.setattr(scratch.Store, "_write_direct", spy)
    out = []
    for on in (False, True):
        monkeypatch.setattr(published, "FROZEN_DIRECT", on)
        out.append(pyapi.prove(task="train", model="tiny", zero_knowledge=False).data)
        assert bool(calls) is on    # the lone tables went through the direct writer
    assert out[0] == out[1]
    p = tmp_path / "p.zkp"
    p.write_bytes(out[1])
    assert pyapi.verify(p).ok
