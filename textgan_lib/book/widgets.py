"""Playgrounds: controls a reader turns by hand in a live notebook (Jupyter, Colab).

Each playground has two layers. A plain function computes what the controls show, a table or a
figure, from the control values; it is tested without a browser, and a chapter calls it once at
the default settings so that the static HTML book (where a widget is dead) still shows the
picture. A builder wires ``ipywidgets`` controls to that function; :func:`show_playground`
displays it with a plain-text line in place of the widget for pages that cannot run it.

The top layer of the library: only chapters import it, and ``ipywidgets`` (the ``book`` extra,
already in Jupyter and Colab) is imported only when a playground is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd
import torch
import torch.nn.functional as F

from ..data.batching import encode_batch
from ..data.tokenize import Tokenizer
from ..data.vocab import Vocabulary
from ..eval.metrics import distinct_n
from ..models.autoencoder import LSTMAutoencoder, encode_all, great_circle
from ..models.generator import LSTMGenerator
from ..models.modes import evaluating
from ..toys.gradient_estimators import OneHotFunction, exact_gradient, gumbel_gradient, gumbel_softmax
from ..train.dense_rewards import discounted_returns, moving_baseline, token_rewards
from ..train.gumbel_gan import relaxed_sample

if TYPE_CHECKING:  # matplotlib is in the book extra, like ipywidgets
    from matplotlib.figure import Figure

LIVE_ONLY_NOTE = (
    "[Playground: its controls work when this chapter runs in Jupyter or Colab (the launch "
    "buttons at the top of the page); the output above shows its default settings.]"
)


# -- chapter 4: decoding a language model --------------------------------------------------------


def lm_samples(model: LSTMGenerator, vocab: Vocabulary, tokenizer: Tokenizer, max_len: int, *,
               temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0, prefix: str = "",
               n: int = 5, seed: int = 0) -> pd.DataFrame:
    """``n`` samples of ``model`` with the given decoding settings, and each one's NLL per token
    under the unmodified model (temperature 1, no filter): lower is more typical of the corpus.

    ``top_k = 0`` and ``top_p = 1`` switch those filters off; temperature 0 is greedy decoding.
    Words of ``prefix`` outside the vocabulary become ``<unk>``; the table says which. The
    ``distinct-2`` attribute of the returned frame measures the diversity of the whole set.
    """
    prefix_tokens = tokenizer.tokenize(prefix)
    if len(prefix_tokens) >= max_len:
        raise ValueError(f"the prefix has {len(prefix_tokens)} tokens; at most {max_len - 1} fit "
                         f"before max_len={max_len}: shorten it")
    prefix_ids = torch.tensor(vocab.encode(prefix_tokens), dtype=torch.long)
    rng = torch.Generator(device=model.device).manual_seed(seed)
    samples = model.sample(n, max_len, temperature=temperature, top_k=top_k or None,
                           top_p=top_p if top_p < 1 else None, prefix=prefix_ids, rng=rng)  # [n, T]
    with evaluating(model), torch.no_grad():
        nll = model.token_nll(samples)  # [n, T], 0 at padding
    lengths = model.mask(samples).sum(dim=1).clamp_min(1)
    texts = [vocab.decode(row) for row in samples.tolist()]
    table = pd.DataFrame({"sample": [tokenizer.detokenize(t) for t in texts],
                          "NLL per token": (nll.sum(dim=1) / lengths).tolist()})
    unknown = [w for w in prefix_tokens if w not in vocab]
    table.attrs["distinct-2"] = distinct_n(texts, 2)
    table.attrs["unknown prefix words"] = unknown
    return table


def sampling_playground(model: LSTMGenerator, vocab: Vocabulary, tokenizer: Tokenizer, max_len: int,
                        prefix: str = "", seed: int = 0):
    """Temperature, top-k, top-p and a prefix box driving :func:`lm_samples` live."""
    import ipywidgets as w

    controls = {
        "temperature": w.FloatSlider(1.0, min=0.0, max=2.0, step=0.05, description="temperature"),
        "top_k": w.IntSlider(0, min=0, max=100, description="top-k (0: off)"),
        "top_p": w.FloatSlider(1.0, min=0.05, max=1.0, step=0.05, description="top-p (1: off)"),
        "prefix": w.Text(prefix, description="prefix", continuous_update=False),
        "seed": w.IntText(seed, description="seed"),
    }

    def render(**values: Any) -> None:
        table = lm_samples(model, vocab, tokenizer, max_len, **values)
        _display(table.round(3))
        notes = [f"distinct-2 of these samples: {table.attrs['distinct-2']:.3f}"]
        if table.attrs["unknown prefix words"]:
            notes.append(f"not in the vocabulary, read as <unk>: {table.attrs['unknown prefix words']}")
        print("; ".join(notes))

    return _playground(controls, render)


# -- chapter 7: the Gumbel-softmax relaxation and its gradient estimates ---------------------------


def gumbel_spread(logits: torch.Tensor, f: OneHotFunction, tau: float, *, n_samples: int = 8,
                  n_estimates: int = 500, straight_through: bool = False, seed: int = 0) -> dict:
    """One relaxed sample at temperature ``tau`` and the spread of ``n_estimates`` Gumbel-softmax
    gradient estimates (each from ``n_samples`` draws) around the exact gradient of ``E[f(x)]``.

    Returns ``sample`` ``[K]``, ``estimates`` ``[n_estimates, K]``, ``exact`` ``[K]`` and the
    numbers ``bias`` (norm of mean minus exact), ``variance`` (mean squared distance to the mean)
    and ``mse`` (their sum of squares and variance).
    """
    rng = torch.Generator().manual_seed(seed)
    sample = gumbel_softmax(logits, tau, rng=rng)
    estimates = gumbel_gradient(logits, f, n_samples, n_estimates, tau, straight_through, rng=rng)
    exact = exact_gradient(logits, f)
    mean = estimates.mean(dim=0)
    bias = (mean - exact).norm().item()
    variance = ((estimates - mean) ** 2).sum(dim=1).mean().item()
    return {"sample": sample, "estimates": estimates, "exact": exact,
            "bias": bias, "variance": variance, "mse": bias**2 + variance}


def gumbel_spread_figure(logits: torch.Tensor, f: OneHotFunction, tau: float, **options: Any) -> Figure:
    """:func:`gumbel_spread` drawn: the relaxed sample beside ``softmax(logits)``, and each
    gradient coordinate's estimates as a box with the exact value marked."""
    import matplotlib.pyplot as plt

    spread = gumbel_spread(logits, f, tau, **options)
    K = len(logits)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.4))
    left.bar(range(K), spread["sample"].numpy(), label="relaxed sample")
    left.plot(range(K), F.softmax(logits, dim=-1).numpy(), "k_", ms=18, mew=2, label="softmax(θ)")
    left.set(xlabel="option", ylim=(0, 1), title=f"one relaxed sample, τ = {tau:g}")
    left.legend(fontsize=8)
    right.boxplot(spread["estimates"].numpy(), positions=range(K), showfliers=False)
    right.plot(range(K), spread["exact"].numpy(), "r_", ms=18, mew=2, label="exact gradient")
    right.set(xlabel="coordinate of the gradient", title=(
        f"estimates: bias {spread['bias']:.3f}, variance {spread['variance']:.3f}"))
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def gumbel_playground(logits: torch.Tensor, f: OneHotFunction, seed: int = 0):
    """The temperature, the samples per estimate and straight-through, driving
    :func:`gumbel_spread_figure` live."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    controls = {
        "tau": w.FloatLogSlider(0.5, base=10, min=-2, max=1, step=0.05, description="τ"),
        "n_samples": w.IntSlider(8, min=1, max=64, description="samples"),
        "straight_through": w.Checkbox(False, description="straight-through"),
    }

    def render(tau: float, n_samples: int, straight_through: bool) -> None:
        gumbel_spread_figure(logits, f, tau, n_samples=n_samples, straight_through=straight_through,
                             seed=seed)
        plt.show()

    return _playground(controls, render)


# -- chapter 9: the inverse temperature beta of a Gumbel GAN's generator ---------------------------


def relaxation_at_beta(generator: LSTMGenerator, length: int, beta: float, *, position: int = 0,
                       n: int = 64, top: int = 15, seed: int = 0) -> dict:
    """What the critic of a Gumbel GAN receives from ``generator`` at inverse temperature ``beta``.

    Draws ``n`` sequences with :func:`~textgan_lib.train.gumbel_gan.relaxed_sample`; returns the first
    sequence's relaxed vector at ``position`` (its ``top`` largest entries, ``[top]``, with their
    token ids) and, over every sampled token up to ``<eos>``, the mean mass on the sampled token
    and the mean entropy in nats (0 for a one-hot vector).
    """
    if not 0 <= position < length:
        raise ValueError(f"position must be in [0, {length}), got {position}")
    rng = torch.Generator(device=generator.device).manual_seed(seed)
    with torch.no_grad():
        tokens, relaxed = relaxed_sample(generator, n, length, beta=beta, rng=rng)  # [n, T], [n, T, V]
    words = generator.mask(tokens)  # [n, T]: up to and including <eos>
    on_sampled = relaxed.gather(2, tokens[..., None]).squeeze(2)[words]  # [words]
    entropy = -(relaxed * relaxed.clamp_min(1e-30).log()).sum(dim=2)[words]  # [words]
    values, ids = relaxed[0, position].topk(min(top, relaxed.shape[2]))
    return {"values": values.cpu(), "ids": ids.cpu(), "sampled": tokens[0, position].item(),
            "mass_on_sampled": on_sampled.mean().item(), "entropy": entropy.mean().item()}


def relaxation_figure(generator: LSTMGenerator, length: int, beta: float, **options: Any) -> Figure:
    """:func:`relaxation_at_beta` drawn: the largest entries of one relaxed vector."""
    import matplotlib.pyplot as plt

    r = relaxation_at_beta(generator, length, beta, **options)
    fig, ax = plt.subplots(figsize=(8, 3.2))
    colours = ["C3" if i == r["sampled"] else "C0" for i in r["ids"].tolist()]
    ax.bar([str(i) for i in r["ids"].tolist()], r["values"].numpy(), color=colours)
    ax.set(xlabel="token id (red: the sampled token)", ylabel="relaxed value", ylim=(0, 1),
           title=(f"β = {beta:g}: mass on the sampled token {r['mass_on_sampled']:.3f}, "
                  f"entropy {r['entropy']:.2f} nats (means over the sampled tokens)"))
    fig.tight_layout()
    return fig


def beta_playground(generator: LSTMGenerator, length: int, seed: int = 0):
    """β (log scale) and the position, driving :func:`relaxation_figure` live."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    controls = {
        "beta": w.FloatLogSlider(1.0, base=10, min=-1, max=3, step=0.1, description="β"),
        "position": w.IntSlider(0, min=0, max=length - 1, description="position"),
    }

    def render(beta: float, position: int) -> None:
        relaxation_figure(generator, length, beta=beta, position=position, seed=seed)
        plt.show()

    return _playground(controls, render)


# -- chapter 11: walking between two sentences in an autoencoder's code space ----------------------


def interpolate_texts(autoencoder: LSTMAutoencoder, vocab: Vocabulary, tokenizer: Tokenizer,
                      first: str, second: str, max_len: int, steps: int = 7) -> pd.DataFrame:
    """Greedy decodings of ``steps`` codes on the great circle from ``first``'s code to
    ``second``'s (step 0 and the last: the two texts' reconstructions)."""
    texts = [tokenizer.tokenize(first), tokenizer.tokenize(second)]
    for name, tokens in zip(["first", "second"], texts):
        if not tokens:
            raise ValueError(f"the {name} text is empty: type a sentence")
        if len(tokens) >= max_len:
            raise ValueError(f"the {name} text has {len(tokens)} tokens; at most {max_len - 1} fit")
    ends = encode_all(autoencoder, encode_batch(texts, vocab, max_len).tokens)  # [2, H], in eval mode
    decoded = autoencoder.decode(great_circle(ends[0], ends[1], steps), max_len, temperature=0.0)  # [steps, T]
    return pd.DataFrame({"decoded": [tokenizer.detokenize(vocab.decode(row)) for row in decoded.tolist()]},
                        index=pd.RangeIndex(steps, name="step"))


def interpolation_playground(autoencoder: LSTMAutoencoder, vocab: Vocabulary, tokenizer: Tokenizer,
                             max_len: int, first: str, second: str):
    """Two text boxes and the number of steps, driving :func:`interpolate_texts` live."""
    import ipywidgets as w

    controls = {
        "first": w.Text(first, description="from", continuous_update=False),
        "second": w.Text(second, description="to", continuous_update=False),
        "steps": w.IntSlider(7, min=2, max=15, description="steps"),
    }

    def render(first: str, second: str, steps: int) -> None:
        _display(interpolate_texts(autoencoder, vocab, tokenizer, first, second, max_len, steps))

    return _playground(controls, render)


# -- chapter 12: what ScratchGAN's generator is pushed by -----------------------------------------


def dense_advantages(generator: LSTMGenerator, discriminator: torch.nn.Module, max_len: int, gamma: float,
                     decay: float, *, batches: int = 20, batch_size: int = 64, seed: int = 0) -> dict:
    """ScratchGAN's advantages at discount ``gamma`` and baseline ``decay``: ``batches`` batches of
    ``generator``'s samples, each token rewarded by ``discriminator`` (r_t = 2σ(D_t) − 1), their
    discounted returns R_t, and the moving baseline b after each batch; returns that baseline
    (``baseline``, one value per batch) and, for the last batch's first sample, its ``tokens``
    (words, through ``generator.vocab``), ``rewards`` and ``advantages`` R_t − b."""
    if batches < 1 or batch_size < 1:
        raise ValueError(f"batches and batch_size must be positive, got {batches} and {batch_size}")
    rng = torch.Generator(device=generator.device).manual_seed(seed)
    baseline, baselines = None, []
    with torch.no_grad(), evaluating(generator, discriminator):
        for _ in range(batches):
            samples = generator.sample(batch_size, max_len, rng=rng)  # [B, T]
            mask = generator.mask(samples)
            rewards = token_rewards(discriminator(samples), mask)  # [B, T]
            returns = discounted_returns(rewards, mask, gamma)  # checks gamma
            baseline = moving_baseline(baseline, returns, mask, decay)
            baselines.append(baseline)
    length = int(mask[0].sum())
    ids = samples[0, :length].tolist()
    words = generator.vocab.decode(ids, keep_special=True) if generator.vocab is not None else [str(i) for i in ids]
    return {"baseline": baselines, "tokens": words, "rewards": rewards[0, :length].tolist(),
            "advantages": (returns[0, :length] - baseline).tolist()}


def dense_advantages_figure(generator: LSTMGenerator, discriminator: torch.nn.Module, max_len: int, gamma: float,
                            decay: float, **options: Any) -> Figure:
    """:func:`dense_advantages` drawn: one sample's rewards and advantages token by token, and
    the baseline batch by batch."""
    import matplotlib.pyplot as plt

    a = dense_advantages(generator, discriminator, max_len, gamma, decay, **options)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.4), gridspec_kw={"width_ratios": [2, 1]})
    positions = range(len(a["tokens"]))
    left.bar([p - 0.2 for p in positions], a["rewards"], width=0.4, label="reward $r_t$")
    left.bar([p + 0.2 for p in positions], a["advantages"], width=0.4, label="advantage $R_t - b$")
    left.axhline(0, color="black", linewidth=0.8)
    left.set_xticks(list(positions), a["tokens"], rotation=60, ha="right")
    left.set(title=f"one sample, γ = {gamma:g}", ylabel="per token")
    left.legend(fontsize="small")
    right.plot(range(1, len(a["baseline"]) + 1), a["baseline"], marker="o")
    right.set(title=f"the baseline, decay {decay:g}", xlabel="batch", ylabel="b")
    fig.tight_layout()
    return fig


def dense_reward_playground(generator: LSTMGenerator, discriminator: torch.nn.Module, max_len: int,
                            seed: int = 0):
    """γ and the baseline's decay, driving :func:`dense_advantages_figure` live."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    controls = {
        "gamma": w.FloatSlider(0.23, min=0.0, max=1.0, step=0.01, description="γ"),
        "decay": w.FloatSlider(0.08, min=0.0, max=0.99, step=0.01, description="decay"),
    }

    def render(gamma: float, decay: float) -> None:
        dense_advantages_figure(generator, discriminator, max_len, gamma, decay, seed=seed)
        plt.show()

    return _playground(controls, render)


# -- shared ---------------------------------------------------------------------------------------


def _playground(controls: dict, render: Callable[..., None]):
    """Controls above, ``render``'s output below; a bad setting shows its error in the output
    instead of breaking the widget."""
    import ipywidgets as w

    def guarded(**values: Any) -> None:
        try:
            render(**values)
        except ValueError as error:  # what a reader can fix by turning a control
            print(f"cannot show this setting: {error}")

    output = w.interactive_output(guarded, controls)
    return w.VBox([w.HBox(list(controls.values()), layout=w.Layout(flex_flow="row wrap")), output])


def show_playground(playground, note: str = LIVE_ONLY_NOTE) -> None:
    """Display ``playground``; pages that cannot run widgets (the static book) show ``note``."""
    bundle = dict(playground._repr_mimebundle_())
    bundle["text/plain"] = note
    _display(bundle, raw=True)


def _display(obj: object, **kwargs: Any) -> None:
    from IPython.display import display

    display(obj, **kwargs)
