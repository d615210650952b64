"""textgan_lib: the tested library behind the textgan book.

One module per concept:

- text and data: ``tokenize``, ``vocab``, ``batching``, ``data`` (pinned, verified files), ``profiles``;
- language models: ``generator`` (``LSTMGenerator``), ``output_nll`` (fused output layer + NLL),
  ``sampling``, ``training`` (MLE with checkpoints), ``checkpoint``, ``cuda_graph`` (a training step
  replayed as a CUDA graph), ``ngram`` (Kneser–Ney baseline),
  ``memory_task`` (the LSTM-vs-RNN toy task);
- evaluation: ``oracle`` (the SeqGAN oracle), ``metrics``, ``bleu``, ``experiments``;
- GANs: ``toy_gan``, ``losses``, ``gradient_estimators``, ``discriminators``, ``rollout``, ``seqgan``;
- the book and the command line: ``book`` (glue), ``cli``.
"""

from .batching import TokenBatch, encode_batch, iterate_minibatches, pad_sequences
from .data import DataError, ChecksumError, data_path, load_coco, load_oracle_params, read_lines
from .profiles import Profile, default_device, describe, get_profile
from .tokenize import CharTokenizer, WordTokenizer, get_tokenizer
from .vocab import Vocabulary

__version__ = "0.1.0"

__all__ = [
    "ChecksumError", "CharTokenizer", "DataError", "Profile", "TokenBatch", "Vocabulary", "WordTokenizer",
    "data_path", "default_device", "describe", "encode_batch", "get_profile", "get_tokenizer",
    "iterate_minibatches", "load_coco", "load_oracle_params", "pad_sequences", "read_lines",
]
