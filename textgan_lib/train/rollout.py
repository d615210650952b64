r"""Monte-Carlo rollout rewards: a reward for every prefix of a generated sequence.

A discriminator judges only complete sequences, but policy gradient needs a reward for each token.
SeqGAN (Yu et al. 2017) estimates the value of the prefix :math:`y_{1:t}` by completing it
:math:`M` times with a rollout policy :math:`G_\beta` and averaging the discriminator's verdicts:

.. math::

    Q(y_{1:t}) = \begin{cases}
      \frac{1}{M} \sum_{m=1}^{M} D\big(y_{1:t} \oplus \tilde y^{(m)}_{t+1:T}\big),
        \quad \tilde y^{(m)} \sim G_\beta(\cdot \mid y_{1:t}) & t < T \\
      D(y_{1:T}) & t = T.
    \end{cases}

``rollout_rewards`` computes all :math:`B \times (T-1) \times M` completions at once. The
generator's state after every prefix comes from one teacher-forced pass; then generation runs
position by position over an *active set* of rows: the :math:`M \cdot B` completions of prefix
length :math:`t` join the set at position :math:`t + 1`, so no row ever recomputes its prefix and no
Python loop runs over rollouts or prefix lengths. The result is ``[B, T]``, row ``b`` and column
``t - 1`` holding :math:`Q(y^{(b)}_{1:t})`, kept in that order throughout (a widely copied
implementation reshapes its reward tensor in the wrong order and mixes rewards between samples).

Scoring the completions is most of the work on a CPU. A discriminator that offers
``completion_logits(sequences, completions)`` (the CNN does: :meth:`~textgan_lib.models.discriminators.
CNNDiscriminator.completion_logits`) scores them without recomputing what each prefix already
determines; ``reuse_prefixes=False`` scores every completion from scratch.

``log_odds=True`` averages the discriminator's logit :math:`\log D - \log(1 - D)` instead of
:math:`D`. For the oracle's exact likelihood ratio the logit is :math:`\log p_{\text{oracle}}(x) -
\log p_G(x)`, whose mean over the generator's samples is minus the reverse KL divergence
:math:`\mathrm{KL}(p_G \,\|\, p_{\text{oracle}})`: the policy gradient then descends it. The probability
:math:`D` saturates where the discriminator is sure (a perfect one gives the generator's samples
:math:`D \approx 10^{-26}`); its logit does not.

``rollout_rewards_reference`` is the same estimate written as the plain double loop; it is slow and
serves to check the fast one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from ..models.generator import LSTMGenerator
from ..models.modes import evaluating
from ..models.sampling import sample_from_hidden

SCORE_CHUNK = 4096  # sequences per discriminator call


@torch.no_grad()
def discriminator_reward(discriminator: nn.Module, sequences: Tensor,
                         autocast_dtype: torch.dtype | None = None, log_odds: bool = False) -> Tensor:
    """The reward ``[N]`` that the discriminator gives ``[N, T]`` sequences, in eval mode and in
    chunks: its probability ``sigmoid(D(x))`` that they are real, or with ``log_odds`` the logit
    ``D(x)`` itself, ``log D - log(1 - D)``.

    ``autocast_dtype`` (``torch.bfloat16`` or ``torch.float16``) runs the discriminator under
    autocast: about twice as fast on GPUs (and bfloat16 on CPUs with AMX tiles), and precise enough
    for rewards (a rollout average carries Monte-Carlo noise far larger), but its numbers then
    depend on the hardware (:func:`default_reward_dtype` picks one per device). The default, None,
    float32, gives the same rewards on every CPU.
    """
    with _scoring(discriminator, sequences.device.type, autocast_dtype):
        logits = torch.cat([discriminator(chunk).float() for chunk in sequences.split(SCORE_CHUNK)])
    return logits if log_odds else torch.sigmoid(logits)


@torch.no_grad()
def completion_probability(discriminator: nn.Module, sequences: Tensor, completions: Tensor,
                           autocast_dtype: torch.dtype | None = None, reuse_prefixes: bool = True,
                           log_odds: bool = False) -> Tensor:
    """``sigmoid(D(x))`` ``[N, M, B]`` for ``completions`` ``[N, M, B, T]`` of ``sequences``
    ``[B, T]`` (``completions[t - 1, m, b]`` agrees with ``sequences[b]`` before position ``t``;
    with ``log_odds``: the logit ``D(x)``).

    With ``reuse_prefixes`` and a discriminator that has ``completion_logits``, the shared
    prefixes are not recomputed; otherwise every completion is scored from scratch by
    :func:`discriminator_reward`. Both give the same numbers up to float rounding.
    """
    if not (reuse_prefixes and hasattr(discriminator, "completion_logits")):
        return discriminator_reward(discriminator, completions.reshape(-1, completions.shape[-1]),
                                    autocast_dtype, log_odds).view(completions.shape[:3])
    with _scoring(discriminator, sequences.device.type, autocast_dtype):
        logits = discriminator.completion_logits(sequences, completions).float()
    return logits if log_odds else torch.sigmoid(logits)


@contextmanager
def _scoring(discriminator: nn.Module, device_type: str, autocast_dtype: torch.dtype | None) -> Iterator[None]:
    """The discriminator in eval mode (no dropout), under autocast to ``autocast_dtype`` unless it
    is None; its training mode is restored afterwards."""
    with evaluating(discriminator), torch.autocast(device_type, dtype=autocast_dtype or torch.bfloat16,
                                                   enabled=autocast_dtype is not None):
        yield


@torch.no_grad()
def rollout_rewards(policy: LSTMGenerator, discriminator: nn.Module, sequences: Tensor, n_rollouts: int,
                    rng: torch.Generator | None = None, temperature: float = 1.0,
                    autocast_dtype: torch.dtype | None = None, reuse_prefixes: bool = True,
                    log_odds: bool = False) -> Tensor:
    """Rewards ``[B, T]`` for every prefix of ``sequences`` ``[B, T]`` (see the module docstring).

    ``autocast_dtype`` scores the completions at that precision (see :func:`discriminator_reward`);
    ``reuse_prefixes`` lets the discriminator skip the windows that the prefixes determine (see
    :func:`completion_probability`); ``log_odds`` averages the discriminator's logits instead of its
    probabilities.
    """
    if n_rollouts < 1:
        raise ValueError(f"n_rollouts must be >= 1, got {n_rollouts}")
    policy.check_tokens(sequences)
    with evaluating(policy):
        return _rollout_rewards(policy, discriminator, sequences, n_rollouts, rng, temperature, autocast_dtype,
                                reuse_prefixes, log_odds)


def _rollout_rewards(policy, discriminator, sequences, n_rollouts, rng, temperature, autocast_dtype,
                     reuse_prefixes, log_odds) -> Tensor:
    B, T = sequences.shape
    M = n_rollouts
    rewards = sequences.new_empty((B, T), dtype=torch.float)
    rewards[:, T - 1] = discriminator_reward(discriminator, sequences, autocast_dtype, log_odds)
    if T == 1:
        return rewards
    eos, pad = policy.config.eos_id, policy.config.pad_id

    # State after reading <start>, y_1..y_t, for t = 1..T-1: it predicts y_{t+1}.
    states = []
    _, state = policy.features(policy.shift_right(sequences[:, :1]))
    for t in range(1, T):
        _, state = policy.features(sequences[:, t - 1 : t], state)
        states.append(state)

    # completions[t - 1, m, b] is rollout m of prefix length t of sequence b.
    completions = sequences.expand(T - 1, M, B, T).clone()
    banned = policy.never_sampled()  # the same for every position: made once, not per step
    h = c = None  # the active rows' state: prefix lengths 1..s-1, each block M*B rows, in that order
    finished = None
    for s in range(1, T):  # generate position s (0-based) for prefix lengths t = 1..s
        h_new, c_new = (x.repeat(1, M, 1) for x in states[s - 1])  # [layers, M*B, H]; row m*B + b
        h = h_new if h is None else torch.cat([h, h_new], dim=1)
        c = c_new if c is None else torch.cat([c, c_new], dim=1)
        if eos is not None:
            joined = (sequences[:, :s] == eos).any(dim=1).repeat(M)  # the prefix already ended
            finished = joined if finished is None else torch.cat([finished, joined])
        tokens = sample_from_hidden(h[-1], policy.output, temperature, rng=rng, banned=banned)  # [s*M*B]
        if eos is not None:
            tokens = tokens.masked_fill(finished, pad)
            finished = finished | (tokens == eos)
        completions[:s, :, :, s] = tokens.view(s, M, B)
        if s + 1 < T:
            _, (h, c) = policy.features(tokens[:, None], (h, c))

    scores = completion_probability(discriminator, sequences, completions, autocast_dtype, reuse_prefixes,
                                    log_odds)  # [T-1, M, B]
    rewards[:, : T - 1] = scores.mean(dim=1).t()  # [B, T-1]
    return rewards


@torch.no_grad()
def rollout_rewards_reference(policy: LSTMGenerator, discriminator: nn.Module, sequences: Tensor, n_rollouts: int,
                              rng: torch.Generator | None = None, temperature: float = 1.0,
                              autocast_dtype: torch.dtype | None = None, log_odds: bool = False) -> Tensor:
    """The same estimate as :func:`rollout_rewards`, as a plain loop over rollouts and prefix lengths."""
    B, T = sequences.shape
    rewards = torch.zeros(B, T, device=sequences.device)
    for _m in range(n_rollouts):
        for t in range(1, T):
            completed = policy.sample(B, T, prefix=sequences[:, :t], temperature=temperature, rng=rng)
            rewards[:, t - 1] += discriminator_reward(discriminator, completed, autocast_dtype,
                                                      log_odds) / n_rollouts
    rewards[:, T - 1] = discriminator_reward(discriminator, sequences, autocast_dtype, log_odds)
    return rewards


def default_reward_dtype(device: torch.device | str) -> str:
    """The precision in which a device scores rewards by default: ``"float32"`` on a CPU (the same
    numbers on every CPU); on CUDA ``"bfloat16"`` where the GPU computes it natively (compute
    capability 8.0 and newer: A100, H100, ...), ``"float16"`` on capability 7.x (V100, T4, Colab's
    free GPU, where bfloat16 would be emulated and slower than float32), float32 before that."""
    device = torch.device(device)
    if device.type != "cuda":
        return "float32"
    major, _ = torch.cuda.get_device_capability(device)
    return "bfloat16" if major >= 8 else "float16" if major >= 7 else "float32"


REWARD_DTYPES = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}  # name -> autocast dtype
