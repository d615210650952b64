"""textgan_lib: the tested library behind the textgan book.

One module per concept:

- text and data: ``tokenize``, ``vocab``, ``batching``, ``data`` (pinned, verified files), ``profiles``;
- language models: ``generator`` (``LSTMGenerator``), ``output_nll`` (fused output layer + NLL),
  ``sampling``, ``training`` (MLE with checkpoints), ``checkpoint``, ``cuda_graph`` (a training step
  replayed as a CUDA graph), ``ngram`` (Kneser–Ney baseline),
  ``memory_task`` (the LSTM-vs-RNN toy task);
- evaluation: ``oracle`` (the SeqGAN oracle), ``paper`` (the SeqGAN paper's setting), ``metrics``,
  ``bleu``, ``experiments``;
- GANs: ``toy_gan``, ``losses``, ``gradient_estimators``, ``discriminators``, ``rollout``, ``seqgan``,
  ``gumbel_gan`` (Gumbel-softmax GANs), ``autoencoder`` and ``latent_gan`` (a GAN on sentence codes);
- GANs on real text: ``real_text`` (one protocol for every method, shared with ``textgan real-text``);
- the book and the command line: ``book`` (glue), ``cli``.

What a chapter needs is importable from the package itself: ``from textgan_lib import LSTMGenerator``.
"""

from .data.batching import TokenBatch, encode_batch, iterate_minibatches, pad_sequences
from .data.files import ChecksumError, DataError, cache_dir, data_path, load_coco, load_oracle_params, read_lines
from .data.tokenize import CharTokenizer, WordTokenizer, get_tokenizer
from .data.vocab import Vocabulary
from .eval.bleu import BLEU, self_bleu
from .eval.metrics import (
                      OutsideSweepError,
                      distinct_n,
                      mean_token_nll,
                      nll_div,
                      nll_oracle,
                      perplexity,
                      quality_diversity_sweep,
                      repeated_ngram_rate,
                      temperature_matched,
)
from .models.autoencoder import AutoencoderConfig, LSTMAutoencoder
from .models.checkpoint import CheckpointMismatchError, NonFiniteLossError
from .models.discriminators import CNNDiscriminator, LSTMDiscriminator
from .models.generator import GeneratorConfig, LSTMGenerator
from .models.oracle import OracleLSTM
from .paper import RELGAN_ORACLE, SEQGAN_PAPER
from .recipes.experiments import oracle_evaluator, oracle_mle, oracle_training_data, seqgan_oracle
from .recipes.profiles import Profile, default_device, describe, get_profile
from .train.gumbel_gan import GumbelGANConfig, GumbelGANTrainer
from .train.latent_gan import LatentGANConfig, LatentGANTrainer
from .train.mle import MLEConfig, MLETrainer
from .train.rollout import rollout_rewards
from .train.seqgan import SeqGANConfig, SeqGANTrainer

__version__ = "0.1.0"

__all__ = [
    "AutoencoderConfig", "BLEU", "CNNDiscriminator", "CharTokenizer", "CheckpointMismatchError", "ChecksumError",
    "DataError", "GeneratorConfig", "GumbelGANConfig", "GumbelGANTrainer", "LSTMAutoencoder", "LSTMDiscriminator",
    "LSTMGenerator", "LatentGANConfig", "LatentGANTrainer", "MLEConfig", "MLETrainer", "NonFiniteLossError",
    "OracleLSTM", "OutsideSweepError", "Profile", "RELGAN_ORACLE", "SEQGAN_PAPER", "SeqGANConfig", "SeqGANTrainer",
    "TokenBatch", "Vocabulary", "WordTokenizer", "cache_dir", "data_path", "default_device", "describe", "distinct_n",
    "encode_batch", "get_profile", "get_tokenizer", "iterate_minibatches", "load_coco", "load_oracle_params",
    "mean_token_nll", "nll_div", "nll_oracle", "oracle_evaluator", "oracle_mle", "oracle_training_data",
    "pad_sequences", "perplexity", "quality_diversity_sweep", "read_lines", "repeated_ngram_rate", "rollout_rewards",
    "self_bleu", "seqgan_oracle", "temperature_matched",
]
