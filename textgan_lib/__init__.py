"""textgan_lib: the tested library behind the textgan book.

Subpackages by concept; imports run one way, data → models → eval → train (and the chapter toys)
→ recipes → book and cli (``tests/test_layout.py`` checks it):

- ``data``: tokenizers, vocabularies, batching, pinned and verified data files (``files``);
- ``models``: ``LSTMGenerator``, sampling, the fused output NLL, the SeqGAN oracle, discriminators,
  the LSTM autoencoder and the code GAN's networks, the Kneser–Ney baseline, checkpoint files,
  and ``evaluating(*modules)``, the one way to sample and score in eval mode;
- ``eval``: NLL, perplexity, distinct-n, BLEU and Self-BLEU, quality–diversity sweeps;
- ``train``: the ``Trainer`` base and the MLE, SeqGAN, Gumbel-softmax and latent-GAN trainers, the
  losses, rollouts, the sync-free MLE epoch and CUDA-graph steps;
- ``toys``: the chapters' small tasks (memory task, 2-D GAN, gradient estimators);
- ``recipes``: size profiles and the experiments that chapters and the command line share;
- ``book``: glue, captions, playgrounds and the tools that keep chapters' generated cells current;
- ``paper``: the SeqGAN and RelGAN papers' settings; ``cli``: the ``textgan`` command;
- ``stream(seed, name)``: the named random stream a run draws from (``_seeds``).

What a chapter needs is importable from the package itself: ``from textgan_lib import LSTMGenerator``.
"""

from ._seeds import stream
from ._version import __version__ as __version__
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
from .models.modes import evaluating
from .models.oracle import OracleLSTM
from .paper import RELGAN_ORACLE, SEQGAN_PAPER
from .recipes.oracle import oracle_evaluator, oracle_mle, oracle_training_data, seqgan_oracle
from .recipes.profiles import default_device, describe, get_profile
from .recipes.sizes import Profile
from .train.arae import ARAEConfig, ARAETrainer
from .train.base import Trainer
from .train.gumbel_gan import GumbelGANConfig, GumbelGANTrainer
from .train.latent_gan import LatentGANConfig, LatentGANTrainer
from .train.mle import MLEConfig, MLETrainer
from .train.rollout import rollout_rewards
from .train.seqgan import SeqGANConfig, SeqGANTrainer

__all__ = [
    "ARAEConfig", "ARAETrainer",
    "AutoencoderConfig", "BLEU", "CNNDiscriminator", "CharTokenizer", "CheckpointMismatchError", "ChecksumError",
    "DataError", "GeneratorConfig", "GumbelGANConfig", "GumbelGANTrainer", "LSTMAutoencoder", "LSTMDiscriminator",
    "LSTMGenerator", "LatentGANConfig", "LatentGANTrainer", "MLEConfig", "MLETrainer", "NonFiniteLossError",
    "OracleLSTM", "OutsideSweepError", "Profile", "RELGAN_ORACLE", "SEQGAN_PAPER", "SeqGANConfig", "SeqGANTrainer",
    "TokenBatch", "Trainer", "Vocabulary", "WordTokenizer", "cache_dir", "data_path", "default_device", "describe",
    "distinct_n", "encode_batch", "evaluating", "get_profile", "get_tokenizer", "iterate_minibatches", "load_coco",
    "load_oracle_params", "mean_token_nll", "nll_div", "nll_oracle", "oracle_evaluator", "oracle_mle",
    "oracle_training_data", "pad_sequences", "perplexity", "quality_diversity_sweep", "read_lines",
    "repeated_ngram_rate", "rollout_rewards", "self_bleu", "seqgan_oracle", "stream", "temperature_matched",
]
