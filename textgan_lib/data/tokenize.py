"""Tokenizers: text → list of tokens, and back again for display.

Two granularities are enough for this book: characters (a tiny vocabulary, long sequences) and
words (a large vocabulary, short sequences). The word tokenizer lower-cases and splits punctuation
off words, so ``"wheel."`` and ``"wheel"`` share one vocabulary entry.
"""

from __future__ import annotations

import re
from typing import Protocol

# A word is a run of letters/digits, optionally with inner apostrophes ("man's", "don't");
# any other non-space character (punctuation) is a token of its own.
_WORD_PATTERN = re.compile(r"\w+(?:'\w+)*|[^\w\s]")
_NO_SPACE_BEFORE = re.compile(r" ([.,!?;:%)\]}])")
_NO_SPACE_AFTER = re.compile(r"([(\[{]) ")


class Tokenizer(Protocol):
    """What every tokenizer offers: ``tokenize`` and its (approximate) inverse ``detokenize``."""

    def tokenize(self, text: str) -> list[str]: ...

    def detokenize(self, tokens: list[str]) -> str: ...


class CharTokenizer:
    """One token per character, case kept. ``detokenize`` is the exact inverse."""

    def tokenize(self, text: str) -> list[str]:
        return list(text)

    def detokenize(self, tokens: list[str]) -> str:
        return "".join(tokens)


class WordTokenizer:
    """Lower-cased words with punctuation split off: ``"A wheel."`` → ``["a", "wheel", "."]``.

    ``detokenize`` joins with spaces and re-attaches punctuation, which is what a reader expects
    to see; it is not an exact inverse (case and original spacing are gone).
    """

    def __init__(self, lowercase: bool = True) -> None:
        self.lowercase = lowercase

    def tokenize(self, text: str) -> list[str]:
        if self.lowercase:
            text = text.lower()
        return _WORD_PATTERN.findall(text)

    def detokenize(self, tokens: list[str]) -> str:
        text = " ".join(tokens)
        text = _NO_SPACE_BEFORE.sub(r"\1", text)
        return _NO_SPACE_AFTER.sub(r"\1", text)


def get_tokenizer(level: str) -> Tokenizer:
    """The tokenizer for ``level`` = ``"word"`` or ``"char"``."""
    if level == "word":
        return WordTokenizer()
    if level == "char":
        return CharTokenizer()
    raise ValueError(f"unknown tokenization level {level!r}: use 'word' or 'char'")
