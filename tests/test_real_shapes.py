"""Real LLaMA-family checkpoint shapes (issue 11, acceptance 1): random-weight models
built with transformers at the SmolLM-135M, Llama-3.2-1B and Llama-2-7B shapes, saved
with ``save_pretrained``; ``zklora commit-model``, ``prove --task forward`` and
``verify`` on a short batch with default settings.

The proofs need memory proportional to the padded model (every weight is committed):
a shape runs only where the machine has the memory it needs (the third entry of
``SHAPES``: the measured peak plus a margin) and is skipped with that reason elsewhere.
The bound analysis at these shapes (graph construction, no weights) runs everywhere:
tests/test_real_width_bounds.py.
"""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("zk_off")]  # ZK-off paths (conftest.zk_off)

#: name -> (transformers config keywords, layers, GiB of memory the machine needs, std of
#: the random embedding).  The need is the measured peak RSS plus a margin
#: (docs/forward.md § 8, docs/PERFORMANCE.md, 2 shared cores; the largest process of the
#: whole test by `/usr/bin/time -v`, 2026-12-02 at 3666741): SmolLM 3.7 GiB (7.1 GiB
#: before the memory work), Llama-3.2-1B 8.0 GiB (9 min; was 16.4 GiB), Llama-2-7B
#: 9.8 GiB (16 min; `commit-model` was 14.4 GiB).
#: A tied embedding is also the LM head: with entries of std σ a token's own logit is
#: about hidden·σ, so the 1B shape draws σ = 0.02 (as trained checkpoints have) to keep
#: the logits in the default activation range (|x| < 512).
SHAPES = {
    "smollm-135m": (dict(hidden_size=576, intermediate_size=1536, num_attention_heads=9,
                         num_key_value_heads=3, vocab_size=49152, tie_word_embeddings=True,
                         rope_theta=100000.0, max_position_embeddings=2048), 2, 6, 1.0),
    "llama-3.2-1b": (dict(hidden_size=2048, intermediate_size=8192, num_attention_heads=32,
                          num_key_value_heads=8, vocab_size=128256, tie_word_embeddings=True,
                          rope_theta=500000.0, max_position_embeddings=131072,
                          rope_scaling={"rope_type": "llama3", "factor": 32.0,
                                        "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                        "original_max_position_embeddings": 8192}), 1, 12,
                     0.02),
    "llama-2-7b": (dict(hidden_size=4096, intermediate_size=11008, num_attention_heads=32,
                        num_key_value_heads=32, vocab_size=32000, tie_word_embeddings=False,
                        max_position_embeddings=4096), 1, 14, 1.0),
}


def _mem_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        return 0.0


def _save(tmp_path, name):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    kw, layers, _, embed_std = SHAPES[name]
    cfg = LlamaConfig(num_hidden_layers=layers, rms_norm_eps=1e-5, **kw)
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg)
    with torch.no_grad():  # activations of order 1, like a trained model's
        for n, p in model.named_parameters():
            if n.endswith("norm.weight"):
                p.fill_(1.0)
            elif "embed_tokens" in n:
                p.normal_(0, embed_std)
            else:
                p.normal_(0, p.shape[1] ** -0.5)
    d = tmp_path / name
    model.save_pretrained(d)
    del model
    return d


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_real_shape_forward_proof(tmp_path, name):
    need = SHAPES[name][2]
    if _mem_gib() < need:
        pytest.skip(f"{name}: the prover needs about {need} GiB here, this machine has "
                    f"{_mem_gib():.0f} GiB")
    from zklora.zkcore.cli import main

    d = _save(tmp_path, name)
    data = tmp_path / "batch.jsonl"
    data.write_text(json.dumps({"input_ids": [1, 17, 300, 4000, 22, 9, 31, 5]}) + "\n")
    r = CliRunner()
    mc = tmp_path / "model.commit"
    res = r.invoke(main, ["commit-model", "--task", "forward", "--model", str(d), "--out", str(mc)])
    assert res.exit_code == 0, res.output
    proof = tmp_path / "f.zkp"
    res = r.invoke(main, ["prove", "--task", "forward", "--model", str(d), "--data",
                          str(data), "--model-commitment", str(mc), "--out", str(proof)])
    assert res.exit_code == 0, res.output
    res = r.invoke(main, ["verify", str(proof), "--model-commitment", str(mc)])
    assert res.exit_code == 0, res.output
