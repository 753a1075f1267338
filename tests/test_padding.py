"""Non-power-of-two LLaMA dims: padded inside the prover, true shapes in the statement,
integer semantics unchanged (zklora/plugins/models/padding.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zklora.plugins.models import hf, llama, tiny
from zklora.plugins.models.padding import Padding
from zklora.zkcore.errors import ConfigError
from zklora.zkcore.quant import QuantConfig

ALL = ("q", "k", "v", "o", "gate", "up", "down")


def odd_arch(**kw) -> hf.LlamaArch:
    """vocab 100, FFN 80 and KV heads 3 of 6 query heads (G = 2): all padded."""
    d = dict(num_kv_heads=3, vocab_size=100, hidden_size=96, intermediate_size=80,
             num_heads=6, head_dim=16, num_layers=2)
    d.update(kw)
    return tiny.tiny_arch(**d)


def test_padded_dims_and_layout():
    p = Padding(odd_arch(num_heads=9, num_kv_heads=3), r=4)
    assert (p.size("vocab"), p.size("hidden"), p.size("ffn")) == (128, 128, 128)
    assert (p.kv_heads, p.group, p.group_p, p.heads) == (4, 3, 4, 16)
    idx = p.index("q")
    # head h = kv·3 + g → kv·4 + g, dims unchanged
    for h in range(9):
        kv, g = divmod(h, 3)
        assert int(idx[h * 16 + 5]) == (kv * 4 + g) * 16 + 5
    w = torch.randn(9 * 16, 96)
    wp = p.pad(w, ("q", "hidden"))
    assert wp.shape == (256, 128) and int((wp != 0).sum()) == int((w != 0).sum())
    assert torch.equal(p.unpad(wp, ("q", "hidden")), w)
    m = p.mask(2, "q").materialise()
    assert m.shape == (2, 256) and int(m.sum()) == 2 * 9 * 16
    assert torch.equal(m[0, idx], torch.ones(9 * 16, dtype=torch.int64))


def test_refused_dims():
    with pytest.raises(ConfigError, match="head_dim 12 is not a power of two"):
        Padding(odd_arch(head_dim=12))
    with pytest.raises(ConfigError, match="r = 3"):
        Padding(odd_arch(), r=3)


def _setup(arch, seed=0):
    ck = tiny.tiny_weights(arch, seed=seed)
    lora = hf.LoraSpec(r=4, alpha=8.0, targets=ALL)
    ad = tiny.tiny_adapter(arch, lora)
    spec = llama.ForwardSpec(arch, lora, QuantConfig(), 2, 8)
    ids = llama.random_batch(arch.vocab_size, 2, 8, seed=3)
    return ck, ad, spec, ids


#: G = 2 with 3 KV heads; G = 3 (a padded query head inside a real KV group)
ARCHS = {"kv3": {}, "group3": dict(num_heads=9, hidden_size=144)}


@pytest.mark.parametrize("which", sorted(ARCHS))
def test_padding_is_invisible_to_the_integer_forward(which):
    """Garbage in every padded entry of every committed weight and adapter leaves the
    logits and the loss unchanged: the masks make the true entries a function of the
    true inputs alone."""
    arch = odd_arch(**ARCHS[which])
    ck, ad, spec, ids = _setup(arch)
    inputs = llama.quantize_inputs(spec, ck, ad, ids)
    base = llama.integer_forward(spec, inputs)
    pad = spec.padding
    gen = torch.Generator().manual_seed(5)
    dirty = {}
    for name, v in inputs.items():
        if name in ("ids", "labels"):
            dirty[name] = v
            continue
        kinds = pad.tensor_kinds(name)
        junk = torch.randint(-(1 << 12), 1 << 12, v.shape, generator=gen)
        keep = pad.pad(torch.ones([pad.true_size(k) for k in kinds], dtype=torch.int64),
                       kinds).bool()
        dirty[name] = torch.where(keep, v, junk)
    assert any(not torch.equal(dirty[n], inputs[n]) for n in inputs)
    other = llama.integer_forward(spec, dirty)
    assert torch.equal(other.logits_int, base.logits_int)
    assert other.loss_int == base.loss_int


@pytest.mark.slow
@pytest.mark.parametrize("which", sorted(ARCHS))
def test_padded_forward_matches_transformers(which):
    """Integer logits and loss of a padded model against transformers + peft float32."""
    from zklora.plugins.models import reference
    arch = odd_arch(**ARCHS[which])
    ck, ad, spec, ids = _setup(arch)
    res = llama.integer_forward(spec, llama.quantize_inputs(spec, ck, ad, ids))
    ref = reference.reference_forward(ck, ad, ids)
    assert res.logits.shape == ref.logits.shape == (2, 8, 100)
    err = float((res.logits.float() - ref.logits).norm() / ref.logits.norm())
    assert err < 3e-3, err
    assert abs(res.loss - ref.loss) < 1e-3 * abs(ref.loss)


def _dirs(tmp_path, arch):
    ck, ad, spec, ids = _setup(arch)
    hf.save_model(tmp_path / "m", arch, ck.weights)
    hf.save_adapter(tmp_path / "a", ad)
    np.save(tmp_path / "b.npy", ids.numpy())
    return ck, ad, ids


@pytest.mark.slow
@pytest.mark.parametrize("which", sorted(ARCHS))
def test_padded_model_proves_forward_and_train(tmp_path, which):
    """A forward proof and a one-step training proof of a model with vocab 100, FFN 80,
    3 KV heads verify; the trained adapter has the checkpoint's true shapes and is the
    integer spec's."""
    import zklora
    arch = odd_arch(**ARCHS[which])
    _dirs(tmp_path, arch)
    m, a, b = str(tmp_path / "m"), str(tmp_path / "a"), str(tmp_path / "b.npy")
    res = zklora.prove(task="forward", model=m, adapter=a, data=b,
                       out=str(tmp_path / "f.zkp"), progress=False)
    v = zklora.verify(str(tmp_path / "f.zkp"))
    assert v.ok and v.statement["params"]["arch"]["vocab_size"] == 100
    res = zklora.prove(task="train", model=m, adapter=a, data=b, steps=1,
                       out=str(tmp_path / "t.zkp"), adapter_out=str(tmp_path / "ao"),
                       progress=False)
    assert len(res.losses) == 1
    zklora.verify(str(tmp_path / "t.zkp"), adapter_out=str(tmp_path / "ao"))
    out = hf.load_adapter(tmp_path / "ao", arch)
    assert tuple(out.pairs[(0, "q")].B.shape) == (arch.num_heads * 16, 4)
    assert tuple(out.pairs[(1, "down")].A.shape) == (4, 80)
