"""The experiments that chapters and the command line share, each ``(…, profile, seed=0,
checkpoint="auto")``, and the size profiles they read."""

from .language import arae_model, autoencoder_model, coco_language_model, language_model, latent_model, text_splits
from .oracle import gumbel_oracle, oracle_evaluator, oracle_mle, oracle_training_data, seqgan_oracle
from .profiles import PROFILES, default_device, describe, get_profile
from .real_text import CORPORA, METHODS, adversarial_part, decode_samples, real_text, score_samples
from .runs import resume_if_same, run_path, write_csv, write_text_atomic
from .sizes import Profile

__all__ = [
    "CORPORA", "METHODS", "PROFILES", "Profile", "adversarial_part", "arae_model", "autoencoder_model",
    "coco_language_model", "decode_samples", "default_device",
    "describe", "get_profile", "gumbel_oracle", "language_model", "latent_model", "oracle_evaluator", "oracle_mle",
    "oracle_training_data", "real_text", "resume_if_same", "run_path", "score_samples", "seqgan_oracle",
    "text_splits", "write_csv", "write_text_atomic",
]
