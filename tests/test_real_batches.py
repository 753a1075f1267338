"""Real batches (issue 11): ragged rows, attention_mask, labels = −100, and a padded
vocabulary in the cross-entropy.

* the padded-vocabulary cross-entropy (V = 8, vocab = 5): complete, no softmax mass and
  no gradient on the padded columns, and a prover that puts a label on column 6 or
  softmax mass on the padded columns (every other relation satisfied) is rejected;
* a ragged, masked batch on a small LLaMA: proves; a changed label, a changed N, a
  changed row-mask entry are rejected; the training graph takes it too;
* the tiny model through `zklora.prove`: the loss of a ragged JSONL batch with
  attention_mask and −100 labels equals transformers' `LlamaForCausalLM` loss to 1e-4
  relative, changing a masked token's id leaves the statement's loss unchanged, and a
  statement with another ``num_tokens`` is rejected.
"""

from __future__ import annotations

import json
import re

import pytest
import torch

from zklora.plugins.models import llama
from zklora.plugins.models import llama_train as lt
from zklora.plugins.models.data import IGNORE_INDEX, Batch, Row, load_batches, pad_rows
from zklora.plugins.models.hf import LlamaArch, LoraSpec
from zklora.plugins.models.tiny import tiny_adapter, tiny_weights
from zklora.plugins.ops.cross_entropy import (
    ROLES,
    add_cross_entropy,
    cross_entropy_forward,
    cross_entropy_value,
)
from zklora.plugins.ops.cross_entropy_backward import (
    add_cross_entropy_backward,
    cross_entropy_saved,
)
from zklora.plugins.ops.softmax import softmax_forward, softmax_roles
from zklora.zkcore import graph as graphlib
from zklora.zkcore.errors import ConfigError, ProverError, ZkLoraError
from zklora.zkcore.quant import QuantConfig
from zklora.zkcore.testing.tamper import assert_rejected, bump, prove_and_verify

# -- padded vocabulary -------------------------------------------------------------------

P = dict(scale=8, exp_scale=10, digit_bits=8, mantissa_bits=6, limb_bits=8)
T, V, VOCAB = 8, 8, 5


def pad_wit(seed=0):
    gen = torch.Generator().manual_seed(seed)
    z = (torch.randn(T, V, generator=gen) * 2 * (1 << P["scale"])).round().to(torch.int64)
    z[:, VOCAB:] += 3 << P["scale"]       # padded logits larger than the real ones
    lab = torch.randint(0, VOCAB, (T,), generator=gen)
    lab[-1] = IGNORE_INDEX
    return {"Z": z, "lab": lab}


def pad_graph(w, loss=None, n=None, backward=False):
    if loss is None:
        loss, n = cross_entropy_value(w["Z"], w["lab"], vocab=VOCAB, **P)
    g = graphlib.Graph()
    g.tensor("Z", (T, V), "committed", (-(1 << 20), 1 << 20))
    g.tensor("lab", (T,), "committed")
    add_cross_entropy(g, "ce", "Z", "lab", loss=loss, num_tokens=n, vocab=VOCAB, **P)
    if backward:
        g.outputs.append(add_cross_entropy_backward(g, "bwd", *cross_entropy_saved("ce"),
                                                    scale=P["scale"], grad_scale=12,
                                                    vocab=VOCAB))
    return g


def test_padded_vocab_complete_and_exact(gold):
    w = pad_wit()
    g = pad_graph(w, backward=True)
    vals = graphlib.forward(g, w, gold.registry)
    assert int(vals["ce/softmax/P"][:, VOCAB:].abs().sum()) == 0
    assert int(vals["ce/Y"][:, VOCAB:].abs().sum()) == 0
    assert int(vals["bwd/dZ"][:, VOCAB:].abs().sum()) == 0
    # the padded logits do not enter the loss (whatever they hold)
    z2 = w["Z"].clone()
    z2[:, VOCAB:] = -z2[:, VOCAB:] + 7
    assert cross_entropy_value(z2, w["lab"], vocab=VOCAB, **P) == \
        cross_entropy_value(w["Z"], w["lab"], vocab=VOCAB, **P)
    assert cross_entropy_value(w["Z"], w["lab"], **P) != \
        cross_entropy_value(w["Z"], w["lab"], vocab=VOCAB, **P)
    prove_and_verify(g, w, gold)


def test_padded_vocab_bad_builder_args():
    w = pad_wit()
    with pytest.raises(ProverError, match="label 6"):
        lab = w["lab"].clone()
        lab[0] = 6
        cross_entropy_value(w["Z"], lab, vocab=VOCAB, **P)
    g = pad_graph(w)
    with pytest.raises(ConfigError, match="vocab 9 must be in"):
        add_cross_entropy(g, "ce2", "Z", "lab", loss=0, num_tokens=1, vocab=9, **P)
    with pytest.raises(ConfigError, match="differs from the forward's 5"):
        add_cross_entropy_backward(g, "b2", *cross_entropy_saved("ce"), scale=P["scale"],
                                   vocab=8)


def _set_outputs(values, prefix, roles, out):
    for r in roles:
        if r in out:
            v = out[r]
            values[f"{prefix}/{r}"] = v.clone() if torch.is_tensor(v) else v


def test_label_on_a_padded_column_rejected(gold):
    """The cheat: label 6 (a padded column) on a counted row, with Y, m, the loss and every
    row value recomputed consistently; only Y² − Mc·Y = 0 can catch it."""
    w = pad_wit()
    cheat = w["lab"].clone()
    cheat[0] = 6
    sm = softmax_forward(w["Z"], torch.tensor([1] * VOCAB + [0] * (V - VOCAB)), scale=P["scale"],
                         shift=2, kappa=4, digit_bits=8, exp_scale=10, limb_bits=8)
    out = cross_entropy_forward(w["Z"], cheat, sm["c"], sm["S"], scale=P["scale"], shift=2,
                                mantissa_bits=6)            # no vocab: label 6 accepted
    g = pad_graph(w, int(out["loss"][0]), int(out["m"].sum()))

    def tamper(values):
        values["lab"] = cheat.clone()
        _set_outputs(values, "ce", ROLES[1:], out)

    msg = assert_rejected(g, w, gold, {}, tamper)
    assert msg != "prover could not produce a proof"


def test_mass_on_padded_columns_rejected(gold):
    """The cheat: the softmax over all V columns (no vocabulary mask), the loss from it;
    every relation holds but the mask's."""
    w = pad_wit()
    sm = softmax_forward(w["Z"], None, scale=P["scale"], shift=2, kappa=4, digit_bits=8,
                         exp_scale=10, limb_bits=8)
    out = cross_entropy_forward(w["Z"], w["lab"], sm["c"], sm["S"], scale=P["scale"],
                                shift=2, mantissa_bits=6)
    honest = cross_entropy_value(w["Z"], w["lab"], vocab=VOCAB, **P)
    assert int(out["loss"][0]) != honest[0]
    g = pad_graph(w, int(out["loss"][0]), int(out["m"].sum()))
    roles = softmax_roles(0, V, P["scale"], 8)
    flat = {r: sm[r] for r in roles if r in sm}
    for k in ("low", "rem", "g"):
        for i, v in enumerate(sm[k]):
            flat[f"{k}{i}"] = v

    def tamper(values):
        _set_outputs(values, "ce/softmax", roles, flat)
        _set_outputs(values, "ce", ROLES[1:], out)

    msg = assert_rejected(g, w, gold, {}, tamper)
    assert msg != "prover could not produce a proof"


# -- a ragged, masked batch on a small LLaMA ----------------------------------------------

SMALL = LlamaArch(vocab_size=16, hidden_size=16, intermediate_size=32, num_layers=1,
                  num_heads=2, num_kv_heads=1, head_dim=8, max_position_embeddings=64)
LORA = LoraSpec(r=2, alpha=4.0, targets=("q", "v"))


def ragged_batch() -> Batch:
    def row(ids, labels=None, mask=None):
        ids = torch.tensor(ids)
        lab = ids.clone() if labels is None else torch.tensor(labels)
        if mask is not None:
            lab[torch.tensor(mask) == 0] = IGNORE_INDEX
        return Row(ids, lab)

    return pad_rows([row([1, 2, 3, 4, 5, 6, 7], mask=[1, 1, 1, 1, 1, 0, 0]),
                     row([8, 9, 10], labels=[-100, -100, 10]),
                     row([11, 12, 13, 14, 15])])


@pytest.fixture(scope="module")
def small():
    batch = ragged_batch()
    spec = llama.ForwardSpec(SMALL, LORA, QuantConfig(), *batch.shape)
    ck, ad = tiny_weights(SMALL), tiny_adapter(SMALL, LORA, seed=1)
    inputs = llama.quantize_inputs(spec, ck, ad, batch)
    res = llama.integer_forward(spec, inputs)
    return spec, batch, inputs, res


def test_ragged_batch_counts_and_proves(small, gold):
    spec, batch, inputs, res = small
    assert batch.shape == (4, 8) and batch.num_tokens == 4 + 1 + 4
    g = llama.build_graph(spec, res.loss_int, batch.num_tokens)
    prove_and_verify(g, inputs, gold)
    # the loss is the mean over the counted tokens, as F.cross_entropy(ignore_index=−100)
    logits = res.logits.reshape(4, 8, -1)
    ref = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, 16),
                                            batch.labels[:, 1:].reshape(-1))
    assert abs(res.loss - float(ref)) / float(ref) < 1e-3


@pytest.mark.parametrize("what", ["label", "ignored_label", "num_tokens", "mask_on",
                                  "mask_off"])
def test_ragged_batch_tampered_rejected(small, gold, what):
    spec, batch, inputs, res = small
    N = batch.num_tokens
    g = llama.build_graph(spec, res.loss_int, N + (1 if what == "num_tokens" else 0))
    if what == "label":             # a counted label changed (row 0, position 2)
        tamper = bump("labels", 2)
    elif what == "ignored_label":   # a −100 label (row 1, position 1) made a token, shifted
        def tamper(values):        # labels consistent; N, Y, m and the loss kept
            values["labels"][8 + 1] = 9
            values["labels/labels"][8 + 0] = 9
    elif what == "num_tokens":      # the statement's N off by one (self-checks off)
        def tamper(values):
            pass
    elif what == "mask_on":         # a padded row counted (row 3, position 0)
        tamper = bump("loss/m", 24)
    else:                           # a counted row dropped (row 0, position 1)
        tamper = bump("loss/m", 1, -1)
    msg = assert_rejected(g, inputs, gold, {}, tamper)
    assert msg != "prover could not produce a proof"


def test_masked_ids_do_not_change_the_loss(small):
    spec, batch, inputs, res = small
    ids = batch.input_ids.clone()
    ids[0, 5:] = torch.tensor([3, 14, 9])        # under attention_mask 0, and padding
    ids[3] = 7                                    # a padding row
    other = Batch(ids, batch.labels, batch.rows, batch.length)
    ck, ad = tiny_weights(SMALL), tiny_adapter(SMALL, LORA, seed=1)
    res2 = llama.integer_forward(spec, llama.quantize_inputs(spec, ck, ad, other))
    assert res2.loss_int == res.loss_int
    assert not torch.equal(res2.logits_int, res.logits_int)


def test_training_graph_with_ragged_batches(tmp_path, gold):
    """Two steps, one ragged batch each (`batch_size`), N per step in the statement."""
    arch = LlamaArch(vocab_size=16, hidden_size=8, intermediate_size=16, num_layers=1,
                     num_heads=2, num_kv_heads=2, head_dim=4, max_position_embeddings=64)
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in [
        {"input_ids": [1, 2, 3, 4], "attention_mask": [1, 1, 1, 0]},
        {"input_ids": [5, 6, 7], "labels": [-100, 6, 7]},
        {"input_ids": [8, 9, 10, 11]}]))
    batches = load_batches(path, 2, vocab=16)
    assert [b.shape for b in batches] == [(2, 4), (2, 4)]
    ck = tiny_weights(arch)
    ad = tiny_adapter(arch, LoraSpec(r=2, alpha=4.0, targets=("q", "v")), init="random")
    spec = lt.TrainSpec(llama.ForwardSpec(arch, ad.spec, QuantConfig(), 2, 4), 2,
                        grad_bits=6, batches=2)
    inputs = lt.train_inputs(spec, ck, ad, batches)
    assert lt.batch_num_tokens(spec, inputs) == [2 + 2, 3]
    g, res = lt.integer_train(spec, inputs)
    pub = dict(spec.to_public(), losses=res.losses, num_tokens=[4, 3])
    assert lt.LlamaTrain().public_params(pub) == pub
    assert "s1/labels" in lt.statement_tensors(pub)["data"]
    prove_and_verify(g, inputs, gold)
    msg = assert_rejected(lt.build_train_graph(spec, res.losses, [4, 2]), inputs, gold, {},
                          lambda values: None)
    assert msg != "prover could not produce a proof"


def test_batch_size_option(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"input_ids": [i + 1] * (i + 2)}) + "\n"
                            for i in range(4)))
    base = {"model": "tiny", "data": str(path), "steps": 2}
    spec, _, _, batches = lt.load_private(dict(base, batch_size=2))
    assert spec.batches == 2 and [b.rows for b in batches] == [2, 2]
    assert (spec.fwd.batch, spec.fwd.seq) == (2, 8)
    spec, _, _, batches = lt.load_private(dict(base, batch_size=4))
    assert spec.batches == 1 and batches[0].shape == (4, 8)
    spec, _, _, batches = lt.load_private(dict(base, batch=2))     # steps × batch rows
    assert spec.batches == 2
    with pytest.raises(ConfigError, match="make 4 batches, but steps = 2"):
        lt.load_private(dict(base, batch_size=1))
    with pytest.raises(ConfigError, match="give data too"):
        lt.load_private({"model": "tiny", "batch_size": 2})
    with pytest.raises(ConfigError, match="not both"):
        lt.load_private(dict(base, batch_size=2, batch=2))


# -- the tiny model through the Python API, against transformers ----------------------------

ROWS = [
    {"input_ids": [1, 17, 42, 99, 7, 250, 3, 8, 77, 12, 0, 0],
     "attention_mask": [1] * 10 + [0, 0]},
    {"input_ids": [5, 6, 7, 8, 9, 10, 11], "labels": [-100, -100, -100, 8, 9, 10, 11]},
    {"input_ids": [200, 201, 202, 203, 204, 205, 206, 207, 208],
     "attention_mask": [1] * 6 + [0] * 3, "labels": [-100, 201, 202, 203, 204, 205] +
     [-100] * 3},
]


def write_rows(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def hf_loss(rows) -> float:
    """transformers' loss on the real rows, right-padded with attention_mask 0."""
    from zklora.plugins.models.reference import peft_model
    from zklora.plugins.models.tiny import tiny_arch

    arch = tiny_arch(4)
    pm = peft_model(tiny_weights(arch), tiny_adapter(arch, init="random"))
    L = max(len(r["input_ids"]) for r in rows)
    ids = torch.zeros(len(rows), L, dtype=torch.long)
    mask = torch.zeros(len(rows), L, dtype=torch.long)
    lab = torch.full((len(rows), L), -100, dtype=torch.long)
    for i, r in enumerate(rows):
        n = len(r["input_ids"])
        ids[i, :n] = torch.tensor(r["input_ids"])
        m = torch.tensor(r.get("attention_mask", [1] * n))
        mask[i, :n] = m
        lab_i = torch.tensor(r["labels"]) if "labels" in r else ids[i, :n].clone()
        lab_i[m == 0] = -100
        lab[i, :n] = lab_i
    with torch.no_grad():
        return float(pm(input_ids=ids, attention_mask=mask, labels=lab).loss)


def test_tiny_ragged_batch_matches_transformers(tmp_path):
    import zklora
    from zklora.zkcore.errors import VerificationError

    path = write_rows(tmp_path / "batch.jsonl", ROWS)
    res = zklora.prove(task="forward", model="tiny", data=path, profile="debug",
                       out=str(tmp_path / "f.zkp"), progress=False)
    params = res.statement["params"]
    want_n = 9 + 5 + 4
    assert (params["batch"], params["seq"], params["num_tokens"]) == (4, 16, want_n)
    v = zklora.verify(str(tmp_path / "f.zkp"))
    assert v.ok and v.losses == res.losses
    ref = hf_loss(ROWS)
    rel = abs(res.losses[0] - ref) / ref
    print(f"\nragged masked batch (3 rows, {want_n} counted tokens, padded 4 × 16): "
          f"proven loss {res.losses[0]:.6f}, transformers {ref:.6f}, rel. error {rel:.2e}")
    assert rel < 1e-4
    # a masked token's id changed: same loss and count (and another data commitment)
    rows2 = json.loads(json.dumps(ROWS))
    rows2[0]["input_ids"][10:] = [123, 45]
    rows2[2]["input_ids"][7] = 3
    p2 = llama.Llama().public_params({"model": "tiny", "data": write_rows(
        tmp_path / "b2.jsonl", rows2)})
    assert (p2["loss"], p2["num_tokens"]) == (params["loss"], params["num_tokens"])
    # a statement claiming another N is rejected
    raw = (tmp_path / "f.zkp").read_bytes()
    m = re.search(rb'"num_tokens":(\d+)', raw)
    for n in (want_n - 1, want_n + 1):
        bad = raw.replace(m.group(0), b'"num_tokens":' + str(n).encode())
        with pytest.raises((VerificationError, ZkLoraError)):
            zklora.verify(bad)


def test_tiny_text_rows_need_a_tokenizer(tmp_path):
    path = write_rows(tmp_path / "t.jsonl", [{"text": "hello"}])
    with pytest.raises(ConfigError, match="tiny model has none"):
        llama.Llama().public_params({"model": "tiny", "data": path})


def test_label_outside_vocab_is_a_config_error(tmp_path):
    path = write_rows(tmp_path / "l.jsonl", [{"input_ids": [1, 2, 3], "labels": [1, 2, 256]}])
    with pytest.raises(ConfigError, match=r"label 256 at position 2 is outside the "
                                          r"vocabulary \[0, 256\)"):
        llama.Llama().public_params({"model": "tiny", "data": path})
    path = write_rows(tmp_path / "m.jsonl", [{"input_ids": [1, 2, 3],
                                              "attention_mask": [0, 1, 1]}])
    with pytest.raises(ConfigError, match="not right padding"):
        llama.Llama().public_params({"model": "tiny", "data": path})


def test_padded_vocab_model_with_ragged_batch(gold):
    """vocab 12 (padded to 16 by the model): the cross-entropy masks the padded columns
    and the ragged batch proves."""
    arch = LlamaArch(vocab_size=12, hidden_size=16, intermediate_size=32, num_layers=1,
                     num_heads=2, num_kv_heads=1, head_dim=8, max_position_embeddings=64)
    batch = pad_rows([Row(torch.tensor([1, 2, 3, 11, 5]), torch.tensor([1, 2, 3, 11, 5])),
                      Row(torch.tensor([6, 7, 8]), torch.tensor([-100, 7, 8]))])
    spec = llama.ForwardSpec(arch, LORA, QuantConfig(), *batch.shape)
    inputs = llama.quantize_inputs(spec, tiny_weights(arch), tiny_adapter(arch, LORA), batch)
    res = llama.integer_forward(spec, inputs)
    g = llama.build_graph(spec, res.loss_int, batch.num_tokens)
    node = next(n for n in g.nodes if n.op == "cross_entropy")
    assert node.params.get("vocab") == 12 and g.tensors[node.inputs[0]].shape[-1] == 16
    logits = res.logits.reshape(2, 8, -1)
    ref = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, 12),
                                            batch.labels[:, 1:].reshape(-1))
    assert abs(res.loss - float(ref)) / float(ref) < 1e-3
    prove_and_verify(g, inputs, gold)


def test_text_rows_with_the_model_tokenizer(tmp_path):
    """A model directory with tokenizer.json: `text` rows are tokenised by it."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    from zklora.plugins.models.hf import save_model

    save_model(tmp_path / "m", SMALL, tiny_weights(SMALL).weights)
    tok = Tokenizer(models.WordLevel({"<unk>": 0, "a": 1, "b": 2, "c": 3},
                                     unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(tmp_path / "m" / "tokenizer.json"))
    path = write_rows(tmp_path / "t.jsonl", [{"text": "a b c a"}, {"text": "c c"}])
    params = {"model": str(tmp_path / "m"), "data": path}
    pub = llama.Llama().public_params(params)
    assert (pub["batch"], pub["seq"], pub["num_tokens"]) == (2, 4, 3 + 1)
    inputs = llama.Llama().witness(params)
    assert inputs["ids"].tolist() == [1, 2, 3, 1, 3, 3, 0, 0]
    assert inputs["labels"].tolist() == [1, 2, 3, 1, 3, 3, -100, -100]
