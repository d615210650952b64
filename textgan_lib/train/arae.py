r"""ARAE: the autoencoder, the critic and the code generator trained together (Zhao et al. 2018).

Chapter 11's first GAN on codes (:class:`~textgan_lib.train.latent_gan.LatentGANTrainer`, the
LaTextGAN recipe of Donahue & Rumshisky 2018) trains the autoencoder first and the GAN on its
frozen codes. The adversarially regularised autoencoder trains all three at once, so that the
code space itself is shaped for the GAN. One iteration of :class:`ARAETrainer`, as in the
reference code's loop (``jakezhaojb/ARAE``, ``lang/train.py``, ``train()``):

1. **reconstruction** (``train_ae``): one step on :math:`-\log p(x \mid c + \epsilon)` with
   :math:`c = \mathrm{enc}(x)` and Gaussian noise :math:`\epsilon \sim \mathcal N(0, r^2 I)` on the
   code, :math:`r` annealed by ``code_noise_anneal`` every 100 iterations (``noise_r``,
   ``noise_anneal``): the decoder learns to read codes that are near, not on, the real ones;
2. ``critic_steps`` **critic** steps (``train_gan_d``): WGAN-GP between the current encoder's codes
   of a fresh batch and the generator's codes;
3. **the critic into the encoder** (``train_gan_d_into_ae``): the encoder moves the real codes
   against the critic's gradient, :math:`\min_{\mathrm{enc}} \lambda\, E[f(\mathrm{enc}(x))]` with
   :math:`\lambda` = ``critic_into_encoder`` (``grad_lambda``): the real codes are pulled towards
   where the generator can reach;
4. one **generator** step (``train_gan_g``).

Defaults are the reference's SNLI settings (``lang/run_snli.py``): noise 0.05 annealed by 0.9995,
five critic steps, penalty weight 1, :math:`\lambda` = 0.1, Adam betas (0.5, 0.999) and lr 1e-4
for both GAN players, step 3 by plain SGD at lr 1, gradients of the autoencoder clipped at norm 1.
What differs here, and why: the autoencoder is this book's (two-way encoder, word dropout) and its
reconstruction step uses Adam at ``ae_lr``, as it was tuned (the reference uses the same SGD at
lr 1 for both of the autoencoder's steps; step 3 keeps it, since under Adam the weight
:math:`\lambda` would be normalised away); the generator's codes are put on the unit sphere like
the real ones (the reference leaves them unnormalised); the MLPs have no batch normalisation (a
gradient penalty is defined per sample, which batch normalisation breaks).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from .._checks import check_config
from ..models.autoencoder import LSTMAutoencoder, reconstruction_accuracy
from ..models.modes import evaluating
from .latent_gan import CodeGANTrainer, LatentGANConfig


@dataclass(frozen=True)
class ARAEConfig(LatentGANConfig):
    """The code GAN's settings (:class:`~textgan_lib.train.latent_gan.LatentGANConfig`, at the
    reference's Adam betas and penalty weight) and the autoencoder's part of the joint loop."""

    adam_betas: tuple[float, float] = (0.5, 0.999)
    gp_weight: float = 1.0
    ae_lr: float = 1e-3  # the autoencoder's Adam
    ae_clip_norm: float = 1.0
    critic_into_encoder: float = 0.1  # λ: weight of the critic's gradient in the encoder's update
    encoder_lr: float = 1.0  # plain SGD for that update, as the reference's
    code_noise: float = 0.05  # r: standard deviation of the noise on the codes the decoder reads
    code_noise_anneal: float = 0.9995  # r is multiplied by this every 100 iterations

    def __post_init__(self) -> None:
        super().__post_init__()
        check_config(self, positive=("ae_lr", "ae_clip_norm", "encoder_lr", "code_noise_anneal"),
                     non_negative=("critic_into_encoder", "code_noise"))


class ARAETrainer(CodeGANTrainer):
    """ARAE's joint loop on ``tokens`` ``[N, T]`` (the training sentences), from the state the
    ``autoencoder`` is in (the reference starts from an untrained one).

    History columns every ``eval_every`` iterations: ``ae_nll`` (the reconstruction loss per
    token, with the code noise), ``code_noise``, the critic's ``d_loss``, ``wasserstein`` and
    ``gradient_penalty``, ``encoder_loss`` (:math:`\\lambda E[f(\\mathrm{enc}(x))]`), ``g_loss``;
    with ``held_out`` tokens also ``valid_token_accuracy``, the greedy reconstruction accuracy
    (the autoencoder's curve). The checkpoint holds all three networks and generates text.
    """

    kind = "arae"
    name = "ARAE"

    def __init__(self, autoencoder: LSTMAutoencoder, tokens: Tensor, config: ARAEConfig = ARAEConfig(),
                 checkpoint_path: str | Path | None = None, progress: bool = True,
                 held_out: Tensor | None = None) -> None:
        if tokens.dim() != 2 or len(tokens) < config.batch_size:
            raise ValueError(f"expected at least one batch ({config.batch_size}) of token ids [N, T], got shape "
                             f"{tuple(tokens.shape)}")
        autoencoder.check_tokens(tokens)
        super().__init__(autoencoder, config, checkpoint_path, progress)
        self.tokens = tokens.to(autoencoder.device)
        self.held_out = None if held_out is None else held_out.to(autoencoder.device)
        self.optimizers["autoencoder"] = torch.optim.Adam(autoencoder.parameters(), lr=config.ae_lr)
        encoder = [*autoencoder.embedding.parameters(), *autoencoder.encoder.parameters()]  # what encode() uses
        self.optimizers["encoder"] = torch.optim.SGD(encoder, lr=config.encoder_lr)

    @property
    def code_noise(self) -> float:
        """:math:`r` at the current iteration (a function of the step, so a resumed run has the same)."""
        return self.config.code_noise * self.config.code_noise_anneal ** (self.step // 100)

    def _token_batch(self) -> Tensor:
        index = torch.randperm(len(self.tokens), generator=self.rngs["batch"])[: self.config.batch_size]
        return self.autoencoder.trim(self.tokens[index.to(self.tokens.device)])

    def real_codes(self) -> Tensor:
        """The current encoder's codes of a fresh batch, in eval mode (as the codes are evaluated)."""
        with torch.no_grad(), evaluating(self.autoencoder):
            return self.autoencoder.encode(self._token_batch(), check_ids=False)

    def autoencoder_step(self) -> dict[str, float]:
        self.autoencoder.train()
        batch = self._token_batch()
        nll = self.autoencoder.token_nll(batch, check_ids=False, code_noise=self.code_noise)  # [B, T]
        loss = nll.sum() / self.autoencoder.mask(batch).sum()
        self.update(loss, "autoencoder", "reconstruction loss", self.config.ae_clip_norm)
        return {"ae_nll": loss.item(), "code_noise": self.code_noise}

    def encoder_step(self) -> dict[str, float]:
        with evaluating(self.autoencoder):  # the codes the critic judges; the gradient still flows
            codes = self.autoencoder.encode(self._token_batch(), check_ids=False)
            loss = self.config.critic_into_encoder * self.score(codes).mean()
            self.update(loss, "encoder", "encoder's adversarial loss", self.config.ae_clip_norm)
        return {"encoder_loss": loss.item()}

    def train_step(self) -> dict[str, float]:
        autoencoder = self.autoencoder_step()
        critic = [self.critic_step() for _ in range(self.config.critic_steps)][-1]
        return {**autoencoder, **critic, **self.encoder_step(), **self.generator_step()}

    def measure(self) -> dict[str, float]:
        if self.held_out is None:
            return {}
        return {"valid_token_accuracy": reconstruction_accuracy(self.autoencoder, self.held_out)["token"]}

    def advice(self) -> str:
        return f"Try lower learning rates (lr={self.config.lr}, ae_lr={self.config.ae_lr})."
