"""Dataset files: where they come from, where they are found, and how they are read safely.

Every file the book uses is pinned: an upstream URL at a fixed commit and its sha256. A file is
looked for, in order,

1. at an explicit ``path`` given by the caller;
2. in the local data folder named by the ``TEXTGAN_DATA`` environment variable
   (laid out like the upstream repositories: ``texygen/image_coco.txt``, ...);
3. in the per-user cache (``$TEXTGAN_CACHE``, else ``$XDG_CACHE_HOME/textgan``, else
   ``~/.cache/textgan``);
4. downloaded into that cache.

Whatever is found is checked against its sha256. Downloads go to a temporary file beside the
target and are renamed into place only once complete and verified, so an interrupted download
never leaves a half-written file where the next run would trust it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import random
import re
import socket
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..paper import SEQGAN_PAPER

DATA_ENV = "TEXTGAN_DATA"
CACHE_ENV = "TEXTGAN_CACHE"
_CHUNK = 1 << 16


class DataError(RuntimeError):
    """A data file could not be found, fetched, verified or read."""


# A temporary file is named after its writer, ``.<name>.w<pid>@<host>.<random><suffix>``, so that
# a writer removes only what a dead writer left: two processes that write the same file (two studies
# sharing a cache) never delete each other's temporary file.
_HOST = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "host"
_OTHER_HOSTS_STALE_S = 24 * 3600  # a shared folder: another machine's temporary file is stale after a day


def _writer_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _stale(temporary: Path, prefix: str) -> bool:
    """Whether ``temporary`` was left by a writer that is gone (a kill), not one still writing."""
    writer = re.match(r"w(\d+)@([A-Za-z0-9_-]+)\.", temporary.name[len(prefix):])
    if writer is None:  # no writer named: an older textgan_lib's
        return True
    pid, host = int(writer[1]), writer[2]
    if host != _HOST:
        return time.time() - temporary.stat().st_mtime > _OTHER_HOSTS_STALE_S
    return pid != os.getpid() and not _writer_alive(pid)


def _new_file_mode(path: Path) -> int:
    """The permission bits ``path`` keeps (its own, if it exists) or gets from the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; when the block ends without an error it is
    renamed to ``path`` (else removed), so a kill at any moment leaves the old file or the new one,
    never half of one. The file keeps the permission bits of the one it replaces (a new one gets the
    umask's, not a temporary file's 0600). Temporary files that killed writers left are removed;
    those of writers still at work are not. A symbolic link is written through (its target gets the
    new content, the link stays); a path that is a folder or a special file (a FIFO, a device) is
    refused with :class:`IsADirectoryError` or :class:`FileExistsError`, never replaced."""
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder: give the path of a file to write")
    if path.exists() and not path.is_file():
        raise FileExistsError(f"{path} exists and is not a regular file (a FIFO, socket or device): "
                              "refusing to replace it; give the path of a file to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.name}."
    for temporary in path.parent.iterdir():
        if temporary.name.startswith(prefix) and temporary.name.endswith(suffix) and _stale(temporary, prefix):
            temporary.unlink(missing_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f"{prefix}w{os.getpid()}@{_HOST}.", suffix=suffix)
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, _new_file_mode(path))
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


class ChecksumError(DataError):
    """A data file's content differs from the pinned sha256."""


@dataclass(frozen=True)
class DataFile:
    """A pinned upstream file: ``relpath`` is where it lives inside a data folder or the cache."""

    relpath: str
    url: str
    sha256: str
    description: str


_TEXYGEN = "https://raw.githubusercontent.com/geek-ai/Texygen/3104e22ac75f3cc2070da2bf5e2da6d2bef149ad"
_SEQGAN = "https://raw.githubusercontent.com/LantaoYu/SeqGAN/e2b52fb6309851b14765290e8a972ccac09f1bec"
_RELGAN = "https://raw.githubusercontent.com/weilinie/RelGAN/740272542e04728fca859680e91420b82a7cd1c5"

DATA_FILES: dict[str, DataFile] = {
    "coco_train": DataFile(
        "texygen/image_coco.txt",
        f"{_TEXYGEN}/data/image_coco.txt",
        "2c0fd1f0f43aac6a9dc3926a535516ccf395de535e15ac1fd17cd569420736f5",
        "Image COCO captions, Texygen training split (10,000 captions; Lin et al. 2014, CC BY 4.0)",
    ),
    "coco_test": DataFile(
        "texygen/test_coco.txt",
        f"{_TEXYGEN}/data/testdata/test_coco.txt",
        "72e25c9fb4d2cd43182ac602c92f6ffc377762147f9709572943b0b09174bcae",
        "Image COCO captions, Texygen test split (10,000 captions; the BLEU reference set)",
    ),
    "seqgan_oracle": DataFile(
        "seqgan/target_params_py3.pkl",
        f"{_SEQGAN}/save/target_params_py3.pkl",
        "5ac794a695dd6e0eb2bb689f3dfda55e4e0053e8c0399e6242630a95f1e60e8a",
        "parameters of the SeqGAN paper's oracle LSTM (Yu et al. 2017)",
    ),
    "poems": DataFile(
        "relgan/shi.txt",
        f"{_RELGAN}/data/shi.txt",
        "ac03c5fbb07776f0e43cb1ccfc74732f5313ab3d832df81c8e0db327df35e666",
        "16,394 Chinese classical quatrains, one per line, characters separated by spaces (RelGAN, Nie et al. 2019)",
    ),
    "news": DataFile(
        "relgan/test_emnlp.txt",
        f"{_RELGAN}/data/testdata/test_emnlp.txt",
        "03c646d08f766f4140443db4419b1f0ee292bc0db514208873e9f2e166b95bd2",
        "10,000 tokenized English news sentences, the test file of the EMNLP2017 WMT News benchmark (RelGAN)",
    ),
}


def cache_dir() -> Path:
    """The per-user cache folder for downloaded data."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "textgan"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(path: Path, spec: DataFile) -> Path:
    actual = sha256_of(path)
    if actual != spec.sha256:
        raise ChecksumError(
            f"{path} does not match the pinned file {spec.relpath}: its sha256 is {actual}, "
            f"expected {spec.sha256}. It may be truncated, edited or a different version. "
            f"Replace it with a fresh copy of {spec.url} (the file was left untouched)."
        )
    return path


def download(spec: DataFile, dest: Path, timeout: float = 30.0) -> Path:
    """Download ``spec.url`` to ``dest``, verifying length and sha256 before it appears there."""
    if not spec.url.startswith(("https://", "http://")):
        raise DataError(f"refusing to download {spec.description} from {spec.url}: not an http(s) URL")
    try:
        with atomic_path(dest, ".part") as tmp:  # a killed download leaves no file where the next run looks
            digest = hashlib.sha256()
            received = 0
            # S310 asks for the scheme check above: file: and custom schemes never reach urlopen.
            with open(tmp, "wb") as out, urllib.request.urlopen(spec.url, timeout=timeout) as response:  # noqa: S310
                expected_len = response.headers.get("Content-Length")
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
            if expected_len is not None and received != int(expected_len):
                raise DataError(f"download of {spec.url} was cut short: got {received} of {expected_len} bytes. "
                                "Try again; nothing was saved.")
            if digest.hexdigest() != spec.sha256:
                raise ChecksumError(
                    f"the file downloaded from {spec.url} has sha256 {digest.hexdigest()}, expected {spec.sha256}; "
                    "nothing was saved. The server sent something else (a proxy or captive-portal page?)."
                )
    except (urllib.error.URLError, OSError) as err:
        raise DataError(
            f"could not download {spec.relpath} from {spec.url}: {err}. If this machine is offline, copy the "
            f"file to {dest}, or set {DATA_ENV} to a folder that holds it as {spec.relpath}."
        ) from err
    return dest


def data_path(name: str | DataFile, path: str | Path | None = None, download_missing: bool = True) -> Path:
    """The verified local path of a pinned data file, fetching it if needed (see module docstring)."""
    spec = DATA_FILES[name] if isinstance(name, str) else name
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise DataError(f"no file at {path} (given explicitly for {spec.relpath})")
        return _verify(path, spec)
    looked = []
    if os.environ.get(DATA_ENV):
        local = Path(os.environ[DATA_ENV]).expanduser() / spec.relpath
        if local.is_file():
            return _verify(local, spec)
        looked.append(f"{local} (from ${DATA_ENV})")
    cached = cache_dir() / spec.relpath
    if cached.is_file():
        return _verify(cached, spec)
    looked.append(f"{cached} (cache)")
    if not download_missing:
        raise DataError(f"{spec.relpath} not found; looked in: {'; '.join(looked)}. "
                        f"Download it from {spec.url}, or set {DATA_ENV} to a folder holding it.")
    return download(spec, cached)


def read_lines(path: str | Path) -> list[str]:
    """Non-empty, stripped lines of a UTF-8 text file, with clear errors for empty or non-UTF-8 files."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line_no = raw[: err.start].count(b"\n") + 1
        raise DataError(f"{path} is not UTF-8 text: byte {raw[err.start]:#04x} at line {line_no} cannot be "
                        "decoded. Convert it, e.g. `iconv -f latin1 -t utf-8`.") from None
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise DataError(f"{path} holds no text (it is empty or only blank lines)")
    return lines


def load_coco(split: str = "train", path: str | Path | None = None) -> list[str]:
    """Image COCO captions (Texygen's split): ``split`` is ``"train"`` or ``"test"``; 10,000 lines each."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return read_lines(data_path(f"coco_{split}", path))


NEWS_SPLIT = (8000, 1000, 1000)  # train / valid / test sentences of the news corpus
NEWS_SPLIT_SEED = 0


def load_news(split: str = "train", path: str | Path | None = None) -> list[list[str]]:
    """English news sentences as tokens (the file comes tokenized: punctuation and ``'s`` split
    off, case kept; trailing spaces stripped).

    The file is the *test* file of the EMNLP2017 WMT News benchmark (the 270k-sentence training
    file is not used), so this is a small news corpus of its own: ``split`` ``"all"`` (the file as
    it is), or ``"train"`` / ``"valid"`` / ``"test"``: the distinct sentences in a fixed random
    order (seed :data:`NEWS_SPLIT_SEED`) cut into :data:`NEWS_SPLIT`. Scores on it are not
    comparable with published EMNLP News tables, which train on the 270k sentences.
    """
    if split not in ("train", "valid", "test", "all"):
        raise ValueError(f"split must be 'train', 'valid', 'test' or 'all', got {split!r}")
    sentences = [line.split() for line in read_lines(data_path("news", path))]
    if split == "all":
        return sentences
    distinct = list({tuple(t): t for t in sentences}.values())
    random.Random(NEWS_SPLIT_SEED).shuffle(distinct)
    n_train, n_valid, _ = NEWS_SPLIT
    return {"train": distinct[:n_train], "valid": distinct[n_train:n_train + n_valid],
            "test": distinct[n_train + n_valid:]}[split]


POEM_HELD_OUT = 0.1  # the share of the distinct poems held out (BLEU's references)
POEM_SPLIT_SEED = 0  # the fixed random order of the poems before the split
POEM_LENGTH = 24  # four lines of five characters, each line closed by ， or 。


def load_poems(split: str = "train", path: str | Path | None = None) -> list[list[str]]:
    """Chinese quatrains as character tokens (``，`` and ``。`` included).

    ``split``: ``"all"`` (the file as it is), or ``"train"`` / ``"test"``: the distinct poems (a
    poem the file repeats is kept once, so none is both trained on and held out) in a fixed random
    order (seed :data:`POEM_SPLIT_SEED`; the file is ordered, so a slice of it is not a sample),
    the last 10 % held out. A quatrain is four lines of five characters: 24 tokens with its
    punctuation.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    poems = [line.split() for line in read_lines(data_path("poems", path))]
    if split == "all":
        return poems
    distinct = list({tuple(p): p for p in poems}.values())  # first occurrences, in file order
    random.Random(POEM_SPLIT_SEED).shuffle(distinct)
    n_test = round(len(distinct) * POEM_HELD_OUT)
    return distinct[:-n_test] if split == "train" else distinct[-n_test:]


_MULTIARRAY = "numpy._core.multiarray" if hasattr(np, "_core") else "numpy.core.multiarray"


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Admits numpy array reconstruction and nothing else: a crafted pickle cannot run code."""

    _ALLOWED = {
        ("numpy", "ndarray"): ("numpy", "ndarray"),
        ("numpy", "dtype"): ("numpy", "dtype"),
        # NumPy 2 moved numpy.core to numpy._core; pickles written by either name the one they knew.
        ("numpy.core.multiarray", "_reconstruct"): (_MULTIARRAY, "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"): (_MULTIARRAY, "_reconstruct"),
    }

    def find_class(self, module: str, name: str):  # noqa: ANN201 (pickle's signature)
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only numpy arrays are allowed "
                                         "in this file (a pickle naming anything else may run code)")
        return super().find_class(*self._ALLOWED[(module, name)])


def load_numpy_pickle(path: str | Path) -> object:
    """Unpickle a file that may hold only numpy arrays (in lists, tuples, dicts)."""
    with open(path, "rb") as fh:
        return _NumpyOnlyUnpickler(fh).load()


_V, _D = SEQGAN_PAPER.vocab_size, SEQGAN_PAPER.embed_dim  # the oracle's embedding and hidden sizes are equal
ORACLE_SHAPES = [(_V, _D)] + [(_D, _D), (_D, _D), (_D,)] * 4 + [(_D, _V), (_V,)]


def load_oracle_params(path: str | Path | None = None) -> list[np.ndarray]:
    """The SeqGAN oracle's 15 float32 arrays, in the file's order (see ``shared/data/README.md``)."""
    file = data_path("seqgan_oracle", path)
    params = load_numpy_pickle(file)
    if not isinstance(params, list) or [getattr(p, "shape", None) for p in params] != ORACLE_SHAPES:
        raise DataError(f"{file} does not hold the 15 oracle arrays of shapes {ORACLE_SHAPES}")
    return params
