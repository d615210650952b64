
import pytest

from textgan_lib import CharTokenizer, Vocabulary, WordTokenizer, get_tokenizer


def test_word_tokenizer_splits_punctuation_and_lowercases():
    tok = WordTokenizer()
    assert tok.tokenize("A bicycle replica with a clock as the front wheel.") == [
        "a", "bicycle", "replica", "with", "a", "clock", "as", "the", "front", "wheel", "."]
    assert tok.tokenize("A man's dog, (brown)!") == ["a", "man's", "dog", ",", "(", "brown", ")", "!"]


def test_word_detokenizer_reattaches_punctuation():
    tok = WordTokenizer()
    assert tok.detokenize(["a", "dog", ",", "(", "brown", ")", "sits", "."]) == "a dog, (brown) sits."


def test_char_tokenizer_roundtrip():
    text = "Ünïcode wheel."
    tok = CharTokenizer()
    assert tok.detokenize(tok.tokenize(text)) == text


def test_get_tokenizer_rejects_unknown_level():
    with pytest.raises(ValueError, match="'word' or 'char'"):
        get_tokenizer("subword")


def test_vocabulary_specials_and_frequency_order():
    vocab = Vocabulary.build([["b", "a", "b"], ["c", "b", "a"]])
    assert vocab.itos == ["<pad>", "<bos>", "<eos>", "<unk>", "b", "a", "c"]
    assert (vocab.pad_id, vocab.bos_id, vocab.eos_id, vocab.unk_id) == (0, 1, 2, 3)


def test_vocabulary_min_freq_and_max_size():
    corpus = [["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"]]
    assert Vocabulary.build(corpus, min_freq=2).itos[4:] == ["a", "b", "c"]
    assert Vocabulary.build(corpus, max_size=2).itos[4:] == ["a", "b"]
    assert Vocabulary.build(corpus, min_freq=3, max_size=1).itos[4:] == ["a"]


def test_encode_decode_roundtrip_with_bos_eos():
    vocab = Vocabulary.build([["a", "cat", "sits"]])
    ids = vocab.encode(["a", "cat", "sits"], add_bos=True, add_eos=True)
    assert ids[0] == vocab.bos_id and ids[-1] == vocab.eos_id
    assert vocab.decode(ids + [vocab.pad_id, vocab.pad_id]) == ["a", "cat", "sits"]
    assert vocab.decode(ids, keep_special=True)[0] == "<bos>"


def test_unknown_tokens_map_to_unk_or_raise():
    vocab = Vocabulary.build([["a", "cat"]])
    assert vocab.encode(["dog", "zebra"]) == [vocab.unk_id, vocab.unk_id]
    with pytest.raises(KeyError, match="dog"):
        vocab.encode(["a", "dog"], unknown="error")


def test_decode_rejects_out_of_range_id():
    vocab = Vocabulary.build([["a"]])
    with pytest.raises(IndexError, match="outside the vocabulary"):
        vocab.decode([99])


def test_empty_corpus_is_a_clear_error():
    with pytest.raises(ValueError, match="empty corpus"):
        Vocabulary.build([])
    with pytest.raises(ValueError, match="empty corpus"):
        Vocabulary.build([[], []])


def test_min_freq_that_keeps_nothing_is_a_clear_error():
    with pytest.raises(ValueError, match="lower min_freq"):
        Vocabulary.build([["a", "b"]], min_freq=5)


def test_untokenized_strings_are_rejected():
    with pytest.raises(TypeError, match="tokenize first"):
        Vocabulary.build(["a sentence"])


def test_special_tokens_in_corpus_are_rejected():
    with pytest.raises(ValueError, match="reserved"):
        Vocabulary.build([["<unk>", "a"]])


def test_save_load_roundtrip_utf8(tmp_path):
    vocab = Vocabulary.build([["café", "naïve", "a"]])
    path = tmp_path / "vocab.json"
    vocab.save(path)
    assert Vocabulary.load(path) == vocab
    raw = path.read_bytes()
    assert "café".encode() in raw and "naïve".encode() in raw  # written as UTF-8 text ...
    assert b"\\u00e9" not in raw  # ... not as JSON escapes, which json.loads would quietly undo


def test_load_rejects_other_json(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(ValueError, match="not a textgan vocabulary"):
        Vocabulary.load(path)
    path.write_text("not json")
    with pytest.raises(ValueError, match="invalid JSON"):
        Vocabulary.load(path)
