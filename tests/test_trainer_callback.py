"""``zklora.integrations.transformers.ZkLoraCallback``: a ``transformers.Trainer`` LoRA run
proven as linked proofs; batches and settings the spec does not prove are refused
before anything is proven.  The end-to-end example (examples/trainer_callback.py) is
slow-marked."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

pytest.importorskip("transformers")
pytest.importorskip("peft")

from zklora.integrations.transformers import ZkLoraCallback, _hyper, check_batch  # noqa: E402
from zklora.zkcore.errors import ConfigError  # noqa: E402

from .test_cli import run  # noqa: E402

# the ZK-off paths (executors, model commitments, adapter checks, WHIR): pinned
pytestmark = pytest.mark.usefixtures("zk_off")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "trainer_callback.py"


def _example():
    spec = importlib.util.spec_from_file_location("trainer_callback_example", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# -- unsupported batches and settings: clear errors --------------------------------------


def test_check_batch_accepts_plain_causal_lm_batch():
    ids = torch.randint(0, 16, (2, 8))
    out = check_batch(ids, torch.ones_like(ids), ids.clone(), vocab_size=16)
    assert torch.equal(out.input_ids, ids) and out.input_ids.dtype == torch.int64
    assert torch.equal(out.labels, ids) and out.attention_mask is None


@pytest.mark.parametrize("case", ["padding", "ignored", "other_labels", "odd_seq",
                                  "odd_batch"])
def test_check_batch_accepts_what_the_data_loader_proves(case):
    """Right padding with −100 labels, prompt masking, other targets and shapes that
    are not powers of two: the prover pads and masks (docs/training.md §7)."""
    ids = torch.randint(0, 16, (3 if case == "odd_batch" else 2, 6 if case == "odd_seq" else 8))
    mask, labels = torch.ones_like(ids), ids.clone()
    if case == "padding":
        mask[0, -2:] = 0
        labels[0, -2:] = -100
    elif case == "ignored":
        labels[0, :3] = -100
    elif case == "other_labels":
        labels = torch.roll(labels, 1, dims=1)
    out = check_batch(ids, mask, labels, vocab_size=16)
    assert torch.equal(out.labels, labels)
    assert (out.attention_mask is None) == (case != "padding")
    rows = out.rows()
    assert len(rows) == ids.shape[0] and rows[0]["labels"] == labels[0].tolist()


@pytest.mark.parametrize("case, match", [
    ("padded_label", "padded position"), ("left_padding", "left"), ("no_labels", "no labels"),
    ("vocab", "outside"), ("label_vocab", "label outside"), ("embeds", "without input_ids"),
])
def test_check_batch_refuses_what_is_not_proven(case, match):
    ids = torch.randint(0, 16, (2, 8))
    mask, labels = torch.ones_like(ids), ids.clone()
    if case == "padded_label":
        mask[0, -2:] = 0
    elif case == "left_padding":
        mask[0, :2] = 0
        labels[0, :2] = -100
    elif case == "no_labels":
        labels = None
    elif case == "vocab":
        ids[0, 0] = 99
        labels = ids.clone()
    elif case == "label_vocab":
        labels[1, 3] = 16
    elif case == "embeds":
        ids = None
    with pytest.raises(ConfigError, match=match):
        check_batch(ids, mask, labels, vocab_size=16)


def test_optimiser_settings():
    p = [torch.nn.Parameter(torch.zeros(2))]
    assert _hyper(torch.optim.AdamW(p, lr=2e-3, weight_decay=0.1)) == \
        ("adamw", 2e-3, (0.9, 0.999), 1e-8, 0.1)
    assert _hyper(torch.optim.Adam(p, lr=1e-3))[0] == "adam"
    assert _hyper(torch.optim.SGD(p, lr=0.1)) == ("sgd", 0.1, None, None, 0.0)
    for opt, match in [(torch.optim.SGD(p, lr=0.1, momentum=0.9), "momentum"),
                       (torch.optim.Adagrad(p), "not proven"),
                       (torch.optim.AdamW(p, amsgrad=True), "amsgrad"),
                       (torch.optim.AdamW(p, lr=0.0), "lr > 0")]:
        with pytest.raises(ConfigError, match=match):
            _hyper(opt)
    q = [torch.nn.Parameter(torch.zeros(2))]
    two = torch.optim.AdamW([{"params": p, "lr": 1e-3}, {"params": q, "lr": 2e-3}])
    with pytest.raises(ConfigError, match="different hyper-parameters"):
        _hyper(two)
    with pytest.raises(ConfigError, match="prove_every"):
        ZkLoraCallback(prove_every=0)
    with pytest.raises(ConfigError, match="unknown keys"):
        ZkLoraCallback(train_params={"lr": 1})


def _trainer(tmp_path, cb, dataset, **args):
    from transformers import Trainer, TrainingArguments

    from zklora.plugins.models.reference import peft_model
    from zklora.plugins.models.tiny import tiny_adapter, tiny_arch, tiny_weights

    arch = tiny_arch()
    model = peft_model(tiny_weights(arch), tiny_adapter(arch))
    targs = dict(output_dir=str(tmp_path / "trainer"), per_device_train_batch_size=1,
                 max_steps=2, learning_rate=1e-3, lr_scheduler_type="constant",
                 max_grad_norm=0.0, save_strategy="no", report_to="none", use_cpu=True,
                 disable_tqdm=True, dataloader_num_workers=0)
    targs.update(args)
    return Trainer(model=model, args=TrainingArguments(**targs), train_dataset=dataset,
                   callbacks=[cb])


def test_trainer_refuses_clipping_and_padding_before_proving(tmp_path):
    ex = _example()
    data = ex.TokenBatches(256, 2, 8)
    cb = ZkLoraCallback("tiny", output_dir=tmp_path / "zk")
    with pytest.raises(ConfigError, match="max_grad_norm"):
        _trainer(tmp_path, cb, data, max_grad_norm=1.0).train()
    with pytest.raises(ConfigError, match="gradient_accumulation_steps"):
        _trainer(tmp_path, cb, data, gradient_accumulation_steps=2).train()

    class Padded(ex.TokenBatches):
        def __getitem__(self, i):
            d = super().__getitem__(i)
            d["attention_mask"][-1] = 0
            return d

    cb = ZkLoraCallback("tiny", output_dir=tmp_path / "zk2")
    with pytest.raises(ConfigError, match="padded"):
        _trainer(tmp_path, cb, Padded(256, 2, 8)).train()
    assert cb.result is None and not list((tmp_path / "zk2").glob("*.zkp"))
    assert cb._hook is None  # the model is left unhooked


def test_trainer_refuses_another_base_model(tmp_path):
    ex = _example()
    cb = ZkLoraCallback("tiny", output_dir=tmp_path / "zk")
    tr = _trainer(tmp_path, cb, ex.TokenBatches(256, 2, 8))
    with torch.no_grad():
        tr.model.get_base_model().model.norm.weight.add_(1.0)
    with pytest.raises(ConfigError, match="differs from base_model='tiny' at model.norm"):
        tr.train()


# -- end to end ---------------------------------------------------------------------------


@pytest.mark.slow
def test_example_proves_trainer_run_and_adapter_loads(tmp_path):
    """4 Trainer steps proven as two linked proofs; the proven adapter verifies against
    the chain and loads with AutoPeftModelForCausalLM; the float adapter is not it."""
    rep = _example().main(["--out", str(tmp_path), "--steps", "4", "--prove-every", "2"])
    assert rep["verified"] and rep["steps"] == 4 and len(rep["proofs"]) == 2
    assert all(x == x for x in rep["proven_losses"]) and rep["reloaded_loss"] > 0
    assert rep["float_adapter_deviation"] is not None and rep["float_adapter_deviation"] < 0.05
    zk = tmp_path / "zklora"
    r = run("verify", *rep["proofs"], "--adapter-in", zk / "initial_adapter",
            "--adapter-out", zk / "proven_adapter")
    assert r.exit_code == 0, r.output
    assert "optimiser steps 1–4 (from a fresh optimiser" in r.output
    # the Trainer's float adapter differs slightly: it is not what the proofs attest
    r = run("verify", *rep["proofs"], "--adapter-out", tmp_path / "float_adapter")
    assert r.exit_code != 0 and "REJECTED" in r.output
    doc = json.loads((zk / "chain.json").read_text())
    assert doc["proofs"] == ["proof-0001.zkp", "proof-0002.zkp"]
    cfg = json.loads((zk / "proven_adapter" / "adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] == str((tmp_path / "base_model").resolve())


@pytest.mark.slow
def test_trainer_proves_right_padded_masked_batches(tmp_path):
    """A dataset of 6-token rows, right-padded (mask 0, label −100 on the last two) with
    the first label masked (prompt masking): the callback proves the step (the prover
    pads 6 → 8) and the proven loss matches the Trainer's float loss."""
    ex = _example()

    class Masked(ex.TokenBatches):
        def __getitem__(self, i):
            d = super().__getitem__(i)
            d["attention_mask"][-2:] = 0
            d["labels"][-2:] = -100
            d["labels"][:2] = -100
            return d

    cb = ZkLoraCallback("tiny", output_dir=tmp_path / "zk")
    tr = _trainer(tmp_path, cb, Masked(256, 2, 6), max_steps=1)
    out = tr.train()
    assert cb.result is not None and cb.result.verified
    assert abs(cb.result.losses[0] - out.training_loss) < 2e-3 * out.training_loss
    rows = (tmp_path / "zk" / "data-0001.jsonl").read_text().splitlines()
    assert json.loads(rows[0])["attention_mask"] == [1, 1, 1, 1, 0, 0]
