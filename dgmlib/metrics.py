"""Evaluation: the marginal likelihood by importance sampling, active units, ELBO surgery and the
marginal KL, bits per dimension."""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch
from torch import Tensor

from .distributions import gaussian_log_prob, log_mean_normal
from . import validation
from .models import HierarchicalVAE, LatentVariableModel, Model, VAE
from .validation import check_positive_int
from .nets import encoder_stats, eval_mode


def default_pass_rows(device: torch.device | str) -> int:
    """Rows (samples x data points) per forward pass that :func:`log_marginal_likelihood` fills by
    default: 2**13 on a CPU (activations stay in cache; measured in benchmarks/bench_eval.py),
    2**16 on a GPU."""
    return 2 ** 13 if torch.device(device).type == "cpu" else 2 ** 16


@torch.no_grad()
def log_marginal_likelihood(model: Model, x: Tensor, K: int = 5000, chunk: int | None = None,
                            batch_size: int | None = None) -> Tensor:
    r"""Importance-sampling estimate of :math:`\log p(x)` per data point (the IWAE bound at large K):

    .. math:: \log p(x) \approx \log \frac1K \sum_{k=1}^K
              \frac{p(x \mid z_k)\, p(z_k)}{q(z_k \mid x)}, \qquad z_k \sim q(z \mid x).

    Memory is bounded: each forward pass holds ``chunk`` samples for ``batch_size`` data points
    (``chunk * batch_size`` rows); running log-sum-exps combine the chunks exactly. Data points are
    processed in batches, never one by one. The default pass size suits the device: about 8k rows
    on a CPU (activations stay in cache; measured in benchmarks/bench_eval.py), 64k on a GPU, filled
    with whole sets of K samples where they fit (fewer, larger passes), else split into chunks.

    Arguments:
        K: importance samples per data point.
        chunk: samples per forward pass (default ``min(K, rows)``, rows = 2**13 on a CPU and
            2**16 on a GPU).
        batch_size: data points per forward pass (default ``max(1, rows // chunk)``).
    Shapes:
        x: [N, D] -> [N] (nats)
    """
    p = next(model.parameters(), None)
    rows = default_pass_rows(p.device if p is not None else "cpu")
    K = check_positive_int(K)
    chunk = min(K, rows) if chunk is None else check_positive_int(chunk, "chunk")
    batch_size = max(1, rows // chunk) if batch_size is None else check_positive_int(batch_size, "batch_size")
    model.check_input(x)                    # once for all of x; the passes below skip the value checks
    with eval_mode(model), validation.off():
        out = []
        for xb in torch.split(x, batch_size):
            total = None
            for start in range(0, K, chunk):
                lse = torch.logsumexp(model.log_weights(xb, min(chunk, K - start)), dim=0)
                total = lse if total is None else torch.logaddexp(total, lse)
            out.append(total - math.log(K))
    log_px = torch.cat(out)
    bad = ~torch.isfinite(log_px)
    if bool(bad.any()):
        raise FloatingPointError(f"log p(x) is not finite for {int(bad.sum())} of {len(log_px)} data points "
                                 f"(rows {bad.nonzero().flatten()[:5].tolist()}): the model's weights or "
                                 "log-densities overflow there")
    return log_px


class ActiveUnits(NamedTuple):
    count: int        # number of units with variance above the threshold
    variance: Tensor  # [d] Cov_x(E_q[z_u | x]) per unit


@torch.no_grad()
def active_units(model: LatentVariableModel | Any, x: Tensor, threshold: float = 0.01,
                 batch_size: int = 4096) -> ActiveUnits:
    r"""Active units (Burda et al., 2016): unit u is active when
    :math:`A_u = \mathrm{Cov}_x\big(\mathbb E_{q(z|x)}[z_u]\big) > 0.01`, i.e. its posterior mean
    varies with the input. The posterior mean is the encoder's :math:`\mu_\phi(x)`, or, for a
    model with a ``posterior_mean(x)`` method (the semi-supervised M2, whose encoder also reads the
    label: :math:`\sum_y q(y|x)\,\mu_\phi(x, y)`), that method's.

    Shapes:
        x: [N, D] -> ActiveUnits(count, variance [d])
    """
    if isinstance(model, Model):        # anything with an encoder works; a dgmlib model also checks x
        model.check_input(x, support=False)
    batch_size = check_positive_int(batch_size, "batch_size")
    if callable(getattr(model, "posterior_mean", None)):
        with eval_mode(model):
            mu = torch.cat([model.posterior_mean(xb) for xb in torch.split(x, batch_size)])
    else:
        mu = encoder_stats(model.encoder, x, batch_size)[0]
    variance = mu.var(dim=0, unbiased=False)
    return ActiveUnits(int((variance > threshold).sum()), variance)


class Surgery(NamedTuple):
    """The ELBO's KL term split by ELBO surgery (Hoffman & Johnson, 2016), nats per data point."""
    elbo: float          # reconstruction - avg_kl
    reconstruction: float  # E_i E_q(z|x_i)[log p(x_i | z)]
    avg_kl: float        # (1/N) sum_i KL(q(z|x_i) || p(z))
    mutual_info: float   # index-code mutual information I_q[i, z]
    marginal_kl: float   # KL(q(z) || p(z)), q(z) the aggregated posterior
    log_n: float         # log N, the upper bound on mutual_info


@torch.no_grad()
def aggregate_posterior_log_prob(model: LatentVariableModel | Any, x: Tensor, z: Tensor, chunk: int = 512) -> Tensor:
    r"""Log-density of the aggregated posterior :math:`q(z) = \frac1N \sum_{i=1}^N q(z|x_i)` of
    the data x at the points z (e.g. a grid for a contour plot), memory bounded by ``chunk``.

    Shapes:
        x: [N, D], z: [M, d] -> [M]
    """
    if isinstance(model, Model):        # anything with an encoder works; a dgmlib model also checks x
        model.check_input(x, support=False)
    mu, logvar = encoder_stats(model.encoder, x, check_positive_int(chunk, "chunk"))
    return log_mean_normal(z, mu, logvar, chunk)


def _surgery_sums(model: LatentVariableModel, x: Tensor, samples: int, chunk: int,
                  reconstruction: bool) -> Tensor:
    r"""Sums over all N x S draws :math:`z \sim q(z|x_i)` (``samples`` per point) of
    [log p(x_i|z) (0 unless ``reconstruction``), log q(z|x_i), log q(z), log p(z)], chunk by chunk."""
    mu, logvar = encoder_stats(model.encoder, x, chunk)
    sums = torch.zeros(4, dtype=x.dtype, device=x.device)
    for start in range(0, x.shape[0], chunk):
        xb, m, lv = (t[start:start + chunk] for t in (x, mu, logvar))
        z = m + torch.exp(0.5 * lv) * torch.randn(samples, *m.shape, dtype=m.dtype, device=m.device)
        rec = model.likelihood.log_prob(xb, model.decode(z, xb)) if reconstruction else z.new_zeros(())
        log_q_own = gaussian_log_prob(z, m, lv)                                 # [S, c]
        log_q_agg = log_mean_normal(z.reshape(-1, z.shape[-1]), mu, logvar, chunk).reshape(z.shape[:-1])
        log_p = model.prior.log_prob(z)
        sums += torch.stack([t.sum() for t in (rec, log_q_own, log_q_agg, log_p)])
    return sums / (samples * x.shape[0])


@torch.no_grad()
def elbo_surgery(model: VAE, x: Tensor, samples: int = 1, chunk: int = 512) -> Surgery:
    r"""ELBO surgery over a whole dataset (Hoffman & Johnson, 2016):

    .. math:: \frac1N \sum_{i=1}^N \mathrm{KL}(q(z|x_i) \| p(z))
              = \underbrace{\mathrm{KL}(q(z) \| p(z))}_{\text{marginal KL}}
              + \underbrace{\mathbb E_{q(z, i)}\Big[\log \frac{q(z|x_i)}{q(z)}\Big]}_{I_q[i, z]},
              \qquad q(z) = \frac1N \sum_i q(z|x_i),

    with :math:`0 \le I_q \le \log N`. Each term is a Monte Carlo average over the same samples
    :math:`z \sim q(z|x_i)` (``samples`` per data point), so ``avg_kl = mutual_info + marginal_kl``
    holds exactly for the estimates, and the estimate of ``mutual_info`` never exceeds log N.
    :math:`\log q(z)` is a log-sum-exp over all N data points, taken in chunks of ``chunk`` so
    memory stays bounded (``chunk**2 * d`` numbers at a time).

    Shapes:
        x: [N, D] -> Surgery of floats
    """
    if not isinstance(model, VAE) or model.flow is not None:
        raise ValueError("elbo_surgery needs a VAE with a Gaussian posterior q(z|x) (no posterior flow); "
                         f"got {type(model).__name__}" + (" with a posterior flow" if isinstance(model, VAE) else ""))
    model.check_input(x)
    with eval_mode(model):
        rec, own, agg, prior = _surgery_sums(model, x, check_positive_int(samples, "samples"), chunk, True).tolist()
    return Surgery(elbo=rec - (own - prior), reconstruction=rec, avg_kl=own - prior,
                   mutual_info=own - agg, marginal_kl=agg - prior, log_n=math.log(x.shape[0]))


@torch.no_grad()
def marginal_kl(model: LatentVariableModel, x: Tensor, samples: int = 1, chunk: int = 512) -> float:
    r"""Monte Carlo estimate of the marginal KL of ELBO surgery (Hoffman & Johnson, 2016),

    .. math:: \mathrm{KL}\big(q(z) \,\|\, p(z)\big) \approx \frac{1}{NS} \sum_{i=1}^N \sum_{s=1}^S
              \big[\log q(z_{is}) - \log p(z_{is})\big], \qquad z_{is} \sim q(z|x_i),\quad
              q(z) = \frac1N \sum_j q(z|x_j),

    for the top-level encoder and prior of any latent-variable model (the top level of a
    :class:`~dgmlib.models.HierarchicalVAE` as well as a one-level VAE, where it equals
    ``elbo_surgery(...).marginal_kl`` for the same draws). Memory is bounded by ``chunk``.

    Shapes:
        x: [N, D] -> float (nats per data point)
    """
    if not isinstance(model, LatentVariableModel):
        raise TypeError(f"marginal_kl needs a LatentVariableModel (encoder and prior), got {type(model).__name__}")
    model.check_input(x, support=False)
    with eval_mode(model):
        _, _, agg, prior = _surgery_sums(model, x, check_positive_int(samples, "samples"), chunk, False).tolist()
    return agg - prior


@torch.no_grad()
def active_units_per_level(model: HierarchicalVAE, x: Tensor, threshold: float = 0.01,
                           samples: int | None = None) -> tuple[int, int]:
    r"""Active units of each level (Burda et al., 2016): unit u is active when
    :math:`A_u = \mathrm{Cov}_x(\mathbb E_q[z_u|x]) > 0.01`. Returns (count in z1, count in z2).

    :math:`\mathbb E_q[z_2|x]` is the encoder's mean; :math:`\mathbb E_q[z_1|x]` a Monte Carlo mean over
    :math:`z_2 \sim q(z_2|x)` (``samples`` draws, by default as many as make its variance at most
    ``threshold / 10`` for every entry), and that Monte Carlo variance, which a unit with a constant
    posterior mean would otherwise show as :math:`A_u`, is subtracted.

    Shapes:
        x: [N, D] -> (int, int)
    """
    if not isinstance(model, HierarchicalVAE):
        raise TypeError(f"active_units_per_level needs a HierarchicalVAE, got {type(model).__name__}")
    if not threshold > 0:
        raise ValueError(f"threshold must be a positive variance, got {threshold!r}")
    with eval_mode(model):
        means, noise = model._posterior_mean_stats(x, samples, threshold / 10)
    count = [int((m.var(0, unbiased=False) - v.mean(0) > threshold).sum()) for m, v in zip(means, noise)]
    return count[0], count[1]


def bits_per_dim(nll_nats: Tensor | float, dim: int) -> Tensor | float:
    r"""Negative log-likelihood in bits per dimension,

    .. math:: \mathrm{bpd} = \frac{-\log P(x)}{D \ln 2},

    the unit of image-density papers: a model that spreads its mass uniformly over L levels scores
    :math:`\log_2 L` (8 for 8-bit images). ``nll_nats`` must be the negative log-*probability* of
    the discrete data (for a density on rescaled data, add the scaling offset first: see
    :func:`discrete_log_likelihood`).

    Shapes:
        nll_nats: any (nats per data point) -> same shape
    """
    if dim < 1:
        raise ValueError(f"dim must be a positive number of dimensions, got {dim}")
    return nll_nats / (dim * math.log(2))


def nats_from_bits_per_dim(bpd: Tensor | float, dim: int) -> Tensor | float:
    r"""The inverse of :func:`bits_per_dim`: :math:`-\log P(x) = \mathrm{bpd} \cdot D \ln 2` nats."""
    if dim < 1:
        raise ValueError(f"dim must be a positive number of dimensions, got {dim}")
    return bpd * dim * math.log(2)


def discrete_log_likelihood(log_density: Tensor | float, dim: int, levels: int) -> Tensor | float:
    r"""The log-probability of L-level data from a density on the unit cube evaluated at
    :math:`y = (k + u)/L`: the density of :math:`v = k + u \in [0, L)^D` is
    :math:`L^{-D}\, p(y)`, and a bin of :math:`v` has volume 1, so

    .. math:: \log P(k) \gtrsim \log p(y) - D \log L .

    (With uniform noise the expectation over u of the right side is the Theis et al. (2016) lower
    bound.) E.g. a uniform density on the cube, :math:`\log p = 0`, gives
    :math:`-D\log L` nats, :math:`\log_2 L` bits per dimension.

    Shapes:
        log_density: any (nats) -> same shape
    """
    if levels < 2:
        raise ValueError(f"discrete data need at least 2 levels, got {levels}")
    return log_density - dim * math.log(levels)


def unit_cube_log_density(log_prob: Tensor | float, dim: int, levels: int) -> Tensor | float:
    r"""The inverse of :func:`discrete_log_likelihood`: :math:`\log p(y) = \log P(k) + D\log L`."""
    if levels < 2:
        raise ValueError(f"discrete data need at least 2 levels, got {levels}")
    return log_prob + dim * math.log(levels)


def independent_pixels(levels_train: Tensor, levels: int, pseudo_count: float = 1.0) -> Tensor:
    r"""The independent-pixel model of L-level images, fitted to training counts: pixel i is a
    categorical over the levels with

    .. math:: \pi_{i,l} = \frac{n_{i,l} + c}{N + L c},

    where :math:`n_{i,l}` counts the training images whose pixel i is at level l and c is the
    pseudo-count. The exact baseline of the dequantization chapter
    (:func:`independent_pixels_log_prob` scores images with it).

    Shapes:
        levels_train: [N, D] integer levels 0..L-1 (any dtype) -> log pi: [D, L], float
    Raises:
        ValueError: levels off the grid 0..L-1, or a negative pseudo-count.
    """
    if levels < 2:
        raise ValueError(f"discrete data need at least 2 levels, got {levels}")
    if pseudo_count < 0:
        raise ValueError(f"pseudo_count must be >= 0, got {pseudo_count}")
    k = _integer_levels(levels_train, levels)
    n, d = k.shape
    bins = (k + levels * torch.arange(d, device=k.device)).flatten()     # one bin per (pixel, level)
    dtype = levels_train.dtype if levels_train.is_floating_point() else torch.get_default_dtype()
    counts = torch.bincount(bins, minlength=d * levels).reshape(d, levels).to(dtype)
    return torch.log((counts + pseudo_count) / (n + levels * pseudo_count))


def independent_pixels_log_prob(log_pi: Tensor, levels_x: Tensor) -> Tensor:
    r""":math:`\log P(k) = \sum_i \log \pi_{i, k_i}` under :func:`independent_pixels` (nats).

    Shapes:
        log_pi: [D, L], levels_x: [N, D] integer levels -> [N]
    """
    d, levels = log_pi.shape
    k = _integer_levels(levels_x, levels)
    if k.shape[-1] != d:
        raise ValueError(f"images have {k.shape[-1]} pixels, the model {d}")
    return log_pi.gather(-1, k.T).T.sum(-1)


def _integer_levels(k: Tensor, levels: int) -> Tensor:
    """[N, D] integer levels as int64, checked to lie on the grid 0..levels-1."""
    if k.dim() != 2:
        raise ValueError(f"expected images as [N, D] levels, got shape {tuple(k.shape)}")
    kl = k.long()
    if (kl != k).any() or (kl < 0).any() or (kl >= levels).any():
        raise ValueError(f"levels must be integers in 0..{levels - 1}")
    return kl
