"""The second plane of real text (Caccia et al., 2020): the LM score against the reverse-LM score.

- **LM score** (quality): the per-token NLL of the generated texts under a *scorer*, a language
  model of the profile's sizes trained on the real training texts from a stream of its own
  (``scorer_lm``), not the seed's MLE model, which would favour its own samples and so the MLE curve.
- **Reverse-LM score** (diversity and coverage): the per-token NLL of the real test texts under a
  language model of the same sizes trained on the generated texts alone, for the profile's epochs.
  Samples that repeat a few sentences teach it little of real text: a high score.

Both are in nats per token and lower is better on both axes (:data:`~textgan_lib.eval.verdicts.LM_PLANE`),
so "more diverse" on this plane is a lower reverse-LM score at equal LM score. Texts are scored as
the run wrote them (decoded, ``<unk>`` dropped) and encoded again, for the MLE curve and a GAN alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pandas as pd
import torch

from .._seeds import seeded, stream, stream_seed
from ..data.batching import encode_batch
from ..data.corpora import TextSplits
from ..eval.metrics import mean_token_nll
from ..eval.text_scores import decode_samples
from ..models.generator import LSTMGenerator
from ..train.sync_free import mle_trainer
from .language import language_model
from .sizes import Profile


def scorer(data: TextSplits, profile: Profile, seed: int, device: torch.device | str = "cpu") -> LSTMGenerator:
    """The LM score's language model for ``seed``: trained on the real training texts from the
    stream ``scorer_lm`` (kept in the cache as a language model of that stream's seed)."""
    model, _ = language_model(data, profile, stream_seed(seed, "scorer_lm"), device=device, progress=False)
    return model


def reverse_lm_score(data: TextSplits, texts: list[list[str]], profile: Profile, seed: int,
                     device: torch.device | str = "cpu") -> float:
    """The per-token NLL of ``data``'s test texts (the real-text protocol's references) under a
    language model trained on ``texts`` alone (``profile.lm``'s sizes and epochs, no validation)."""
    tokens = encode_batch(texts, data.vocab, data.max_len).tokens
    with seeded(seed, "reverse_lm"):
        model = LSTMGenerator.for_vocabulary(data.vocab, **profile.lm.model_sizes()).to(device)
    config = replace(profile.lm.config(stream_seed(seed, "reverse_lm")), eval_every=profile.lm.trainer.epochs)
    mle_trainer(model, tokens, None, config, progress=False).run()
    return mean_token_nll(model, data.test.tokens[: profile.real_text.references])


def lm_plane_point(data: TextSplits, texts: list[list[str]], profile: Profile, seed: int, scoring: LSTMGenerator,
                   ) -> dict[str, float]:
    """``texts``' point on the plane: ``lm_score`` under ``scoring`` (:func:`scorer`) and ``reverse_lm_score``."""
    tokens = encode_batch(texts, data.vocab, data.max_len).tokens.to(scoring.device)
    return {"lm_score": mean_token_nll(scoring, tokens),
            "reverse_lm_score": reverse_lm_score(data, texts, profile, seed, scoring.device)}


def lm_plane_curve(model: LSTMGenerator, data: TextSplits, profile: Profile, seed: int, scoring: LSTMGenerator,
                   temperatures: Sequence[float] | None = None) -> pd.DataFrame:
    """The MLE model's curve on this plane: at each of ``temperatures`` (the profile's curve
    temperatures by default) the samples of its temperature curve (the same stream, so the same
    texts as :func:`~textgan_lib.recipes.measurements.mle_temperature_curve` scores) and their point."""
    rows = []
    for temperature in profile.real_text.curve_temperatures if temperatures is None else temperatures:
        rng = stream(seed, "test_samples", model.device)
        texts = decode_samples(data, model.sample(profile.real_text.samples, data.max_len, rng=rng,
                                                  temperature=temperature))
        rows.append({"temperature": temperature, **lm_plane_point(data, texts, profile, seed, scoring)})
    return pd.DataFrame(rows)
