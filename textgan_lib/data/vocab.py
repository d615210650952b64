"""``Vocabulary``: the two-way map between tokens and integer ids.

Four special tokens come first, at fixed ids, so every model in the book can rely on them:
``<pad>`` = 0 (fills short sequences in a batch), ``<bos>`` = 1 (the first input of a generator),
``<eos>`` = 2 (the generator's way to stop), ``<unk>`` = 3 (any token not in the vocabulary).
Ordinary tokens follow, most frequent first (ties broken alphabetically, so builds are
reproducible).
"""

from __future__ import annotations

import json
import operator
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIAL_TOKENS = (PAD, BOS, EOS, UNK)
_FORMAT = "textgan-vocabulary-v1"


class Vocabulary:
    """Maps tokens to ids and back; see the module docstring for the special tokens."""

    pad_id, bos_id, eos_id, unk_id = 0, 1, 2, 3

    def __init__(self, tokens: Sequence[str]) -> None:
        """``tokens``: the ordinary tokens, in id order (specials are added in front)."""
        _check_token_list(tokens, "tokens")
        clashes = sorted(set(tokens) & set(SPECIAL_TOKENS))
        if clashes:
            raise ValueError(f"tokens {clashes} are reserved special tokens; remove them from the corpus")
        self.itos: list[str] = [*SPECIAL_TOKENS, *tokens]
        self.stoi: dict[str, int] = {tok: i for i, tok in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            dupes = [tok for tok, n in Counter(self.itos).items() if n > 1]
            raise ValueError(f"duplicate tokens in vocabulary: {dupes[:10]}")

    @classmethod
    def build(
        cls,
        corpus: Iterable[Sequence[str]],
        min_freq: int = 1,
        max_size: int | None = None,
    ) -> Vocabulary:
        """Build from tokenized sentences, keeping tokens seen at least ``min_freq`` times.

        ``max_size`` caps the number of ordinary tokens (specials not counted), keeping the most
        frequent. Everything dropped becomes ``<unk>`` at encoding time.
        """
        if min_freq < 1:
            raise ValueError(f"min_freq must be >= 1, got {min_freq}")
        if max_size is not None and max_size < 1:
            raise ValueError(f"max_size must be >= 1 or None, got {max_size}")
        counts: Counter[str] = Counter()
        for sentence in corpus:
            if isinstance(sentence, str):
                raise TypeError("corpus must hold tokenized sentences (lists of tokens), not strings; "
                                "tokenize first, e.g. [WordTokenizer().tokenize(s) for s in lines]")
            counts.update(sentence)
        if not counts:
            raise ValueError("cannot build a vocabulary from an empty corpus: it holds no tokens. "
                             "Check that the file was read and tokenized (is it empty?)")
        kept = sorted((tok for tok, n in counts.items() if n >= min_freq), key=lambda t: (-counts[t], t))
        if not kept:
            raise ValueError(f"no token occurs at least min_freq={min_freq} times "
                             f"(the most frequent occurs {max(counts.values())} times); lower min_freq")
        return cls(kept[:max_size])

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.itos == other.itos

    def __repr__(self) -> str:
        preview = ", ".join(self.itos[len(SPECIAL_TOKENS):len(SPECIAL_TOKENS) + 5])
        return f"Vocabulary(size={len(self)}, tokens=[{preview}, ...])"

    def encode(
        self,
        tokens: Sequence[str],
        add_bos: bool = False,
        add_eos: bool = False,
        unknown: Literal["map", "error"] = "map",
    ) -> list[int]:
        """Token ids for ``tokens``. Unknown tokens map to ``<unk>``, or raise with ``unknown="error"``."""
        _check_token_list(tokens, "tokens")
        if unknown == "map":
            ids = [self.stoi.get(tok, self.unk_id) for tok in tokens]
        elif unknown == "error":
            missing = [tok for tok in tokens if tok not in self.stoi]
            if missing:
                raise KeyError(f"tokens not in the vocabulary: {missing[:10]}; "
                               "use unknown='map' to map them to <unk>, or rebuild the vocabulary")
            ids = [self.stoi[tok] for tok in tokens]
        else:
            raise ValueError(f"unknown must be 'map' or 'error', got {unknown!r}")
        return ([self.bos_id] if add_bos else []) + ids + ([self.eos_id] if add_eos else [])

    def decode(self, ids: Iterable[int], keep_special: bool = False) -> list[str]:
        """Tokens for ``ids``. By default stops at ``<eos>`` and drops ``<pad>``/``<bos>``."""
        tokens = []
        for i in ids:
            try:
                i = operator.index(i)  # ints, NumPy and tensor integers; never a float, which int() would truncate
            except TypeError:
                raise TypeError(f"token ids must be integers, got {i!r}") from None
            if not 0 <= i < len(self.itos):
                raise IndexError(f"token id {i} is outside the vocabulary (size {len(self)})")
            if not keep_special:
                if i == self.eos_id:
                    break
                if i in (self.pad_id, self.bos_id):
                    continue
            tokens.append(self.itos[i])
        return tokens

    def save(self, path: str | Path) -> None:
        """Write the vocabulary as JSON (UTF-8)."""
        payload = {"format": _FORMAT, "tokens": self.itos[len(SPECIAL_TOKENS):]}
        Path(path).write_text(json.dumps(payload, ensure_ascii=False, indent=0), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        """Read a vocabulary written by :meth:`save`."""
        try:
            payload = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not a vocabulary file (invalid JSON: {err})") from None
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise ValueError(f"{path} is not a textgan vocabulary (expected format {_FORMAT!r})")
        tokens = payload.get("tokens")
        if not (isinstance(tokens, list) and all(isinstance(t, str) for t in tokens)):
            raise ValueError(f"{path} is a damaged vocabulary: its tokens are not a list of strings; rebuild it "
                             "(Vocabulary.build) and save it again")
        return cls(tokens)


def _check_token_list(tokens: object, name: str) -> None:
    """Refuse a string where a list of tokens belongs: iterating it would give its characters."""
    if isinstance(tokens, str | bytes):
        raise TypeError(f"{name} must be a list of tokens, got the string {tokens[:40]!r}: tokenize it first "
                        "(e.g. text.split(), or textgan_lib.data.tokenize)")
