"""s33h5: a segmented graph's phase-1 forward spills each segment's virtual tensors to
scratch (`graph.SPILL_VIRTUALS`) and phase 2 reads them back (`graph._recompute`)
instead of running the segment's ops again: the same integers, the same proof."""

from __future__ import annotations

from collections import ChainMap

import pytest
import torch

from tests.test_s33h5_graph_reuse import prove_bench_tiny
from zklora.plugins.models import llama_train as lt
from zklora.plugins.models.llama import ForwardSpec
from zklora.plugins.models.tiny import tiny_adapter, tiny_arch, tiny_lora, tiny_weights
from zklora.zkcore import graph as graphlib
from zklora.zkcore import scratch
from zklora.zkcore.plugins import registry
from zklora.zkcore.quant import QuantConfig


def _graph_inputs(steps: int = 1):
    arch = tiny_arch(2, vocab_size=16, hidden_size=8, intermediate_size=16, num_layers=2,
                     num_heads=2, head_dim=4)
    ck = tiny_weights(arch)
    ad = tiny_adapter(arch, tiny_lora(r=2, alpha=4.0, targets=("q", "v")), init="random")
    spec = lt.TrainSpec(ForwardSpec(arch, ad.spec, QuantConfig(), 1, 4), steps)
    ids = torch.randint(0, 16, (1, 4), generator=torch.Generator().manual_seed(3))
    inputs = lt.train_inputs(spec, ck, ad, [ids])
    return lt.build_train_graph(spec, None, lt.batch_num_tokens(spec, inputs)), inputs


def _segment_values(g, inputs, spill: bool, monkeypatch, tmp: str):
    """{segment index: {tensor: value}} of every segment's outputs as phase 2 sees them
    (`_recompute` over phase 1's witness), and the names phase 1 left spilled."""
    reg = registry()
    monkeypatch.setattr(graphlib, "SPILL_VIRTUALS", spill)
    out = {}
    with scratch.session(tmp, threshold=1):
        values = graphlib.forward(g, inputs, reg, drop=True)
        spilled = set(values.spilled)
        for s in g.segments():
            local = graphlib._recompute(g, reg, s, values)
            view = ChainMap(local, values)
            out[s.index] = {t: view[t].clone() for n in g.nodes[s.start:s.stop]
                            for t in n.outputs}
    return out, spilled


@pytest.mark.parametrize("steps", [1, 2])
def test_spilled_virtuals_read_back_equal_recomputed(steps, monkeypatch, tmp_path):
    g, inputs = _graph_inputs(steps)
    new, sp_new = _segment_values(g, inputs, True, monkeypatch, str(tmp_path))
    old, sp_old = _segment_values(g, inputs, False, monkeypatch, str(tmp_path))
    virt = {t for t in sp_new if g.tensors.get(t) and g.tensors[t].kind == "virtual"}
    assert virt and not {t for t in sp_old if g.tensors.get(t)
                         and g.tensors[t].kind == "virtual"}
    assert old.keys() == new.keys()
    for k in old:
        assert old[k].keys() == new[k].keys()
        for t, v in old[k].items():
            w = new[k][t]
            assert v.dtype == w.dtype == torch.int64 and v.shape == w.shape, t
            assert torch.equal(v, w), t
    # and the whole forward (no drop) agrees with what phase 2 sees
    full = graphlib.forward(g, inputs, registry())
    for k in new:
        for t, v in new[k].items():
            assert torch.equal(full[t], v), t


def test_spill_virtuals_same_proof(monkeypatch):
    monkeypatch.setenv("ZKLORA_SPILL_BYTES", "4096")   # every batch spills
    proofs = []
    reads = []
    orig = graphlib._recompute

    def counted(graph, reg, seg, values):
        local = orig(graph, reg, seg, values)
        reads.append(sum(1 for t in local if not values.in_ram(t) and t in values))
        return local

    monkeypatch.setattr(graphlib, "_recompute", counted)
    for spill in (True, False):
        monkeypatch.setattr(graphlib, "SPILL_VIRTUALS", spill)
        proofs.append(prove_bench_tiny().data)
    assert proofs[0] == proofs[1]
    assert sum(reads) > 0   # the new path read spilled virtual tensors back
