r"""A Gumbel-softmax GAN for the LSTM generator (the RelGAN line: Kusner & Hernández-Lobato 2016,
Nie et al. 2019), trained with the relativistic standard loss (Jolicoeur-Martineau 2019).

At step :math:`t` the generator's logits :math:`o_t` plus Gumbel noise :math:`g_t` give a sample,

.. math::  y_t = \arg\max_v\,(o_{t,v} + g_{t,v}), \qquad g_{t,v} = -\log(-\log u_{t,v}),\; u \sim U(0, 1),

which is an exact draw from :math:`\operatorname{softmax}(o_t)` (the Gumbel-max trick). The sampled
token :math:`y_t` is the next input, as in ordinary sampling. The discriminator, however, does not
see :math:`y_t`: it sees the relaxed one-hot vector

.. math::  \tilde y_t = \operatorname{softmax}\big(\beta\,(o_t + g_t)\big),

which tends to the one-hot of :math:`y_t` as the inverse temperature :math:`\beta \to \infty` and is
differentiable in :math:`o_t`, so the discriminator's verdict backpropagates into the generator with
no policy gradient. A small :math:`\beta` gives smooth, low-variance but biased gradients; a large
one, nearly exact but high-variance gradients. RelGAN therefore anneals :math:`\beta` from 1 to
:math:`\beta_{\max}` (:func:`inverse_temperature`). With ``straight_through`` the discriminator
sees the exact one-hot of :math:`y_t` in the forward pass and :math:`\tilde y_t`'s gradient in the
backward pass.

The defaults are RelGAN's oracle setting with the LSTM generator (:data:`~textgan_lib.paper.RELGAN_ORACLE`,
from its ``oracle_relgan.py`` and ``oracle_train.py``): batch 64, Adam(1e-4, β=(0.9, 0.999)) for
both players, gradients clipped at 5, one generator step then five discriminator steps per
iteration, :math:`\beta_{\max}` = 100 on the exponential schedule with horizon 5000, RSGAN loss.
The generator plays without dropout (eval mode, gradients on) in both players' steps, so the
relaxed samples come from the distribution that is evaluated; the discriminator keeps its dropout.
"""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .._checks import check_config
from .._seeds import stream_seed
from ..eval.metrics import distinct_n
from ..models.generator import LSTMGenerator
from ..models.modes import evaluating
from ..paper import RELGAN_ORACLE
from .adversarial import AdversarialTrainer, heldout_discrimination
from .losses import discriminator_loss, nonsaturating_generator_loss, rsgan_discriminator_loss, rsgan_generator_loss

BETA_SCHEDULES = ("no", "lin", "exp", "log", "sigmoid", "quad", "sqrt")


def inverse_temperature(schedule: str, step: int, max_beta: float, horizon: int = 5000) -> float:
    r"""RelGAN's inverse temperature :math:`\beta` at adversarial ``step`` (0-based).

    With :math:`N` = ``horizon`` and :math:`i` = ``step``: ``no`` keeps :math:`\beta_{\max}`;
    ``lin`` :math:`1 + (\beta_{\max} - 1)\, i / (N - 1)`; ``exp`` :math:`\beta_{\max}^{\,i / N}`;
    ``log`` :math:`1 + (\beta_{\max} - 1) \log(i + 1) / \log N`; ``sigmoid``
    :math:`1 + (\beta_{\max} - 1) / (1 + e^{(N/2 - i)\, 20 / N})`; ``quad``
    :math:`1 + (\beta_{\max} - 1)\, i^2 / (N - 1)^2`; ``sqrt`` :math:`1 + (\beta_{\max} - 1) \sqrt{i / (N - 1)}`.
    RelGAN fixes :math:`N` = 5000 whatever the number of steps it runs, so a shorter run never
    reaches :math:`\beta_{\max}`; pass ``horizon`` = the run's length to reach it.
    """
    if schedule not in BETA_SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}: choose one of {BETA_SCHEDULES}")
    if not 0 <= step <= horizon:
        raise ValueError(f"step must be in [0, horizon={horizon}], got {step}")
    n, i, b = horizon, step, max_beta
    return {
        "no": lambda: b,
        "lin": lambda: 1 + i / (n - 1) * (b - 1),
        "exp": lambda: b ** (i / n),
        "log": lambda: 1 + (b - 1) / math.log(n) * math.log(i + 1),
        "sigmoid": lambda: (b - 1) / (1 + math.exp((n / 2 - i) * 20 / n)) + 1,
        "quad": lambda: (b - 1) / (n - 1) ** 2 * i**2 + 1,
        "sqrt": lambda: (b - 1) / math.sqrt(n - 1) * math.sqrt(i) + 1,
    }[schedule]()


def relgan_horizon(iterations: int) -> int:
    """The horizon that gives a run of ``iterations`` RelGAN's schedule, compressed: RelGAN runs 3000
    iterations on a horizon of 5000, so its :math:`\\beta` ends at :math:`\\beta_{\\max}^{0.6}`; so does this."""
    return max(1, round(iterations * RELGAN_ORACLE.beta_horizon / RELGAN_ORACLE.adversarial_iterations))


RELAXATIONS = ("full", "until_eos")


def relaxed_sample(
    generator: LSTMGenerator,
    n: int,
    max_len: int,
    *,
    beta: float,
    rng: torch.Generator | None = None,
    straight_through: bool = False,
    relaxation: str = "full",
) -> tuple[Tensor, Tensor]:
    """``n`` sequences as token ids ``[n, T]`` and as relaxed one-hot vectors ``[n, T, V]``.

    The ids are exact samples of the generator (Gumbel-max), ``<pad>`` after ``<eos>``; the relaxed
    vectors are ``softmax(beta * (logits + gumbel))`` (straight-through: the ids' one-hot in the
    forward pass), differentiable with respect to the generator's parameters. Where a row has ended:

    - ``relaxation="full"`` (RelGAN's): the generator runs on, fed ``<pad>`` as real data is, and every
      later position is its relaxed distribution over the whole vocabulary, ``<pad>`` included:
      padding is an ordinary soft token, as sure as the generator is of it, and the discriminator's
      verdict on it reaches the generator. The generator should have learned ``<pad>`` after
      ``<eos>`` (``MLEConfig(padding_targets=True)``): otherwise its positions after ``<eos>`` look
      like words.
    - ``relaxation="until_eos"``: exact one-hot ``<pad>`` vectors with no gradient, as in real data.
      Only the positions up to ``<eos>`` are soft and exact padding follows, so a discriminator
      that reads softness finds the samples that end early more real.
    """
    if relaxation not in RELAXATIONS:
        raise ValueError(f"relaxation must be one of {RELAXATIONS}, got {relaxation!r}")
    cfg = generator.config
    device = generator.device
    vocab = cfg.vocab_size
    never = torch.zeros(vocab, dtype=torch.bool, device=device)  # what sample() never draws: <bos>, <pad>
    banned = generator.never_sampled()
    if banned is not None:
        never[banned] = True
    soft_padding = relaxation == "full" and cfg.eos_id is not None
    if soft_padding:  # after <eos> only <bos> is banned: <pad> is the likely token there
        after_eos = torch.zeros(vocab, dtype=torch.bool, device=device)
        after_eos[cfg.start_id] = True
        open_only = never & ~after_eos  # [V]: banned in the rows still open only (<pad>)
    if cfg.eos_id is not None:  # until_eos: what a finished row holds at every later position
        pad = F.one_hot(torch.tensor(cfg.pad_id, device=device), vocab).float()
    tokens = torch.empty(n, max_len, dtype=torch.long, device=device)
    relaxed = []
    finished = torch.zeros(n, dtype=torch.bool, device=device)
    h, state = generator.features(torch.full((n, 1), cfg.start_id, device=device))
    for t in range(max_len):
        logits = generator.output(h[:, -1])  # [n, V]
        u = torch.rand(logits.shape, generator=rng, device=logits.device).clamp_(1e-10, 1 - 1e-10)
        perturbed = logits + u.log_().neg_().log_().neg_()  # logits + Gumbel(0, 1) noise, -log(-log u)
        if soft_padding:
            ban = after_eos | (open_only & ~finished[:, None])  # [n, V]
        else:
            ban = never
        perturbed = perturbed.masked_fill(ban, float("-inf"))
        token = perturbed.argmax(dim=-1)  # [n]: in the open rows, an exact sample of sample()'s distribution
        soft = F.softmax(beta * perturbed, dim=-1)  # [n, V]: one softmax for open and finished rows
        if cfg.eos_id is not None:
            token = token.masked_fill(finished, cfg.pad_id)
            if not soft_padding:
                soft = torch.where(finished[:, None], pad.to(soft.dtype), soft)
            finished = finished | (token == cfg.eos_id)
        if straight_through:
            soft = F.one_hot(token, vocab).to(soft.dtype) - soft.detach() + soft
        tokens[:, t] = token
        relaxed.append(soft)
        if t + 1 < max_len:
            h, state = generator.features(token[:, None], state)
    return tokens, torch.stack(relaxed, dim=1)


@dataclass(frozen=True)
class GumbelGANConfig:
    batch_size: int = 64
    g_lr: float = RELGAN_ORACLE.lr
    d_lr: float = RELGAN_ORACLE.lr
    adam_betas: tuple[float, float] = (0.9, 0.999)
    clip_norm: float = 5.0  # global gradient norm, both players (RelGAN's)
    max_beta: float = 100.0  # RelGAN's oracle runs: 2, 5, 10, 100 (COCO: 100, 1000)
    beta_schedule: str = "exp"
    beta_horizon: int = RELGAN_ORACLE.beta_horizon  # RelGAN's N: where the schedule reaches max_beta
    loss: str = "rsgan"  # "rsgan" or "standard" (non-saturating)
    g_steps: int = 1  # generator steps per iteration
    d_steps: int = RELGAN_ORACLE.d_steps  # discriminator steps per iteration
    straight_through: bool = False
    relaxation: str = "full"  # or "until_eos": see relaxed_sample
    eval_every: int = 100  # iterations between evaluations
    monitor_samples: int = 1000  # samples whose distinct-2/3 are recorded at each evaluation (collapse)
    # "trained": the GAN; "fixed": its placebo, the critic never trained (a frozen random critic)
    critic: str = "trained"
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self, positive=("batch_size", "g_lr", "d_lr", "clip_norm", "max_beta", "beta_horizon", "g_steps",
                                     "d_steps", "eval_every", "monitor_samples"), non_negative=("seed",))
        if not all(0 <= b < 1 for b in self.adam_betas):
            raise ValueError(f"GumbelGANConfig.adam_betas must lie in [0, 1), got {self.adam_betas}")
        if self.loss not in ("rsgan", "standard"):
            raise ValueError(f"loss must be 'rsgan' or 'standard', got {self.loss!r}")
        if self.beta_schedule not in BETA_SCHEDULES:
            raise ValueError(f"beta_schedule must be one of {BETA_SCHEDULES}, got {self.beta_schedule!r}")
        if self.critic not in ("trained", "fixed"):
            raise ValueError(f"critic must be 'trained' or 'fixed', got {self.critic!r}")
        if self.relaxation not in RELAXATIONS:
            raise ValueError(f"relaxation must be one of {RELAXATIONS}, got {self.relaxation!r}")
        if self.max_beta < 1:
            raise ValueError(f"max_beta must be >= 1 (the schedules start at 1), got {self.max_beta}")


class GumbelGANTrainer(AdversarialTrainer):
    """Adversarial training of ``generator`` (pretrained by MLE) against ``discriminator`` on
    ``real_tokens`` ``[N, T]``, through Gumbel-softmax relaxed samples (see the module docstring).

    Each iteration (:meth:`train_step`) takes ``g_steps`` generator and ``d_steps`` discriminator
    updates, each on a fresh real minibatch and fresh samples, with :math:`\\beta` set by the
    schedule. Every ``eval_every`` iterations the history gets ``beta``, ``g_loss``, ``d_loss``,
    distinct-2/3 and mean length (``monitor_length``) of ``monitor_samples`` samples (a collapse
    monitor), ``mean_length`` of the last generator step's samples and ``evaluate(generator)``,
    and the checkpoint is written; row 0 is the starting point.
    """

    kind = "gumbel_gan"
    unit = "iteration"
    name = "Gumbel GAN"

    config_class = GumbelGANConfig

    def setup(self) -> None:
        generator, config = self.generator, self.config
        if len(self.real) < config.batch_size:
            raise ValueError(f"{len(self.real)} real sequences are fewer than one batch of {config.batch_size}")
        if self.held_out is not None:  # the critic is measured on the first monitor_samples of them
            self.held_out = self.held_out[: config.monitor_samples]
        if config.relaxation == "full" and generator.config.eos_id is not None:
            learned = padding_probability(generator, self.real[:256])
            if learned < 0.5:
                warnings.warn(f"the generator gives <pad> after <eos> probability {learned:.3f} on real rows: with "
                              "relaxation='full' the discriminator sees words where real text has padding. Train "
                              "it with MLEConfig(padding_targets=True), or use relaxation='until_eos'.", stacklevel=4)
        self.add_adam()
        self.rngs["sample"] = self.seeded_rng(config.seed, generator.device)
        self.rngs["batch"] = self.seeded_rng(config.seed)
        self.rngs["monitor"] = self.seeded_rng(stream_seed(config.seed, "gumbel_monitor"), generator.device)

    @property
    def beta(self) -> float:
        cfg = self.config
        return inverse_temperature(cfg.beta_schedule, min(self.step, cfg.beta_horizon), cfg.max_beta, cfg.beta_horizon)

    def advice(self) -> str:
        cfg = self.config
        return (f"Try lower learning rates (g_lr={cfg.g_lr}, d_lr={cfg.d_lr}) or a smaller max_beta "
                f"({cfg.max_beta}).")

    # -- the two players ------------------------------------------------------------------------

    def _real_batch(self) -> Tensor:
        index = torch.randperm(len(self.real), generator=self.rngs["batch"])[: self.config.batch_size]
        return self.real[index.to(self.real.device)]

    def _relaxed(self, n: int) -> tuple[Tensor, Tensor]:
        """``n`` samples (ids, relaxed) of the generator without dropout: the policy that is evaluated."""
        cfg = self.config
        with evaluating(self.generator):
            return relaxed_sample(self.generator, n, self.max_len, beta=self.beta,
                                     rng=self.rngs["sample"], straight_through=cfg.straight_through,
                                     relaxation=cfg.relaxation)

    def generator_step(self) -> dict[str, float]:
        """One update of the generator through the relaxed samples."""
        tokens, fake = self._relaxed(self.config.batch_size)
        real_logits = self.discriminator(self._real_batch())
        fake_logits = self.discriminator(fake)
        if self.config.loss == "rsgan":
            loss = rsgan_generator_loss(real_logits.detach(), fake_logits)
        else:
            loss = nonsaturating_generator_loss(fake_logits)
        self.update(loss, "generator", "generator loss", self.config.clip_norm)
        return {"g_loss": loss.item(), "mean_length": _mean_length(self.generator, tokens)}

    def discriminator_step(self) -> dict[str, float]:
        """One update of the discriminator on a real minibatch against fresh relaxed samples."""
        with torch.no_grad():
            _, fake = self._relaxed(self.config.batch_size)
        real_logits, fake_logits = self.discriminator(self._real_batch()), self.discriminator(fake)
        if self.config.loss == "rsgan":
            loss = rsgan_discriminator_loss(real_logits, fake_logits)
        else:
            loss = discriminator_loss(real_logits, fake_logits)
        self.update(loss, "discriminator", "discriminator loss", self.config.clip_norm)
        return {"d_loss": loss.item()}

    # -- the loop ---------------------------------------------------------------------------------

    def position_columns(self) -> dict:
        return {"iteration": self.step, "beta": self.beta}

    def before_run(self) -> None:
        if not self.records:
            self.record({})

    def train_step(self) -> dict[str, float]:
        g_stats = [self.generator_step() for _ in range(self.config.g_steps)]
        if self.config.critic == "fixed":
            return g_stats[-1]
        d_stats = [self.discriminator_step() for _ in range(self.config.d_steps)]
        return {**g_stats[-1], **d_stats[-1]}

    def measure(self) -> dict[str, float]:
        """Distinct-2/3 and the mean length of fresh monitor samples; with held-out sequences, how
        well the critic tells them from those samples
        (:func:`~textgan_lib.train.adversarial.heldout_discrimination`)."""
        monitor = self.generator.sample(self.config.monitor_samples, self.max_len, rng=self.rngs["monitor"])
        rows = [[t for t in row if t != self.generator.config.pad_id] for row in monitor.tolist()]
        measured = {"distinct_2": distinct_n(rows, 2), "distinct_3": distinct_n(rows, 3),
                    "monitor_length": _mean_length(self.generator, monitor)}
        if self.held_out is not None:
            critic = heldout_discrimination(self.discriminator, self.held_out, monitor[: len(self.held_out)])
            measured |= {"d_heldout_accuracy": critic["accuracy"], "d_heldout_auc": critic["auc"]}
        return measured


@torch.no_grad()
def padding_probability(generator: LSTMGenerator, tokens: Tensor) -> float:
    """Mean probability that ``generator`` gives ``<pad>`` at the positions after ``<eos>`` in ``tokens``
    ``[B, T]`` (1.0 when no row has such a position): whether it has learned to pad."""
    with evaluating(generator):
        nll = generator.token_nll(tokens, padding_targets=True)  # [B, T]
    padding = ~generator.mask(tokens)
    return float(torch.exp(-nll[padding]).mean()) if padding.any() else 1.0


def _mean_length(generator: LSTMGenerator, tokens: Tensor) -> float:
    """Mean number of tokens per sample, ``<eos>`` included."""
    return generator.mask(tokens).sum(dim=1).float().mean().item()


def copy_generator(generator: LSTMGenerator) -> LSTMGenerator:
    """An independent copy (weights and vocabulary) of ``generator``: each GAN starts from the same MLE model."""
    twin = copy.deepcopy(generator)
    twin.lstm.flatten_parameters()
    return twin
