import pytest
import torch

from textgan_lib import Vocabulary, encode_batch, iterate_minibatches, pad_sequences


def test_encode_batch_pads_and_appends_eos():
    vocab = Vocabulary.build([["a", "cat"], ["a", "dog", "runs"]])
    batch = encode_batch([["a", "cat"], ["a", "dog", "runs"]], vocab, max_len=5)
    assert batch.tokens.shape == (2, 5) and batch.tokens.dtype == torch.long
    assert batch.lengths.tolist() == [3, 4]
    assert batch.tokens[0].tolist() == vocab.encode(["a", "cat"], add_eos=True) + [vocab.pad_id] * 2
    assert batch.mask.tolist() == [[True] * 3 + [False] * 2, [True] * 4 + [False]]
    assert batch.n_truncated == 0 and batch.n_unknown == 0


def test_truncation_is_counted_and_reported():
    vocab = Vocabulary.build([["w"]])
    batch = encode_batch([["w"] * 10, ["w"], ["w"] * 3], vocab, max_len=4)
    assert batch.n_truncated == 1  # the 3-word caption plus <eos> fits exactly
    assert batch.lengths.tolist() == [4, 2, 4]
    assert "1 truncated (33.33%)" in batch.report()


def test_all_unknown_tokens_become_unk_and_are_counted():
    vocab = Vocabulary.build([["a"]])
    batch = encode_batch([["x", "y", "z"]], vocab, max_len=6)
    assert batch.tokens[0, :3].tolist() == [vocab.unk_id] * 3
    assert batch.n_unknown == 3


def test_empty_batch_and_bad_max_len_are_errors():
    with pytest.raises(ValueError, match="zero sequences"):
        pad_sequences([], max_len=3)
    with pytest.raises(ValueError, match="max_len"):
        pad_sequences([[1]], max_len=0)


def test_minibatches_cover_every_index_once():
    seen = torch.cat(list(iterate_minibatches(103, 10, rng=torch.Generator().manual_seed(0))))
    assert sorted(seen.tolist()) == list(range(103))
    assert [len(b) for b in iterate_minibatches(103, 10, shuffle=False, drop_last=True)] == [10] * 10
