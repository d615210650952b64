"""The GAN methods of the study (:data:`GAN_ARMS`: each GAN, its placebos, its start) and the one
adversarial sequence that every GAN recipe runs (the oracle's SeqGAN and Gumbel GAN, and the GANs
on real text)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..train.adversarial import AdversarialTrainer
from ..train.selection import BestCheckpoint
from ..train.seqgan import SeqGANTrainer
from .runs import part_target, resume_if_same, run_lock

# real sequences (oracle held-out samples, or validation texts) on which a GAN's discriminator is
# measured: SeqGAN's in its pretraining and at every evaluation, the Gumbel GAN's at every evaluation
HELD_OUT = 2000

@dataclass(frozen=True)
class GanArm:
    """What a GAN method of the study trains: its ``trainer`` (``seqgan``, ``gumbel`` or
    ``scratchgan``), the ``changes`` to that trainer's config, whether its generator starts from
    the seed's MLE model or untrained (``from_scratch``: the MLE model's architecture and initial
    weights, the paper's ScratchGAN), and for a placebo the method it imitates (``placebo_of``)."""

    trainer: str
    changes: Mapping[str, str | bool] = field(default_factory=dict)
    from_scratch: bool = False
    placebo_of: str | None = None


# A placebo trains the GAN it imitates with the discriminator's information removed
# (train.seqgan.REWARDS, the Gumbel GAN's fixed critic, ScratchGAN's shuffled dense rewards). A GAN
# whose effect equals its placebo's owes it to the policy gradient or the training, not to the adversary.
GAN_ARMS: dict[str, GanArm] = {
    "seqgan": GanArm("seqgan"),
    "gumbel": GanArm("gumbel"),
    "seqgan_shuffled": GanArm("seqgan", {"reward": "shuffled"}, placebo_of="seqgan"),
    "seqgan_constant": GanArm("seqgan", {"reward": "constant"}, placebo_of="seqgan"),
    "seqgan_fixed_d": GanArm("seqgan", {"reward": "fixed_discriminator"}, placebo_of="seqgan"),
    "gumbel_fixed_critic": GanArm("gumbel", {"critic": "fixed"}, placebo_of="gumbel"),
    # ScratchGAN from an untrained generator (the paper's claim) and from the seed's MLE model (the
    # comparison with SeqGAN and the Gumbel GAN, which start there), each with its placebo
    "scratchgan": GanArm("scratchgan", from_scratch=True),
    "scratchgan_shuffled": GanArm("scratchgan", {"reward": "shuffled"}, from_scratch=True, placebo_of="scratchgan"),
    "scratchgan_mle": GanArm("scratchgan"),
    "scratchgan_mle_shuffled": GanArm("scratchgan", {"reward": "shuffled"}, placebo_of="scratchgan_mle"),
}
# On the oracle only: SeqGAN whose discriminator is the exact likelihood ratio (models.oracle.LikelihoodRatio),
# rewarded by its probability (the paper's reward, which saturates near 0) or by its log-odds (the
# log-likelihood ratio: the policy gradient of the reverse KL), without and with a leave-one-out baseline
PERFECT_D = "seqgan_perfect_d"
GAN_ARMS[PERFECT_D] = GanArm("seqgan", {"reward": "fixed_discriminator"})
GAN_ARMS[f"{PERFECT_D}_log_odds"] = GanArm("seqgan", {"reward": "fixed_discriminator", "reward_scale": "log_odds"})
GAN_ARMS[f"{PERFECT_D}_log_odds_rloo"] = GanArm("seqgan", {"reward": "fixed_discriminator", "reward_scale": "log_odds",
                                                          "leave_one_out_baseline": True})
PERFECT_DS = (PERFECT_D, f"{PERFECT_D}_log_odds", f"{PERFECT_D}_log_odds_rloo")
# each placebo and the GAN it imitates
PLACEBOS: dict[str, str] = {method: arm.placebo_of for method, arm in GAN_ARMS.items() if arm.placebo_of}


def gan_of(method: str) -> GanArm:
    """What ``method`` trains (:class:`GanArm`)."""
    try:
        return GAN_ARMS[method]
    except KeyError:
        raise ValueError(f"{method!r} is not a GAN: choose one of {', '.join(GAN_ARMS)}") from None


def train_gan(trainer: AdversarialTrainer, budget: int, *, until: int | None = None,
              selection: BestCheckpoint | None = None,
              after_evaluation: Callable[[], str | None] | None = None) -> AdversarialTrainer:
    """Resume ``trainer``'s run from its checkpoint (under the run's lock), pretrain SeqGAN's
    discriminator when that is not done (rows evaluated by the trainer's own ``evaluate``), then
    train until ``budget`` rounds or iterations in all, or until ``until`` of them (paused there:
    :func:`~textgan_lib.recipes.runs.train_or_resume`). Returns the trainer.

    ``selection`` is the run's checkpoint selection: its state is kept in the run's checkpoint, it
    becomes the evaluation from the adversarial phase on (the generator does not change while a
    discriminator pretrains, and scoring it there would only use up its patience), and training
    stops once it has flattened. ``after_evaluation`` is called after the pretraining and after
    every adversarial evaluation; once this call has trained, a reason it returns stops the run."""
    path = trainer.checkpoint_path
    target = part_target(budget, until, path)
    trainer.selection = selection
    with run_lock(path):
        resume_if_same(trainer, path)
        if isinstance(trainer, SeqGANTrainer) and not trainer.pretraining_done:
            trainer.pretrain_discriminator()
        if after_evaluation is not None:
            after_evaluation()
        if selection is not None:
            trainer.evaluate = selection
        if trainer.step < target:
            trainer.run(until=target, stop=_stop_rule(trainer, selection, after_evaluation), pause=target < budget)
    return trainer


def _stop_rule(trainer: AdversarialTrainer, selection: BestCheckpoint | None,
               after_evaluation: Callable[[], str | None] | None) -> Callable[[], str | None] | None:
    """What :meth:`Trainer.run` asks before training and after every evaluation: the selection's
    flattening, then ``after_evaluation``'s reason once this call has trained a unit."""
    if selection is None and after_evaluation is None:
        return None
    first_step = trainer.step

    def stop() -> str | None:
        reported = after_evaluation() if after_evaluation is not None and trainer.step > first_step else None
        return (selection.flattened() if selection is not None else None) or reported

    return stop
