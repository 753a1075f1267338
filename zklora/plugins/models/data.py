"""Training data: token batches for the ``llama`` / ``llama-train`` models.

A `Batch` is what a proof reads: ``input_ids`` (B, T) and ``labels`` (B, T), int64, in
transformers' *unshifted* causal-LM convention — ``labels[b, t]`` is the target of the
prediction made at position t − 1, −100 means ignored — so the proven loss is
transformers' ``LlamaForCausalLM`` loss: the mean of −log p(labels[b, t+1] | ids[b, ≤t])
over the positions whose shifted label is not −100 (``num_tokens`` of them).

Accepted files (`read_rows`), one sequence per row:

* JSONL ``{"input_ids": [...]}`` — labels = input_ids;
* JSONL rows with ``"attention_mask"`` (right padding only: ones then zeros) and/or
  ``"labels"`` (same length as input_ids; −100 or a token id < vocab).  Without labels,
  labels = input_ids with −100 where the mask is 0; with both, a label under a 0 of the
  mask must be −100 (transformers would count it with a padded query, which the proof's
  causal attention does not reproduce);
* JSONL ``{"text": "..."}`` rows (Hugging Face ``datasets`` style), tokenised with the
  model directory's ``tokenizer.json`` (the ``tokenizers`` library, special tokens as
  the tokenizer's post-processor adds them); labels = the ids;
* an integer ``.npy`` array [batch, seq] — labels = input_ids.

Any other key is an error, as is any malformed value; every error is a one-line
`ConfigError` naming the file, the row and the position.

Rows of different lengths are right-padded to the longest with token id `PAD_ID` (0)
and label −100, and the batch is then padded to powers of two in both dimensions (the
graph's token axes are powers of two): extra rows are all `PAD_ID` / −100.  Padding never
enters the loss: a padded position's label is −100, and with causal attention no real
position attends to a later (padded) one.  The statement carries the padded batch and
seq and the number of counted tokens.

`split_batches` cuts the rows into per-step batches (``--batch-size``); `load_batches`
pads them all to one common shape, as one training graph needs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import attrs
import numpy as np
import torch

from zklora.zkcore.errors import ConfigError

IGNORE_INDEX = -100
PAD_ID = 0
ROW_KEYS = ("input_ids", "attention_mask", "labels", "text")
TOKENIZER_FILE = "tokenizer.json"


def _pow2_at_least(n: int) -> int:
    return 1 << max(0, int(n) - 1).bit_length()


@attrs.frozen
class Row:
    """One sequence: token ids and (unshifted) labels of the same length; ``where`` names
    it in error messages (``file:line``)."""

    input_ids: torch.Tensor
    labels: torch.Tensor
    where: str = ""

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])


@attrs.frozen
class Batch:
    """A padded batch (module doc): ``input_ids`` and ``labels`` (B, T) int64 with B and T
    powers of two; ``rows`` real rows and ``length`` the longest real row before padding."""

    input_ids: torch.Tensor
    labels: torch.Tensor
    rows: int
    length: int

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.input_ids.shape)

    @property
    def num_tokens(self) -> int:
        """Counted tokens: positions t whose shifted label labels[t + 1] is not −100."""
        return count_tokens(self.labels)

    @classmethod
    def of(cls, batch: Batch | torch.Tensor | np.ndarray) -> Batch:
        """A `Batch` as is, or input ids (B, T) with labels = input_ids (no padding)."""
        if isinstance(batch, Batch):
            return batch
        ids = torch.as_tensor(batch).to(torch.int64)
        if ids.ndim != 2:
            raise ConfigError(f"data: input_ids of shape {tuple(ids.shape)}; expected "
                              "(batch, seq)")
        return cls(ids, ids.clone(), int(ids.shape[0]), int(ids.shape[1]))


def check_batch(batch: Batch | torch.Tensor, shape: Sequence[int], vocab: int,
                name: str = "data") -> Batch:
    """``batch`` (`Batch.of`) checked against the graph's (B, T) ``shape`` and the
    vocabulary: ids in [0, vocab), labels −100 or in [0, vocab); ConfigError naming the
    row and position otherwise."""
    data = Batch.of(batch)
    if data.shape != tuple(int(d) for d in shape) or data.labels.shape != data.input_ids.shape:
        raise ConfigError(f"{name}: batch has shape {data.shape} (labels "
                          f"{tuple(data.labels.shape)}), expected {tuple(shape)}")
    ids, lab = data.input_ids, data.labels
    bad = (ids < 0) | (ids >= vocab)
    if bool(bad.any()):
        b, t = (int(x) for x in torch.nonzero(bad)[0])
        raise ConfigError(f"{name}: token id {int(ids[b, t])} at (row {b}, position {t}) is "
                          f"outside the vocabulary [0, {vocab})")
    bad = (lab != IGNORE_INDEX) & ((lab < 0) | (lab >= vocab))
    if bool(bad.any()):
        b, t = (int(x) for x in torch.nonzero(bad)[0])
        raise ConfigError(f"{name}: label {int(lab[b, t])} at (row {b}, position {t}) is "
                          f"neither {IGNORE_INDEX} nor in the vocabulary [0, {vocab})")
    return data


def count_tokens(labels: torch.Tensor) -> int:
    """Number of positions of (B, T) ``labels`` that enter the causal-LM loss."""
    lab = torch.as_tensor(labels).reshape(-1, labels.shape[-1])
    return int((lab[:, 1:] != IGNORE_INDEX).sum())


def default_num_tokens(batch: int, seq: int) -> int:
    """Counted tokens of an unpadded batch without ignored labels: B·(T − 1)."""
    return int(batch) * (int(seq) - 1)


# -- reading ----------------------------------------------------------------------------


def tokenizer_dir(model: str | Path | None) -> Path | None:
    """The directory whose ``tokenizer.json`` tokenises ``text`` rows: the model
    directory, None for the built-in tiny model."""
    if model is None or str(model) == "tiny":
        return None
    return Path(model)


def _int_list(v, what: str, where: str) -> list[int]:
    if not isinstance(v, list) or not v or not all(
            isinstance(x, int) and not isinstance(x, bool) for x in v):
        raise ConfigError(f"{where}: {what} must be a non-empty list of integers")
    return v


def _check_ids(ids: torch.Tensor, vocab: int | None, where: str) -> None:
    if vocab is None:
        return
    bad = (ids < 0) | (ids >= vocab)
    if bool(bad.any()):
        t = int(torch.nonzero(bad)[0])
        raise ConfigError(f"{where}: token id {int(ids[t])} at position {t} is outside the "
                          f"vocabulary [0, {vocab})")


def _check_labels(lab: torch.Tensor, vocab: int | None, where: str) -> None:
    bad = (lab != IGNORE_INDEX) & (lab < 0)
    if vocab is not None:
        bad |= lab >= vocab
    if bool(bad.any()):
        t = int(torch.nonzero(bad)[0])
        v = int(lab[t])
        why = (f"is outside the vocabulary [0, {vocab})" if v >= 0 else
               f"is negative (only {IGNORE_INDEX} = ignored is allowed)")
        raise ConfigError(f"{where}: label {v} at position {t} {why}")


class _Tokenizer:
    """Lazily loaded ``tokenizer.json`` of a model directory."""

    def __init__(self, directory: Path | None):
        self.directory = directory
        self._tok = None

    def encode(self, text: str, where: str) -> list[int]:
        if self._tok is None:
            if self.directory is None:
                raise ConfigError(f"{where}: a \"text\" row needs a tokenizer, and the "
                                  "built-in tiny model has none; give input_ids")
            path = self.directory / TOKENIZER_FILE
            if not path.is_file():
                raise ConfigError(f"{where}: a \"text\" row needs the model's "
                                  f"{TOKENIZER_FILE}, which {self.directory} does not have; "
                                  "give input_ids")
            try:
                from tokenizers import Tokenizer
            except ImportError:
                raise ConfigError(f"{where}: \"text\" rows need the tokenizers package "
                                  "(pip install 'zklora[hf]')") from None
            try:
                self._tok = Tokenizer.from_file(str(path))
            except Exception as e:  # the library raises a bare Exception on bad files
                raise ConfigError(f"{path}: cannot load the tokenizer "
                                  f"({str(e).splitlines()[0] if str(e) else type(e).__name__})"
                                  ) from None
        ids = self._tok.encode(text).ids
        if not ids:
            raise ConfigError(f"{where}: \"text\" tokenises to no token")
        return list(ids)


def _json_row(obj, where: str, vocab: int | None, tok: _Tokenizer) -> Row:
    if not isinstance(obj, dict):
        raise ConfigError(f"{where}: expected a JSON object with \"input_ids\" or \"text\"")
    for k in obj:
        if k not in ROW_KEYS:
            raise ConfigError(f"{where}: unknown key {k!r} (allowed: {', '.join(ROW_KEYS)})")
    if "text" in obj:
        if len(obj) > 1:
            raise ConfigError(f"{where}: a \"text\" row takes no other key (got "
                              f"{', '.join(sorted(k for k in obj if k != 'text'))})")
        if not isinstance(obj["text"], str) or not obj["text"]:
            raise ConfigError(f"{where}: \"text\" must be a non-empty string")
        ids = torch.tensor(tok.encode(obj["text"], where), dtype=torch.int64)
        _check_ids(ids, vocab, where)
        return Row(ids, ids.clone(), where)
    if "input_ids" not in obj:
        raise ConfigError(f"{where}: expected a JSON object with \"input_ids\" or \"text\"")
    ids = torch.tensor(_int_list(obj["input_ids"], "input_ids", where), dtype=torch.int64)
    _check_ids(ids, vocab, where)
    n = int(ids.shape[0])
    mask = None
    if "attention_mask" in obj:
        m = _int_list(obj["attention_mask"], "attention_mask", where)
        if len(m) != n or any(x not in (0, 1) for x in m):
            raise ConfigError(f"{where}: attention_mask must be {n} values 0 or 1 (one per "
                              "input id)")
        mask = torch.tensor(m, dtype=torch.int64)
        zeros = torch.nonzero(mask == 0)
        if zeros.numel():
            z = int(zeros[0])
            if bool(mask[z:].any()):
                o = z + int(torch.nonzero(mask[z:])[0])
                raise ConfigError(f"{where}: attention_mask is not right padding (a 0 at "
                                  f"position {z} is followed by a 1 at position {o}); only "
                                  "right padding is supported")
            if z == 0:
                raise ConfigError(f"{where}: attention_mask has no 1 (an empty row)")
    if "labels" in obj:
        lab = torch.tensor(_int_list(obj["labels"], "labels", where), dtype=torch.int64)
        if int(lab.shape[0]) != n:
            raise ConfigError(f"{where}: labels has {int(lab.shape[0])} values for {n} "
                              "input_ids")
        _check_labels(lab, vocab, where)
        if mask is not None:
            bad = (mask == 0) & (lab != IGNORE_INDEX)
            if bool(bad.any()):
                t = int(torch.nonzero(bad)[0])
                raise ConfigError(f"{where}: label {int(lab[t])} at position {t} is under "
                                  f"attention_mask 0; padding positions must have label "
                                  f"{IGNORE_INDEX}")
    else:
        lab = ids.clone()
        if mask is not None:
            lab[mask == 0] = IGNORE_INDEX
    return Row(ids, lab, where)


def read_rows(path: str | Path, *, vocab: int | None = None,
              tokenizer: str | Path | None = None) -> list[Row]:
    """The rows of a data file (module doc); ``vocab`` checks token ids and labels,
    ``tokenizer`` is the directory holding ``tokenizer.json`` for ``text`` rows."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"data file {p} not found")
    if p.suffix == ".npy":
        try:
            arr = np.load(p, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise ConfigError(f"{p}: cannot read .npy ({e})") from None
        if arr.ndim != 2 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
            raise ConfigError(f"{p}: expected a non-empty integer array [batch, seq], got "
                              f"{arr.dtype} {arr.shape}")
        out = []
        for i, r in enumerate(torch.from_numpy(arr.astype(np.int64))):
            _check_ids(r, vocab, f"{p}: row {i}")
            out.append(Row(r.clone(), r.clone(), f"{p}: row {i}"))
        return out
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: cannot read ({e})") from None
    tok = _Tokenizer(None if tokenizer is None else Path(tokenizer))
    rows = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{p}:{n} (row {len(rows)})"
        try:
            obj = json.loads(line)
        except ValueError:
            raise ConfigError(f"{where}: not a JSON object") from None
        rows.append(_json_row(obj, where, vocab, tok))
    if not rows:
        raise ConfigError(f"{p}: no input_ids (or text) rows")
    return rows


# -- batching ---------------------------------------------------------------------------


def split_batches(rows: Sequence[Row], batch_size: int) -> list[list[Row]]:
    """Consecutive batches of ``batch_size`` rows (the last one may be shorter)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be an integer ≥ 1, got {batch_size!r}")
    return [list(rows[i:i + batch_size]) for i in range(0, len(rows), batch_size)]


def pad_rows(rows: Sequence[Row], *, batch: int | None = None, seq: int | None = None,
             name: str = "data") -> Batch:
    """Right-pad ``rows`` to one `Batch`: seq = the power of two ≥ max(longest row,
    ``seq``), batch = the power of two ≥ max(rows, ``batch``); pad id `PAD_ID`, label
    −100.  ConfigError if ``seq`` / ``batch`` is below the data's, or if no token counts."""
    if not rows:
        raise ConfigError(f"{name}: no rows")
    longest = max(len(r) for r in rows)
    if seq is not None and int(seq) < longest:
        raise ConfigError(f"model.seq: {seq} is shorter than the longest row of the data "
                          f"({longest} tokens)")
    if batch is not None and int(batch) < len(rows):
        raise ConfigError(f"model.batch: {batch} is below the data's {len(rows)} rows")
    T = _pow2_at_least(max(longest, int(seq or 0), 2))
    B = _pow2_at_least(max(len(rows), int(batch or 0)))
    ids = torch.full((B, T), PAD_ID, dtype=torch.int64)
    lab = torch.full((B, T), IGNORE_INDEX, dtype=torch.int64)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = r.input_ids
        lab[i, :len(r)] = r.labels
    out = Batch(ids, lab, len(rows), longest)
    if out.num_tokens == 0:
        raise ConfigError(f"{name}: no counted token (every label after the first position "
                          f"is {IGNORE_INDEX}, or every row has a single token)")
    return out


def load_batch(path: str | Path, *, vocab: int | None = None,
               tokenizer: str | Path | None = None, batch: int | None = None,
               seq: int | None = None) -> Batch:
    """Every row of the file as one padded `Batch` (`read_rows`, `pad_rows`)."""
    return pad_rows(read_rows(path, vocab=vocab, tokenizer=tokenizer), batch=batch, seq=seq,
                    name=str(path))


def load_batches(path: str | Path, batch_size: int, *, vocab: int | None = None,
                 tokenizer: str | Path | None = None, seq: int | None = None
                 ) -> list[Batch]:
    """The file's rows split into batches of ``batch_size`` (`split_batches`), each
    padded to the same power-of-two shape (batch_size rounded up, the longest row of the
    file or ``seq``)."""
    rows = read_rows(path, vocab=vocab, tokenizer=tokenizer)
    longest = max(len(r) for r in rows)
    if seq is not None and int(seq) < longest:
        raise ConfigError(f"model.seq: {seq} is shorter than the longest row of the data "
                          f"({longest} tokens)")
    T = max(longest, int(seq or 0))
    return [pad_rows(part, batch=batch_size, seq=T, name=f"{path}: batch {k}")
            for k, part in enumerate(split_batches(rows, batch_size))]


def random_batch(vocab: int, batch: int, seq: int, seed: int = 0) -> torch.Tensor:
    """Seeded uniform token ids (batch, seq) (labels = the ids: `Batch.of`)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, vocab, (batch, seq), generator=gen)
