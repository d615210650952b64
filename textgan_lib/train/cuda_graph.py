"""A training step replayed as a CUDA graph.

One optimisation step of the SeqGAN discriminator on 64 sequences is a few hundred small kernels
(twelve convolutions forwards and backwards, the highway layer, Adam). On a GPU, launching them one
by one from Python takes several times longer than running them, and the paper's schedule takes
about a million such steps. A CUDA graph records the launches of one step once; each later step
copies its minibatch into the recorded input tensors and replays the whole step with one call.

:class:`GraphedStep` wraps a step function (forward, backward and optimizer step) and does this per
input shape: the first ``warmup`` calls of a shape run eagerly (on a side stream, as CUDA graph
capture requires), the next one records the graph, and every call from then on replays it. Off
CUDA it simply calls the function. The step must not synchronise with the host (no ``.item()``),
its optimizer must be built with ``capturable=True``, and it must set the gradients to None before
its backward pass (``zero_grad(set_to_none=True)``), so that the recorded backward writes them
afresh on every replay. Its outputs are the recorded tensors, overwritten by the next replay: read
or accumulate them before calling again. ``enabled=False`` always runs the step eagerly.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

Step = Callable[..., tuple[Tensor, ...]]


class GraphedStep:
    def __init__(self, step: Step, warmup: int = 3, enabled: bool = True) -> None:
        self.step = step
        self.warmup = warmup
        self.enabled = enabled
        self._calls: dict[tuple, int] = {}
        self._graphs: dict[tuple, tuple[torch.cuda.CUDAGraph, tuple[Tensor, ...], tuple[Tensor, ...]]] = {}

    def __call__(self, *inputs: Tensor) -> tuple[Tensor, ...]:
        if not (self.enabled and inputs[0].is_cuda):
            return self.step(*inputs)
        key = tuple((x.shape, x.dtype) for x in inputs)
        if key not in self._graphs:
            self._calls[key] = self._calls.get(key, 0) + 1
            if self._calls[key] <= self.warmup:
                return self._on_side_stream(inputs)
            self._graphs[key] = self._record(inputs)
        graph, static_inputs, static_outputs = self._graphs[key]
        for static, x in zip(static_inputs, inputs):
            static.copy_(x)
        graph.replay()
        return static_outputs

    def _on_side_stream(self, inputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        side = torch.cuda.Stream(inputs[0].device)
        side.wait_stream(torch.cuda.current_stream(inputs[0].device))
        with torch.cuda.stream(side):
            outputs = self.step(*inputs)
        torch.cuda.current_stream(inputs[0].device).wait_stream(side)
        return outputs

    def _record(self, inputs: tuple[Tensor, ...]
                ) -> tuple[torch.cuda.CUDAGraph, tuple[Tensor, ...], tuple[Tensor, ...]]:
        static_inputs = tuple(x.clone() for x in inputs)
        graph = torch.cuda.CUDAGraph()
        torch.cuda.synchronize(inputs[0].device)
        try:
            with torch.cuda.graph(graph):  # records the step; nothing runs until the first replay
                static_outputs = self.step(*static_inputs)
        except RuntimeError as err:
            raise RuntimeError(
                f"recording the training step as a CUDA graph failed: {err}. A recorded step must not wait for "
                "the host (.item(), printing a tensor, shapes that depend on values) and its optimizer must be "
                "capturable. To run it eagerly instead, turn graph replay off (GraphedStep(enabled=False); "
                "SeqGANConfig(cuda_graphs=False) for the SeqGAN trainer, MLETrainer(cuda_graph=False)).") from err
        return graph, static_inputs, static_outputs
