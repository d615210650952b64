"""Reproducible experiments that chapters and the command line share.

``oracle_mle`` is the MLE row of the SeqGAN paper's synthetic experiment (Yu et al. 2017, Table 1):
10,000 sequences of length 20 sampled from the oracle train a generator with embedding 32 and hidden
32 by maximum likelihood (Adam, lr 0.01, batch 64, gradient clipping at 5); every few epochs
10,000 of the generator's samples are scored by the oracle (NLL_oracle). The paper reports 9.038 for
MLE after pretraining and 10.310 for a random generator. The generator starts, as in the SeqGAN
code, from N(0, 0.1²) weights: with PyTorch's default initialisation the same run plateaus about
0.3 nats higher.

``seqgan_oracle`` continues to the paper's SeqGAN row (8.736): MLE pretraining as above, then
discriminator pretraining and adversarial rounds with :class:`~textgan_lib.seqgan.SeqGANTrainer`,
NLL_oracle and NLL_test recorded through all phases, optionally within a time limit.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import torch
from tqdm.auto import tqdm

from .discriminators import CNNDiscriminator
from .generator import GeneratorConfig, LSTMGenerator
from .metrics import mean_token_nll, nll_oracle
from .oracle import OracleLSTM
from .seqgan import SeqGANConfig, SeqGANTrainer
from .training import MLEConfig, MLETrainer


def oracle_training_data(oracle: OracleLSTM, n: int = 10_000, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` training and ``n`` held-out sequences sampled from ``oracle`` (two disjoint draws)."""
    rng = torch.Generator(device=oracle.device).manual_seed(seed)
    return oracle.sample(n, rng=rng), oracle.sample(n, rng=rng)


def oracle_mle(
    oracle: OracleLSTM,
    epochs: int = 120,
    eval_every: int = 5,
    n_train: int = 10_000,
    n_eval: int = 10_000,
    embed_dim: int = 32,
    hidden_dim: int = 32,
    lr: float = 0.01,
    batch_size: int = 64,
    init_std: float | None = 0.1,
    seed: int = 0,
    progress: bool = True,
    data: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[LSTMGenerator, pd.DataFrame]:
    """Train a generator by MLE on oracle samples; returns it and one row per evaluation:
    epoch, NLL_oracle (quality of its samples), NLL_test (its NLL of held-out oracle samples), the
    training NLL and the elapsed seconds. Epoch 0 is the untrained generator. ``init_std`` draws
    every generator parameter from N(0, init_std²) as the SeqGAN code does; None keeps PyTorch's
    initialisation. ``data`` (training, held-out) defaults to ``oracle_training_data(oracle,
    n_train, seed)``; pass it when you already drew it."""
    train, held_out = oracle_training_data(oracle, n_train, seed) if data is None else data
    torch.manual_seed(seed)
    model = LSTMGenerator(GeneratorConfig(oracle.config.vocab_size, embed_dim, hidden_dim, start_id=0,
                                          pad_id=None, eos_id=None))
    if init_std is not None:
        model.normal_init_(init_std)
    model.to(oracle.device)
    trainer = MLETrainer(model, train, config=MLEConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed),
                         progress=False)
    eval_rng = torch.Generator(device=oracle.device).manual_seed(seed + 1)
    started = time.perf_counter()
    rows = []
    checkpoints = sorted(set(range(0, epochs, eval_every)) | {epochs})  # the last epoch is always evaluated
    for epoch in tqdm(checkpoints, desc="oracle MLE", unit="evaluation", disable=not progress):
        if epoch:
            trainer.fit(until_epoch=epoch)
        rows.append({"epoch": epoch, "nll_oracle": nll_oracle(model, oracle, n_eval, eval_rng),
                     "nll_test": mean_token_nll(model, held_out),
                     "train_nll": trainer.records[-1]["train_nll"] if trainer.records else float("nan"),
                     "elapsed_s": time.perf_counter() - started})
    return model, pd.DataFrame(rows)


def seqgan_oracle(
    oracle: OracleLSTM,
    mle_epochs: int = 120,
    rounds: int = 200,
    config: SeqGANConfig = SeqGANConfig(),
    n_samples: int = 10_000,
    time_limit_s: float | None = None,
    out: str | Path | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """The SeqGAN paper's synthetic experiment, all three phases; the defaults are its schedule.

    MLE pretraining (:func:`oracle_mle`, evaluated every 5 epochs), then discriminator pretraining
    and ``rounds`` adversarial rounds with the paper's CNN discriminator, evaluated every
    ``config.eval_every`` rounds on ``n_samples`` samples. Returns one row per evaluation or
    discriminator round (``phase``: mle, d_pretrain, adversarial), with the seconds elapsed since
    the start. With ``out`` the table is written there (CSV) after every evaluation, so that an
    interrupted run leaves what it measured; with ``time_limit_s`` the adversarial phase stops at
    the first evaluation past the limit, and ``rounds_done`` in the table says how far it got.
    """
    started = time.perf_counter()
    train, held_out = oracle_training_data(oracle, n_samples, config.seed)
    generator, mle_history = oracle_mle(oracle, epochs=mle_epochs, n_train=n_samples, n_eval=n_samples,
                                        seed=config.seed, progress=progress, data=(train, held_out))
    mle_rows = mle_history.assign(phase="mle").to_dict("records")
    eval_rng = torch.Generator(device=oracle.device).manual_seed(config.seed + 1)

    def evaluate(g: LSTMGenerator) -> dict[str, float]:
        return {"nll_oracle": nll_oracle(g, oracle, n_samples, eval_rng), "nll_test": mean_token_nll(g, held_out)}

    torch.manual_seed(config.seed)
    discriminator = CNNDiscriminator(oracle.config.vocab_size).to(oracle.device)
    trainer = SeqGANTrainer(generator, discriminator, train, seq_len=oracle.seq_len, config=config,
                            evaluate=evaluate, progress=progress)
    mle_seconds = time.perf_counter() - started

    def table() -> pd.DataFrame:
        later = [{**r, "elapsed_s": r["elapsed_s"] + mle_seconds} for r in trainer.records]
        frame = pd.DataFrame(mle_rows + later).assign(rounds_done=trainer.adversarial_rounds_done,
                                                      schedule=str(asdict(config)))
        if out is not None:
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(out, index=False)
        return frame

    table()
    trainer.pretrain_discriminator()
    table()
    while trainer.adversarial_rounds_done < rounds:
        trainer.adversarial(until_round=min(trainer.adversarial_rounds_done + config.eval_every, rounds))
        table()
        if time_limit_s is not None and time.perf_counter() - started > time_limit_s:
            break
    return table()
