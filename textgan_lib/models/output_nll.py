r"""The output layer and the cross-entropy fused into one autograd function.

For hidden states :math:`h_n \in \mathbb{R}^H`, output weights :math:`W \in \mathbb{R}^{V\times H}`,
bias :math:`b` and targets :math:`y_n`, the per-token negative log-likelihood is

.. math::  \ell_n = \log \sum_v e^{z_{nv}} - z_{n y_n}, \qquad z_n = W h_n + b,

and its gradient with respect to the logits is the familiar :math:`\partial \ell_n / \partial z_n =
\operatorname{softmax}(z_n) - \operatorname{onehot}(y_n)`.

Why fuse: with a 5,000-word vocabulary the ``[tokens, V]`` logits dominate a small LSTM's training
step, and the unfused path (``Linear`` → ``log_softmax`` → ``NLLLoss``) makes several full passes
over that matrix, each into a new buffer: log-probabilities, a zero-filled gradient, the
log-softmax gradient. Here the forward turns the logits into ``exp(z - max)`` in place and keeps
that one buffer; the backward turns it into the logits' gradient in place. Same numbers, far less
memory traffic.
"""

from __future__ import annotations

import torch
from torch import Tensor


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden: Tensor, weight: Tensor, bias: Tensor, targets: Tensor) -> Tensor:
        logits = torch.addmm(bias, hidden, weight.t())  # [N, V]
        target_logit = logits.gather(1, targets[:, None]).squeeze(1)  # [N]
        row_max = logits.amax(dim=1, keepdim=True)  # [N, 1]
        unnormalised = logits.sub_(row_max).exp_()  # exp(z - max), in place: [N, V]
        row_sum = unnormalised.sum(dim=1)  # [N]
        nll = row_sum.log() + row_max.squeeze(1) - target_logit  # log-sum-exp minus target logit
        ctx.save_for_backward(hidden, weight, targets, unnormalised, row_sum)
        ctx.backward_done = False
        return nll

    @staticmethod
    def backward(ctx, grad_nll: Tensor):
        if ctx.backward_done:
            raise RuntimeError("linear_cross_entropy reuses its buffer in backward, so it supports one backward "
                               "pass per forward; recompute the loss instead of using retain_graph=True")
        ctx.backward_done = True
        hidden, weight, targets, unnormalised, row_sum = ctx.saved_tensors
        # softmax * grad in one pass over the saved buffer (not needed after this), then -grad at targets.
        grad_logits = unnormalised.mul_((grad_nll / row_sum)[:, None])  # [N, V]
        grad_logits.scatter_add_(1, targets[:, None], -grad_nll[:, None])
        grad_hidden = grad_logits @ weight if ctx.needs_input_grad[0] else None  # [N, H]
        grad_weight = grad_logits.t() @ hidden if ctx.needs_input_grad[1] else None  # [V, H]
        grad_bias = grad_logits.sum(0) if ctx.needs_input_grad[2] else None  # [V]
        return grad_hidden, grad_weight, grad_bias, None


def linear_cross_entropy(hidden: Tensor, weight: Tensor, bias: Tensor, targets: Tensor) -> Tensor:
    """Per-row NLL ``[N]`` of ``targets`` ``[N]`` under ``softmax(hidden @ weight.T + bias)``.

    Equal to ``F.cross_entropy(F.linear(hidden, weight, bias), targets, reduction="none")``, with
    the same gradients. ``hidden``: ``[N, H]``; ``weight``: ``[V, H]``; ``bias``: ``[V]``.
    """
    if hidden.dim() != 2 or targets.shape != hidden.shape[:1]:
        raise ValueError(f"expected hidden [N, H] and targets [N], got {tuple(hidden.shape)} and "
                         f"{tuple(targets.shape)}")
    if hidden.requires_grad or weight.requires_grad or bias.requires_grad:
        return _LinearCrossEntropy.apply(hidden, weight, bias, targets)
    logits = torch.addmm(bias, hidden, weight.t())
    return torch.logsumexp(logits, dim=1) - logits.gather(1, targets[:, None]).squeeze(1)


def masked_token_nll(hidden: Tensor, weight: Tensor, bias: Tensor, tokens: Tensor, mask: Tensor,
                     drop_padding: bool | None = None) -> Tensor:
    """Per-token NLL ``[B, T]`` of ``tokens`` ``[B, T]`` from hidden states ``[B, T, H]``; 0 where
    ``mask`` ``[B, T]`` is False (padding).

    ``drop_padding`` (default: on the CPU) removes the padding rows before the output layer, which
    saves their work but needs the number of real rows on the host; otherwise (the default on
    CUDA) every row goes through it and padding is zeroed after, so that a training step never
    waits for the GPU. The real rows' values are the same either way.
    """
    if drop_padding is None:
        drop_padding = not hidden.is_cuda
    if drop_padding:
        nll = hidden.new_zeros(tokens.shape)
        nll[mask] = linear_cross_entropy(hidden[mask], weight, bias, tokens[mask])
        return nll
    flat = linear_cross_entropy(hidden.reshape(-1, hidden.shape[-1]), weight, bias, tokens.reshape(-1))
    return torch.where(mask, flat.view(tokens.shape), 0.0)
