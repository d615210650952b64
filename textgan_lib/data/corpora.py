"""The real-text corpora split for training: tokens and ids of train / valid / test, and a vocabulary."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .batching import TokenBatch, encode_batch
from .files import POEM_LENGTH, load_coco, load_news, load_poems
from .tokenize import WordTokenizer
from .vocab import Vocabulary


@dataclass(frozen=True)
class TextSplits:
    """A corpus as tokens and as ids: train / valid / test, with the vocabulary built on train."""

    name: str  # "coco", "poems" or "news"
    tokenizer: WordTokenizer | None  # None: the file comes tokenized (the poems' characters)
    train_texts: list[list[str]]
    valid_texts: list[list[str]]
    test_texts: list[list[str]]  # the held-out set: BLEU's references
    vocab: Vocabulary  # built on train_texts, tokens seen at least twice
    train: TokenBatch
    valid: TokenBatch
    test: TokenBatch

    @property
    def max_len(self) -> int:
        return self.train.tokens.shape[1]


def _splits(name: str, tokenizer: WordTokenizer | None, train_file: list[list[str]], test_texts: list[list[str]],
            max_len: int, min_freq: int, valid_texts: list[list[str]] | None = None) -> TextSplits:
    if valid_texts is None:  # the last tenth of the training file validates
        n_valid = len(train_file) // 10
        train_file, valid_texts = train_file[:-n_valid], train_file[-n_valid:]
    train_texts = train_file
    vocab = Vocabulary.build(train_texts, min_freq=min_freq)
    return TextSplits(name, tokenizer, train_texts, valid_texts, test_texts, vocab,
                      *(encode_batch(t, vocab, max_len) for t in (train_texts, valid_texts, test_texts)))


COCO_VALIDATION = ("training_tail", "test_half")  # where COCO's validation captions come from
COCO_VALID_SEED = 0  # the fixed random order of the test file before it is halved


def coco_splits(n_sentences: int | None = None, max_len: int = 32, min_freq: int = 2, *,
                validation: str = "training_tail") -> TextSplits:
    """The word-level Image COCO captions (``n_sentences`` from each file; None: all 10,000).

    Training captions are the training file but its last tenth. ``validation`` says where the
    validation captions come from: ``"training_tail"`` (that last tenth, as chapters 4 to 12 use it;
    the test file is the test set) or ``"test_half"`` (the test file in a fixed random order, seed
    :data:`COCO_VALID_SEED`: its first half validates, its second half is the test set; the
    training tail is then unused, so the training captions are the same either way). The training
    tail sits far closer to the training captions than the test file does, so a checkpoint chosen
    on it is chosen for memorising; the test half is drawn like the test set.
    """
    if validation not in COCO_VALIDATION:
        raise ValueError(f"validation must be one of {COCO_VALIDATION}, got {validation!r}")
    words = WordTokenizer()
    train_file = [words.tokenize(c) for c in load_coco("train")[:n_sentences]]
    test_texts = [words.tokenize(c) for c in load_coco("test")[:n_sentences]]
    if validation == "training_tail":
        return _splits("coco", words, train_file, test_texts, max_len, min_freq)
    shuffled = test_texts[:]
    random.Random(COCO_VALID_SEED).shuffle(shuffled)
    half = len(shuffled) // 2
    train_texts = train_file[:-(len(train_file) // 10)]  # the same training captions as the other split
    return _splits("coco", words, train_texts, shuffled[half:], max_len, min_freq, valid_texts=shuffled[:half])


def poem_splits(n_poems: int | None = None, min_freq: int = 2) -> TextSplits:
    """The Chinese quatrains as characters: ``load_poems``'s training poems (their last tenth
    validates) and its held-out poems; ``n_poems`` from each. Sequences of 24 characters and ``<eos>``."""
    train_file, test_texts = load_poems("train")[:n_poems], load_poems("test")[:n_poems]
    return _splits("poems", None, train_file, test_texts, POEM_LENGTH + 1, min_freq)


NEWS_MAX_LEN = 49  # the longest sentence (48 tokens) and its <eos>


def news_splits(n_sentences: int | None = None, max_len: int = NEWS_MAX_LEN, min_freq: int = 2, *,
                train_sentences: int | None = None) -> TextSplits:
    """The news sentences (:func:`~textgan_lib.data.files.load_news`'s seeded 8,000 / 1,000 /
    1,000 split; ``n_sentences`` from each, and at most ``train_sentences`` for training), tokens
    seen fewer than ``min_freq`` times in training read as ``<unk>``."""
    train, valid, test = (load_news(split)[:n_sentences] for split in ("train", "valid", "test"))
    train = train[:train_sentences]
    return _splits("news", None, train, test, max_len, min_freq, valid_texts=valid)


def quatrain_form(tokens: list[str]) -> bool:
    """Whether a poem's tokens are a quatrain: four lines of five characters, the first and third
    closed by ``，`` and the second and fourth by ``。``. Any other token (``<unk>`` included) counts
    as a character, so the check must see a sample's tokens before ``<unk>`` is dropped."""
    if len(tokens) != POEM_LENGTH:
        return False
    marks = {5: "，", 11: "。", 17: "，", 23: "。"}
    return all(tokens[i] == marks[i] if i in marks else tokens[i] not in "，。" for i in range(POEM_LENGTH))
