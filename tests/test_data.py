"""The data layer: look-up order, checksums, the real download path against a local HTTP server,
and the numpy-only unpickler."""

import hashlib
import http.server
import pickle
import socket
import threading

import numpy as np
import pytest

from textgan_lib.data import files as data
from textgan_lib.data.corpora import coco_splits
from textgan_lib.data.files import ChecksumError, DataError, DataFile
from textgan_lib.recipes import text_splits
from textgan_lib.recipes.profiles import get_profile

PAYLOAD = b"a cat sits on a mat.\na dog runs.\n"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path == "/good.txt":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)
        elif self.path == "/truncated.txt":
            # Promise the whole file, send half of it, hang up.
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No local data folder; an empty cache in tmp_path."""
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


def _spec(url, sha=PAYLOAD_SHA):
    return DataFile("test/corpus.txt", url, sha, "test corpus")


def test_download_verifies_and_caches(server, isolated):
    path = data.data_path(_spec(f"{server}/good.txt"))
    assert path == isolated / "test/corpus.txt"
    assert path.read_bytes() == PAYLOAD
    # A second call finds the cached copy, even with the server gone.
    assert data.data_path(_spec("http://127.0.0.1:9/unreachable")) == path
    assert list(path.parent.iterdir()) == [path]  # no temporary files left behind


def test_checksum_mismatch_on_download_saves_nothing(server, isolated):
    with pytest.raises(ChecksumError, match="nothing was saved"):
        data.data_path(_spec(f"{server}/good.txt", sha="0" * 64))
    assert [p for p in isolated.rglob("*") if p.is_file()] == []


def test_truncated_download_leaves_no_file(server, isolated):
    with pytest.raises(DataError, match="cut short|could not download"):
        data.data_path(_spec(f"{server}/truncated.txt"))
    assert [p for p in isolated.rglob("*") if p.is_file()] == []


def test_unreachable_url_says_what_to_do(isolated):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DataError) as err:
        data.data_path(_spec(f"http://127.0.0.1:{port}/x.txt"))
    message = str(err.value)
    assert "could not download" in message and data.DATA_ENV in message and "test/corpus.txt" in message


def test_http_404_is_a_data_error(server, isolated):
    with pytest.raises(DataError, match="404"):
        data.data_path(_spec(f"{server}/missing.txt"))


def test_local_data_folder_wins_and_is_verified(tmp_path, isolated, monkeypatch):
    folder = tmp_path / "local"
    (folder / "test").mkdir(parents=True)
    (folder / "test/corpus.txt").write_bytes(PAYLOAD)
    monkeypatch.setenv(data.DATA_ENV, str(folder))
    assert data.data_path(_spec("http://127.0.0.1:9/never")) == folder / "test/corpus.txt"
    (folder / "test/corpus.txt").write_bytes(PAYLOAD + b"edited\n")
    with pytest.raises(ChecksumError, match="left untouched"):
        data.data_path(_spec("http://127.0.0.1:9/never"))
    assert (folder / "test/corpus.txt").read_bytes().endswith(b"edited\n")  # the user's file is kept


def test_explicit_path(tmp_path, isolated):
    path = tmp_path / "mine.txt"
    path.write_bytes(PAYLOAD)
    assert data.data_path(_spec("http://127.0.0.1:9/never"), path=path) == path
    with pytest.raises(DataError, match="no file at"):
        data.data_path(_spec("http://127.0.0.1:9/never"), path=tmp_path / "absent.txt")


def test_offline_lookup_without_download(isolated):
    with pytest.raises(DataError, match="looked in"):
        data.data_path(_spec("http://127.0.0.1:9/never"), download_missing=False)


def test_read_lines_errors(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    with pytest.raises(DataError, match="holds no text"):
        data.read_lines(empty)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("first line\ncaf\xe9 au lait\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8.*line 2"):
        data.read_lines(latin)


def test_coco_splits_load_from_local_data():
    train, test = data.load_coco("train"), data.load_coco("test")
    assert len(train) == len(test) == 10_000
    assert train[0] == "a bicycle replica with a clock as the front wheel."
    with pytest.raises(ValueError, match="'train' or 'test'"):
        data.load_coco("valid")


def test_coco_validation_from_the_test_file_is_a_fixed_half_disjoint_from_the_test_set():
    """Issue 37: ``test_half`` validates on a seeded half of the test file and tests on the other
    half; the training captions are those of the chapters' split; the profile passes it through."""
    tail = coco_splits(400)
    half = coco_splits(400, validation="test_half")
    assert half.train_texts == tail.train_texts and half.vocab.itos == tail.vocab.itos
    assert len(half.valid_texts) == len(half.test_texts) == 200
    assert sorted(map(tuple, half.valid_texts + half.test_texts)) == sorted(map(tuple, tail.test_texts))
    assert half.valid_texts != tail.test_texts[:200]  # shuffled, not the file's first half
    assert coco_splits(400, validation="test_half").valid_texts == half.valid_texts  # fixed
    profile = get_profile("ci", data={"n_sentences": 400, "coco_validation": "test_half"})
    assert text_splits("coco", profile).valid_texts == half.valid_texts
    with pytest.raises(ValueError, match="validation must be one of"):
        coco_splits(400, validation="test")


def test_oracle_params_load_with_expected_shapes():
    params = data.load_oracle_params()
    assert [p.shape for p in params] == data.ORACLE_SHAPES
    assert all(p.dtype == np.float32 for p in params)


class _Exploit:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned",))


def test_crafted_pickle_is_refused(tmp_path):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps([np.zeros(3, np.float32), _Exploit()]))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load (posix|nt|os).system"):
        data.load_numpy_pickle(path)


def test_numpy_only_pickle_roundtrip(tmp_path):
    arrays = [np.arange(6, dtype=np.float32).reshape(2, 3), np.ones(4)]
    path = tmp_path / "ok.pkl"
    path.write_bytes(pickle.dumps(arrays, protocol=3))
    loaded = data.load_numpy_pickle(path)
    assert all(np.array_equal(a, b) for a, b in zip(arrays, loaded))


def test_news_splits_are_seeded_disjoint_and_stripped():
    from textgan_lib.data.corpora import news_splits

    train, valid, test = (data.load_news(split) for split in ("train", "valid", "test"))
    assert (len(train), len(valid), len(test)) == data.NEWS_SPLIT
    seen = {tuple(t) for t in train}
    assert not seen & {tuple(t) for t in valid} and not seen & {tuple(t) for t in test}
    assert data.load_news("train") == train  # the same split every time
    assert len(data.load_news("all")) == 10_000 and all(t and t[-1] != "" for t in train)
    splits = news_splits(100)
    assert splits.name == "news" and len(splits.train_texts) == len(splits.valid_texts) == 100
    assert splits.max_len == 49 and splits.train.tokens.shape == (100, 49)
    with pytest.raises(ValueError, match="'train', 'valid', 'test' or 'all'"):
        data.load_news("dev")


def test_a_news_file_that_is_missing_changed_or_not_utf8_gets_a_clear_error(tmp_path, monkeypatch):
    real_news = data.data_path("news", download_missing=False)  # the shared copy, before isolating
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))
    spec = data.DATA_FILES["news"]
    with pytest.raises(DataError, match="relgan/test_emnlp.txt"):  # offline, nowhere: says where to put it
        data.data_path("news", download_missing=False)
    folder = tmp_path / "local"
    (folder / "relgan").mkdir(parents=True)
    bad = folder / spec.relpath
    bad.write_bytes(b"a sentence .\n")  # another file under the right name
    monkeypatch.setenv(data.DATA_ENV, str(folder))
    with pytest.raises(ChecksumError, match="left untouched"):
        data.load_news("train")
    assert bad.read_bytes() == b"a sentence .\n"
    flipped = bytearray(real_news.read_bytes())
    flipped[100] ^= 0x80  # one bad byte in the real file: no longer UTF-8, and not the pinned file
    bad.write_bytes(bytes(flipped))
    with pytest.raises(ChecksumError, match="Replace it with a fresh copy of https://raw.githubusercontent.com/weilinie"):
        data.load_news("train")
    assert bad.read_bytes() == bytes(flipped)
