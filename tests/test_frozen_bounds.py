"""Proven bounds of frozen tensors (issue 9, point 5): the RMSNorm gains γ and the
embedding rows the batch reads are range-checked inside every proof
(`Graph.prove_bound`), so a model owner who commits out-of-range values honestly cannot
get a proof accepted.

Each attack runs the *honest* forward on the dishonest model with the prover's
self-checks off (`zklora.zkcore.selfcheck.disabled`): every other relation holds, only
the bound is violated.  The small-graph tests also show the attack goes through when
the bound is not proven (so the rejection is the range check's doing)."""

from __future__ import annotations

import pytest
import torch

from zklora.plugins.models import llama_train as lt
from zklora.plugins.models.llama import GAIN_BITS, ForwardSpec, build_graph, random_batch
from zklora.plugins.models.tiny import tiny_adapter, tiny_arch, tiny_weights
from zklora.plugins.ops.embedding import add_embedding
from zklora.plugins.ops.rmsnorm import add_rmsnorm
from zklora.zkcore import api, config, selfcheck
from zklora.zkcore import graph as graphlib
from zklora.zkcore.errors import ProverError, VerificationError
from zklora.zkcore.graph import Graph
from zklora.zkcore.quant import Bound, QuantConfig

# the ZK-off paths (executors, model commitments, adapter checks, WHIR): pinned
pytestmark = pytest.mark.usefixtures("zk_off")

S = 16
ACT = Bound.bits(S + 10)
GAIN = Bound.bits(S + GAIN_BITS)
N, V, D = 4, 8, 4


def norm_graph(prove_bounds: bool = True) -> Graph:
    """ids → embedding(table) → H → RMSNorm(H, γ) → Y (committed output)."""
    g = Graph()
    g.tensor("ids", (N,), "committed", (0, V - 1))
    g.tensor("table", (V, D), "committed")
    g.tensor("gamma", (D,), "committed", GAIN.as_tuple())
    h = add_embedding(g, "emb", "ids", "table", bound=ACT.as_tuple())
    y = add_rmsnorm(g, "norm", h, "gamma", eps=1e-5, scale=S)
    g.outputs = [y]
    if prove_bounds:
        g.prove_bound(h)
        g.prove_bound("gamma")
    return g


def norm_inputs(seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {"ids": torch.tensor([1, 5, 1, 6]),
            "table": torch.randint(-(1 << S), 1 << S, (V, D), generator=gen),
            "gamma": torch.randint(1 << (S - 1), 1 << (S + 1), (D,), generator=gen)}


def dishonest(inputs, which: str):
    """The model owner's out-of-range value, just above its bound: γ, or an embedding
    entry of a row the batch reads."""
    bad = {k: v.clone() for k, v in inputs.items()}
    if which == "gamma":
        bad["gamma"][2] = GAIN.hi + 1
    else:
        bad["table"][5, 3] = ACT.hi + 1
    return bad


def prove_cheating(g, inputs, be):
    """An honest forward of the given (dishonest) model, proven with self-checks off."""
    with selfcheck.disabled():
        return graphlib.prove(g, inputs, be, {"t": 1})


def test_honest_model_proves(gold):
    g = norm_graph()
    assert g.proven_bounds == ["emb/H", "gamma"]
    stream, sections = graphlib.prove(g, norm_inputs(), gold, {"t": 1})
    graphlib.verify(g, stream, gold, {"t": 1}, sections)
    assert any(name == "bounds" for name, _, _ in sections)


@pytest.mark.parametrize("which,label", [("gamma", "bound:gamma"), ("embed", "bound:emb/H")])
def test_out_of_range_frozen_value_rejected(gold, which, label):
    bad = dishonest(norm_inputs(), which)
    # without the proven bound the dishonest model's proof is accepted
    loose = norm_graph(prove_bounds=False)
    stream, sections = prove_cheating(loose, bad, gold)
    graphlib.verify(loose, stream, gold, {"t": 1}, sections)
    # with it, the verifier rejects, naming the range check
    g = norm_graph()
    stream, sections = prove_cheating(g, bad, gold)
    with pytest.raises(VerificationError, match=label):
        graphlib.verify(g, stream, gold, {"t": 1}, sections)
    # an honest prover refuses the model outright, naming the tensor
    with pytest.raises(ProverError, match="gamma" if which == "gamma" else "emb/H"):
        graphlib.prove(g, bad, gold, {"t": 1})


def test_prove_bound_api():
    g = Graph()
    g.tensor("A", (4,), "committed")
    g.tensor("B", (4,), "committed", (0, 3))
    with pytest.raises(ValueError, match="unknown"):
        g.prove_bound("nope")
    with pytest.raises(ValueError, match="no declared bound"):
        g.prove_bound("A")
    with pytest.raises(ValueError, match="already declares"):
        g.prove_bound("B", (0, 7))
    g.prove_bound("A", (-2, 2))
    assert g.tensors["A"].bound == (-2, 2)
    g.prove_bound("A", (-2, 2))
    g.prove_bound("B")
    assert g.proven_bounds == ["A", "B"]
    assert g.describe()["proven_bounds"] == ["A", "B"]


def _gains(arch) -> set[str]:
    return {f"l{i}.{k}" for i in range(arch.num_layers) for k in ("ln1", "ln2")} | {"norm"}


def test_llama_graphs_prove_frozen_bounds():
    """Every γ and every embedding lookup's rows are proven bounded, forward and
    training (each step's lookup), with γ's bound the one the norms are sized from."""
    arch = tiny_arch()
    g = build_graph(ForwardSpec(arch, None, QuantConfig(), 1, 8), 0)
    assert set(g.proven_bounds) == _gains(arch) | {"embed/lookup/H"}
    for name in _gains(arch):
        assert g.tensors[name].bound == GAIN.as_tuple()
    assert g.tensors["embed/lookup/H"].bound == ACT.as_tuple()
    ad = tiny_adapter(arch)
    spec = lt.TrainSpec(ForwardSpec(arch, ad.spec, QuantConfig(), 1, 8), 2)
    g = lt.build_train_graph(spec, [0, 0])
    assert set(g.proven_bounds) == _gains(arch) | {"s0/embed/lookup/H", "s1/embed/lookup/H"}
    g.check()


@pytest.mark.parametrize("which", ["gamma", "embed"])
def test_dishonest_model_owner_rejected_end_to_end(tmp_path, which):
    """A tiny checkpoint with γ (or an embedding entry the batch reads) out of its
    declared bound, committed honestly by `commit-model`, proven with self-checks off:
    `verify --model-commitment` (api.verify with the trusted commitment) rejects."""
    from zklora.plugins.models.hf import save_model

    arch = tiny_arch()
    weights = dict(tiny_weights(arch).weights)
    ids = random_batch(arch.vocab_size, 1, 4, 0)
    if which == "gamma":
        w = weights["model.layers.1.post_attention_layernorm.weight"].clone()
        w[7] = float(1 << (GAIN_BITS - 1))  # 2^(s+6) at scale s: one above the bound
        weights["model.layers.1.post_attention_layernorm.weight"] = w
        label = "bound:l1.ln2"
    else:
        w = weights["model.embed_tokens.weight"].clone()
        w[int(ids[0, 2]), 5] = float(1 << 9)  # 2^(s+9): one above the activation bound
        weights["model.embed_tokens.weight"] = w
        label = "bound:embed/lookup/H"
    save_model(tmp_path / "m", arch, weights)
    cfg = config.from_dict({"task": {"model": "llama"},
                            "model": {"model": str(tmp_path / "m"), "batch": 1, "seq": 4}})
    mc = api.commit_model(cfg)
    with pytest.raises(ProverError, match="outside"):
        api.prove(cfg, trusted_model=mc)
    with selfcheck.disabled():
        res = api.prove(cfg, trusted_model=mc)
    with pytest.raises(VerificationError, match=label):
        api.verify(res.data, trusted_model=mc)
