"""The ``textgan`` command line.

    textgan profile [--name auto]               the resolved size profile and device
    textgan oracle-mle --out mle.csv [...]      the SeqGAN paper's MLE experiment, as a CSV
    textgan seqgan-oracle --out seqgan.csv      the paper's SeqGAN experiment (MLE, D pretraining, adversarial)
    textgan gumbel-oracle --profile cpu --out DIR
                                                chapter 9: Gumbel GANs on the oracle, one CSV per beta_max
    textgan real-text --corpus coco --method gumbel --profile cpu --out DIR
                                                a GAN (or MLE) on real text: samples, references, scores
    textgan study --corpus coco --seeds 0-4 --profile cpu --out DIR [--backend ray]
                                                several seeds per method; verdicts with confidence intervals
    textgan fetch-data                          download and verify every data file into the cache

Every command that runs at a profile takes ``--set section.field=value`` (repeatable), which replaces
any field of the profile, nested ones included (``--set real_text.gumbel.trainer.eval_every=3``;
the value is a Python literal, else a string); the named flags of the oracle commands are the same
settings under short names, and ``--set`` wins where both set a field.
"""

from .commands import MLE_FLAGS, ORACLE_FLAGS, SEQGAN_FLAGS, main

__all__ = ["MLE_FLAGS", "ORACLE_FLAGS", "SEQGAN_FLAGS", "main"]
