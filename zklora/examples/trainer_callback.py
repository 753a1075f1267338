"""Prove a ``transformers.Trainer`` LoRA run with ``ZkLoraCallback`` (docs/trainer.md).

Trains the built-in tiny LLaMA (written to disk as a Hugging Face checkpoint, so that the
proven adapter names a base model peft can load) with a peft LoRA adapter for a few
steps, proves the steps as linked proofs, verifies them, and loads the proven adapter
with ``peft.AutoPeftModelForCausalLM``::

    .venv/bin/python examples/trainer_callback.py --out /tmp/zk-trainer --steps 4 --prove-every 2

Prints one JSON line with the paths and figures (also what tests/test_trainer_callback.py
checks).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch


class TokenBatches(torch.utils.data.Dataset):
    """Seeded random token sequences of one fixed length: labels = input_ids and no
    padding, the batches the proof supports."""

    def __init__(self, vocab: int, n: int, seq: int, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.rows = torch.randint(0, vocab, (n, seq), generator=g)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        ids = self.rows[i]
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids.clone()}


def build_peft_model(base_dir: Path):
    """transformers' LlamaForCausalLM from ``base_dir`` + a peft LoRA adapter (r 4, α 8 on
    q, v; the tiny model's seeded initial adapter)."""
    import peft
    from transformers import LlamaForCausalLM

    from zklora.plugins.models.tiny import tiny_adapter, tiny_arch

    model = LlamaForCausalLM.from_pretrained(str(base_dir), dtype=torch.float32,
                                             attn_implementation="eager")
    cfg = peft.LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, bias="none",
                          target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    pm = peft.get_peft_model(model, cfg)
    peft.set_peft_model_state_dict(pm, tiny_adapter(tiny_arch(), init="random")
                                   .peft_state_dict())
    return pm


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="a new (or empty) directory")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--prove-every", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--seq", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--profile", default="fast")
    a = ap.parse_args(argv)

    from transformers import Trainer, TrainingArguments

    from zklora.integrations.transformers import ZkLoraCallback
    from zklora.plugins.models.tiny import write_tiny_model

    base_dir = write_tiny_model(a.out / "base_model")
    model = build_peft_model(base_dir)
    args = TrainingArguments(
        output_dir=str(a.out / "trainer"), per_device_train_batch_size=a.batch,
        max_steps=a.steps, learning_rate=a.lr, lr_scheduler_type="constant",
        optim="adamw_torch", weight_decay=0.01, max_grad_norm=0.0,  # no clipping: not proven
        logging_steps=1, save_strategy="no", report_to="none", use_cpu=True, seed=0,
        dataloader_num_workers=0, disable_tqdm=True)
    cb = ZkLoraCallback(base_model=base_dir, output_dir=a.out / "zklora",
                        prove_every=a.prove_every, profile=a.profile)
    data = TokenBatches(model.config.vocab_size, a.steps * a.batch, a.seq)
    trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[cb])
    trainer.train()
    trainer.save_model(str(a.out / "float_adapter"))  # what the Trainer trained (float)

    res = cb.result
    # the proven adapter is an ordinary peft adapter of the base model on disk
    from peft import AutoPeftModelForCausalLM

    loaded = AutoPeftModelForCausalLM.from_pretrained(str(res.proven_adapter))
    ids = data.rows[:1]
    with torch.no_grad():
        loss = float(loaded(input_ids=ids, labels=ids).loss)
    report = {"proofs": [str(p) for p in res.proofs], "proven_adapter": str(res.proven_adapter),
              "initial_adapter": str(res.initial_adapter), "steps": res.steps,
              "proven_losses": res.losses, "verified": res.verified,
              "float_adapter_deviation": res.float_deviation,
              "reloaded_loss": loss, "manifest": str(res.manifest)}
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
