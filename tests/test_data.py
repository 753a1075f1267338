"""Data loading (`zklora.plugins.models.data`): formats, padding, splitting, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from zklora.plugins.models import data
from zklora.plugins.models.data import (
    IGNORE_INDEX,
    Batch,
    check_batch,
    load_batch,
    load_batches,
    pad_rows,
    read_rows,
    split_batches,
)
from zklora.zkcore.errors import ConfigError


def jsonl(path, rows) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_input_ids_rows_labels_are_ids(tmp_path):
    b = load_batch(jsonl(tmp_path / "d.jsonl", [{"input_ids": [1, 2, 3, 4]},
                                                {"input_ids": [5, 6, 7, 8]}]), vocab=16)
    assert b.shape == (2, 4) and (b.rows, b.length) == (2, 4)
    assert torch.equal(b.labels, b.input_ids)
    assert b.num_tokens == 2 * 3


def test_ragged_rows_right_padded_to_powers_of_two(tmp_path):
    b = load_batch(jsonl(tmp_path / "d.jsonl", [{"input_ids": [1, 2, 3, 4, 5]},
                                                {"input_ids": [6, 7]},
                                                {"input_ids": [8, 9, 10]}]))
    assert b.shape == (4, 8) and (b.rows, b.length) == (3, 5)
    assert b.input_ids[1].tolist() == [6, 7, 0, 0, 0, 0, 0, 0]
    assert b.labels[1].tolist() == [6, 7] + [IGNORE_INDEX] * 6
    assert b.input_ids[3].tolist() == [0] * 8 and b.labels[3].tolist() == [IGNORE_INDEX] * 8
    assert b.num_tokens == 4 + 1 + 2


def test_attention_mask_and_labels(tmp_path):
    rows = [{"input_ids": [1, 2, 3, 4], "attention_mask": [1, 1, 1, 0]},
            {"input_ids": [5, 6, 7, 8], "labels": [-100, -100, 7, 8]},
            {"input_ids": [9, 10, 11, 12], "attention_mask": [1, 1, 0, 0],
             "labels": [9, -100, -100, -100]}]
    b = load_batch(jsonl(tmp_path / "d.jsonl", rows), vocab=16)
    assert b.shape == (4, 4)
    assert b.input_ids[0].tolist() == [1, 2, 3, 4]          # masked ids are kept
    assert b.labels[0].tolist() == [1, 2, 3, IGNORE_INDEX]
    assert b.labels[1].tolist() == [-100, -100, 7, 8]
    assert b.labels[2].tolist() == [9, -100, -100, -100]
    assert b.num_tokens == 2 + 2 + 0


def test_npy(tmp_path):
    np.save(tmp_path / "d.npy", np.arange(12, dtype=np.int32).reshape(3, 4))
    b = load_batch(tmp_path / "d.npy", vocab=16)
    assert b.shape == (4, 4) and b.rows == 3
    assert b.input_ids[:3].reshape(-1).tolist() == list(range(12))
    assert b.labels[3].tolist() == [IGNORE_INDEX] * 4


def write_tokenizer(directory):
    """A small word-level tokenizer.json (what a model directory ships)."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"<unk>": 0, "hello": 1, "world": 2, "proof": 3, "of": 4, "training": 5}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    directory.mkdir(exist_ok=True)
    tok.save(str(directory / "tokenizer.json"))
    return directory


def test_text_rows_tokenised(tmp_path):
    model = write_tokenizer(tmp_path / "model")
    path = jsonl(tmp_path / "d.jsonl", [{"text": "hello world"},
                                        {"text": "proof of training hello"}])
    b = load_batch(path, vocab=8, tokenizer=model)
    assert b.input_ids[:2].tolist() == [[1, 2, 0, 0], [3, 4, 5, 1]]
    assert b.labels[0].tolist() == [1, 2, IGNORE_INDEX, IGNORE_INDEX]
    assert data.tokenizer_dir("tiny") is None and data.tokenizer_dir(str(model)) == model


def test_seq_and_batch_widen(tmp_path):
    path = jsonl(tmp_path / "d.jsonl", [{"input_ids": [1, 2, 3]}])
    b = load_batch(path, seq=5, batch=3)
    assert b.shape == (4, 8)


def test_split_batches(tmp_path):
    rows = read_rows(jsonl(tmp_path / "d.jsonl", [{"input_ids": [i + 1] * (i + 2)}
                                                   for i in range(5)]))
    parts = split_batches(rows, 2)
    assert [len(p) for p in parts] == [2, 2, 1]
    assert split_batches(rows, 8) == [rows]
    bs = load_batches(tmp_path / "d.jsonl", 2)
    assert [b.shape for b in bs] == [(2, 8)] * 3          # one shape for every step
    assert bs[2].rows == 1 and bs[2].labels[1].tolist() == [IGNORE_INDEX] * 8
    assert bs[0].input_ids[0].tolist() == [1, 1, 0, 0, 0, 0, 0, 0]


def test_batch_of_tensor_and_check():
    ids = torch.tensor([[1, 2], [3, 4]])
    b = Batch.of(ids)
    assert torch.equal(b.labels, ids) and b.num_tokens == 2
    assert check_batch(b, (2, 2), 5) is b


@pytest.mark.parametrize("rows, match", [
    ([{"input_ids": [1, 2], "foo": 1}], r"unknown key 'foo'"),
    ([{"input_ids": [1, 2, 3], "attention_mask": [1, 0, 1]}],
     r"not right padding \(a 0 at position 1 is followed by a 1 at position 2\)"),
    ([{"input_ids": [1, 2], "attention_mask": [0, 0]}], r"attention_mask has no 1"),
    ([{"input_ids": [1, 2], "attention_mask": [1]}], r"attention_mask must be 2 values"),
    ([{"input_ids": [1, 2], "attention_mask": [1, 2]}], r"attention_mask must be 2 values"),
    ([{"input_ids": [1, 2], "labels": [1]}], r"labels has 1 values for 2 input_ids"),
    ([{"input_ids": [1, 2], "labels": [1, 16]}],
     r"\(row 0\): label 16 at position 1 is outside the vocabulary \[0, 16\)"),
    ([{"input_ids": [1, 2]}, {"input_ids": [1, 2], "labels": [-5, 2]}],
     r"\(row 1\): label -5 at position 0 is negative"),
    ([{"input_ids": [1, 2], "labels": [-101, 2]}], r"label -101 at position 0 is negative"),
    ([{"input_ids": [1, 2], "attention_mask": [1, 0], "labels": [1, 2]}],
     r"label 2 at position 1 is under attention_mask 0"),
    ([{"input_ids": [1, 20]}], r"token id 20 at position 1 is outside the vocabulary"),
    ([{"input_ids": []}], r"input_ids must be a non-empty list of integers"),
    ([{"input_ids": [1, True]}], r"input_ids must be a non-empty list of integers"),
    ([{"labels": [1, 2]}], r'expected a JSON object with "input_ids" or "text"'),
    ([[1, 2, 3]], r'expected a JSON object with "input_ids" or "text"'),
    ([{"text": "hello", "labels": [1]}], r'a "text" row takes no other key'),
    ([{"text": ""}], r'"text" must be a non-empty string'),
    ([{"text": "hello world"}], r'"text" row needs a tokenizer.*tiny model has none'),
    ([{"input_ids": [1]}], r"no counted token"),
    ([{"input_ids": [1, 2], "labels": [1, -100]}], r"no counted token"),
])
def test_bad_rows_one_line_errors(tmp_path, rows, match):
    path = jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(ConfigError, match=match) as e:
        load_batch(path, vocab=16)
    assert "\n" not in str(e.value)
    assert "bad.jsonl:" in str(e.value) or "no counted token" in str(e.value)


def test_text_without_tokenizer_json(tmp_path):
    (tmp_path / "model").mkdir()
    path = jsonl(tmp_path / "d.jsonl", [{"text": "hello"}])
    with pytest.raises(ConfigError, match=r"needs the model's tokenizer.json, which .* does "
                                          r"not have"):
        load_batch(path, tokenizer=tmp_path / "model")
    (tmp_path / "model" / "tokenizer.json").write_text("{not json")
    with pytest.raises(ConfigError, match="cannot load the tokenizer") as e:
        load_batch(path, tokenizer=tmp_path / "model")
    assert "\n" not in str(e.value)


def test_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_batch(tmp_path / "missing.jsonl")
    (tmp_path / "x.jsonl").write_text("{oops\n")
    with pytest.raises(ConfigError, match=r"x.jsonl:1 \(row 0\): not a JSON object"):
        load_batch(tmp_path / "x.jsonl")
    (tmp_path / "e.jsonl").write_text("\n\n")
    with pytest.raises(ConfigError, match="no input_ids"):
        load_batch(tmp_path / "e.jsonl")
    np.save(tmp_path / "f.npy", np.zeros((2, 4), np.float32))
    with pytest.raises(ConfigError, match="integer array"):
        load_batch(tmp_path / "f.npy")
    np.save(tmp_path / "v.npy", np.full((2, 4), 99, np.int64))
    with pytest.raises(ConfigError, match=r"row 0: token id 99 at position 0"):
        load_batch(tmp_path / "v.npy", vocab=16)
    (tmp_path / "d.jsonl").write_text('{"input_ids": [1, 2, 3]}\n')
    with pytest.raises(ConfigError, match="model.seq: 2 is shorter than the longest row"):
        load_batch(tmp_path / "d.jsonl", seq=2)
    (tmp_path / "d2.jsonl").write_text('{"input_ids": [1, 2]}\n{"input_ids": [1, 2]}\n')
    with pytest.raises(ConfigError, match="model.batch: 1 is below the data's 2 rows"):
        load_batch(tmp_path / "d2.jsonl", batch=1)
    with pytest.raises(ConfigError, match="batch_size must be an integer"):
        split_batches([], 0)
    with pytest.raises(ConfigError, match="no rows"):
        pad_rows([])


def test_check_batch_errors():
    ids = torch.tensor([[1, 2], [3, 4]])
    with pytest.raises(ConfigError, match=r"batch has shape \(2, 2\)"):
        check_batch(ids, (1, 2), 5)
    with pytest.raises(ConfigError, match=r"token id 7 at \(row 1, position 0\)"):
        check_batch(torch.tensor([[1, 2], [7, 4]]), (2, 2), 5)
    bad = Batch(ids, torch.tensor([[1, 2], [3, 5]]), 2, 2)
    with pytest.raises(ConfigError, match=r"label 5 at \(row 1, position 1\) is neither -100"):
        check_batch(bad, (2, 2), 5)
