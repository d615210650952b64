"""GANs on real text: Image COCO captions and Chinese quatrains, one protocol for every method.

``real_text(corpus, method, profile, out)`` trains (or reuses) the corpus's MLE language model, then
for ``method``:

- ``mle``: that model itself, sampled at temperature 1;
- ``seqgan``: :class:`~textgan_lib.seqgan.SeqGANTrainer` from a copy of it, with the paper's CNN
  discriminator and ``profile.realtext_rollouts`` rollouts per prefix;
- ``gumbel``: :class:`~textgan_lib.gumbel_gan.GumbelGANTrainer` from a copy of it, with a CNN of
  RelGAN's window sizes (``CNNDiscriminator.relgan_sized``), :math:`\\beta_{\\max}` = 100 and the
  profile's learning rate, on RelGAN's schedule compressed to the run's length;
- ``latent``: an LSTM autoencoder and a WGAN-GP on its sentence codes
  (:func:`~textgan_lib.experiments.latent_model`), sentences decoded greedily from generated codes.

Every method starts from the same MLE checkpoint (trained once per corpus, profile and seed) and is
scored the same way: ``realtext_samples`` samples, decoded to tokens with ``<unk>`` dropped, against
the held-out texts as references (BLEU-2..5, the mean sentence BLEU of NLTK's ``sentence_bleu``
with method-1 smoothing), leave-one-out Self-BLEU-2..5, distinct-n, the share of samples that copy
a training text, the model's NLL of the held-out texts (``nll_test``; ``None`` for ``latent``,
whose likelihood is intractable) and the MLE model's NLL of the samples (``nll_under_mle``, a
quality measure every method shares). It writes, in ``out``:

- ``<corpus>_<method>_samples.txt``: one sample a line, tokens separated by single spaces;
- ``<corpus>_references.txt``: the references, tokenized the same way;
- ``<corpus>_<method>.json``: the scores, the sizes and the seconds it took;
- ``<corpus>_<method>_history.csv`` for the GANs: their training history.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from ..data.vocab import UNK
from ..eval.bleu import BLEU, self_bleu
from ..eval.metrics import distinct_n, mean_token_nll
from ..models.code_gan import generate
from ..models.discriminators import CNNDiscriminator
from ..train.gumbel_gan import GumbelGANConfig, GumbelGANTrainer, copy_generator, relgan_horizon
from ..train.seqgan import SeqGANConfig, SeqGANTrainer
from .experiments import TextSplits, language_model, latent_model, text_splits
from .profiles import Profile, get_profile

CORPORA = ("coco", "poems")
METHODS = ("mle", "seqgan", "gumbel", "latent")
BLEU_NS = (2, 3, 4, 5)


def decode_samples(data: TextSplits, samples: torch.Tensor) -> list[list[str]]:
    """Token lists of generated ids: up to ``<eos>``, without ``<pad>``/``<bos>``/``<unk>``."""
    return [[t for t in data.vocab.decode(row) if t != UNK] for row in samples.tolist()]


def score_samples(texts: list[list[str]], references: list[list[str]], train_texts: list[list[str]]) -> dict:
    """BLEU-2..5 against ``references``, Self-BLEU-2..5, distinct-2..4 (``None`` where no sample is
    long enough) and the training-copy rate."""
    bleu = BLEU(references, max_n=max(BLEU_NS)).corpus_mean(texts, ns=BLEU_NS)
    seen = {tuple(t) for t in train_texts}
    return {
        "bleu": {str(n): bleu[n] for n in BLEU_NS},
        "self_bleu": {str(n): v for n, v in self_bleu(texts, ns=BLEU_NS).items()},
        # None when no sample is n tokens long (a degenerate generator: nothing to count)
        "distinct": {str(n): distinct_n(texts, n) if any(len(t) >= n for t in texts) else None for n in (2, 3, 4)},
        "train_copy_rate": sum(tuple(t) in seen for t in texts) / len(texts),
    }


def real_text(
    corpus: str,
    method: str,
    profile: Profile | str,
    out: str | Path,
    seed: int = 0,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> dict:
    """Train ``method`` on ``corpus`` at ``profile`` and write its samples and scores to ``out``.

    Returns what it wrote to ``<corpus>_<method>.json``.
    """
    if corpus not in CORPORA:
        raise ValueError(f"unknown corpus {corpus!r}: choose one of {CORPORA}")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: choose one of {METHODS}")
    profile = get_profile(profile) if isinstance(profile, str) else profile
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    data = text_splits(corpus, profile)
    mle, _ = language_model(data, profile, seed, device, progress=progress)
    references = data.test_texts[: profile.realtext_references]
    rng = torch.Generator(device=mle.device).manual_seed(seed + 2)
    if method == "latent":  # no tractable likelihood: the model's NLL_test is not defined
        autoencoder, code_generator, _, history = latent_model(data, profile, seed, device, progress)
        history.to_csv(out / f"{corpus}_{method}_history.csv", index=False)
        samples = generate(autoencoder, code_generator, profile.realtext_samples, data.max_len, rng=rng,
                           temperature=0.0)
        nll_test = None
    else:
        model = mle if method == "mle" else _adversarial(method, copy_generator(mle), data, profile, seed, out,
                                                         progress)
        samples = model.sample(profile.realtext_samples, data.max_len, rng=rng)
        nll_test = mean_token_nll(model, data.test.tokens[: len(references)])
    texts = decode_samples(data, samples)
    result = {
        "corpus": corpus, "method": method, "profile": profile.name, "seed": seed,
        **score_samples(texts, references, data.train_texts),
        "nll_test": nll_test, "nll_under_mle": mean_token_nll(mle, samples),
        "n_samples": len(texts), "n_references": len(references), "vocab_size": len(data.vocab),
        "seconds": time.perf_counter() - started,
    }
    _write_lines(out / f"{corpus}_{method}_samples.txt", texts)
    _write_lines(out / f"{corpus}_references.txt", references)
    (out / f"{corpus}_{method}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n",
                                                  encoding="utf-8")
    return result


def _adversarial(method: str, generator, data: TextSplits, profile: Profile, seed: int, out: Path,
                 progress: bool):
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        discriminator = (CNNDiscriminator(len(data.vocab)) if method == "seqgan"
                         else CNNDiscriminator.relgan_sized(len(data.vocab), profile.gumbel_filters))
    discriminator.to(generator.device)
    if method == "seqgan":
        config = SeqGANConfig(d_pretrain_rounds=profile.realtext_d_pretrain_rounds, d_steps=1, d_epochs=1,
                              d_samples=profile.realtext_d_samples, n_rollouts=profile.realtext_rollouts,
                              eval_every=profile.realtext_seqgan_rounds, seed=seed)
        trainer = SeqGANTrainer(generator, discriminator, data.train.tokens, data.max_len, config, progress=progress)
        trainer.pretrain_discriminator()
        history = trainer.run(until=profile.realtext_seqgan_rounds)
    else:
        iterations = profile.realtext_gumbel_iterations
        config = GumbelGANConfig(g_lr=profile.gumbel_lr, d_lr=profile.gumbel_lr,
                                 beta_horizon=relgan_horizon(iterations), eval_every=max(iterations // 10, 1),
                                 monitor_samples=min(1000, profile.realtext_samples), seed=seed)
        trainer = GumbelGANTrainer(generator, discriminator, data.train.tokens, data.max_len, config,
                                   progress=progress)
        history = trainer.run(until=iterations)
    history.to_csv(out / f"{data.name}_{method}_history.csv", index=False)
    return generator


def _write_lines(path: Path, texts: list[list[str]]) -> None:
    path.write_text("".join(" ".join(t) + "\n" for t in texts), encoding="utf-8")
