r"""Disentanglement: the DIP-VAE regularizers and objective, and the mutual information gap.

DIP-VAE (Kumar et al., 2018) pushes the covariance of the aggregated posterior
:math:`q(z) = \frac1N \sum_i q(z|x_i)` towards the prior's identity covariance:

.. math:: R(C) = \lambda_{od} \sum_{i \ne j} C_{ij}^2 + \lambda_d \sum_i (C_{ii} - 1)^2,

with :math:`C = \mathrm{Cov}_{p(x)}[\mu_\phi(x)]` (DIP-VAE-I) or the full covariance of
:math:`q(z)`, :math:`C = \mathbb E_{p(x)}[\mathrm{Cov}_{q(z|x)}[z]] + \mathrm{Cov}_{p(x)}[\mu_\phi(x)]`
(DIP-VAE-II, by the law of total covariance).

The mutual information gap (Chen et al., 2018) scores latents against known factors
:math:`v_k`: for each factor, the gap between the two latents that carry the most information
about it, over the factor's entropy, averaged over factors.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn

from .nets import encoder_stats
from .objectives import kl_term


DIP_KINDS = ("i", "ii")


def covariance(x: Tensor) -> Tensor:
    r"""Covariance over the rows (the batch axis) with the 1/N normalization:
    :math:`C = \frac1N \sum_n (x_n - \bar x)(x_n - \bar x)^\top`.

    Shapes:
        x: [N, d] -> [d, d]
    """
    if x.dim() != 2:
        raise ValueError(f"x must be [N, d] (examples in rows), got shape {tuple(x.shape)}")
    centred = x - x.mean(0, keepdim=True)
    return centred.T @ centred / x.shape[0]


def dip_covariance(mu: Tensor, logvar: Tensor | None = None, kind: str = "i") -> Tensor:
    r"""The covariance that DIP-VAE pushes to the identity.

    DIP-VAE-I: :math:`\mathrm{Cov}_{p(x)}[\mu_\phi(x)]`; DIP-VAE-II:
    :math:`\mathbb E_{p(x)}[\mathrm{diag}\,\sigma^2_\phi(x)] + \mathrm{Cov}_{p(x)}[\mu_\phi(x)]`,
    the covariance of the aggregated posterior of the batch.

    Arguments:
        mu, logvar: the encoder's means and log-variances of a batch (logvar only for "ii").
        kind: "i" or "ii".
    Shapes:
        mu, logvar: [B, d] -> [d, d]
    """
    if kind not in DIP_KINDS:
        raise ValueError(f"unknown DIP-VAE kind {kind!r}; choose 'i' or 'ii'")
    cov = covariance(mu)
    if kind == "ii":
        if logvar is None or logvar.shape != mu.shape:
            raise ValueError("DIP-VAE-II needs logvar with the shape of mu")
        cov = cov + torch.diag_embed(logvar.exp().mean(0))
    return cov


class DIPPenalty(NamedTuple):
    """The two parts of the DIP-VAE regularizer (before the lambdas)."""
    off_diagonal: Tensor  # sum_{i != j} C_ij^2
    diagonal: Tensor      # sum_i (C_ii - 1)^2


def dip_terms(cov: Tensor) -> DIPPenalty:
    r""":math:`\sum_{i \ne j} C_{ij}^2` and :math:`\sum_i (C_{ii} - 1)^2` of a covariance matrix.

    Example: a 10x10 matrix of ones gives off-diagonal 90; :math:`2I_{10}` gives diagonal 10.

    Shapes:
        cov: [d, d] -> DIPPenalty of scalars
    """
    if cov.dim() != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"cov must be a square [d, d] matrix, got shape {tuple(cov.shape)}")
    diag = torch.diagonal(cov)
    off = (cov * cov).sum() - (diag * diag).sum()
    return DIPPenalty(off, ((diag - 1) ** 2).sum())


def dip_regularizer(cov: Tensor, lambda_od: float, lambda_d: float) -> Tensor:
    r"""DIP-VAE regularizer (Kumar et al., 2018, eq. 6 and 7):
    :math:`\lambda_{od} \sum_{i \ne j} C_{ij}^2 + \lambda_d \sum_i (C_{ii} - 1)^2`.

    Shapes:
        cov: [d, d] -> scalar
    """
    terms = dip_terms(cov)
    return lambda_od * terms.off_diagonal + lambda_d * terms.diagonal


def default_lambda_d(lambda_od: float, kind: str) -> float:
    """Kumar et al.'s choice: :math:`\\lambda_d = 10 \\lambda_{od}` for DIP-VAE-I and
    :math:`\\lambda_d = \\lambda_{od}` for DIP-VAE-II."""
    if kind not in DIP_KINDS:
        raise ValueError(f"unknown DIP-VAE kind {kind!r}; choose 'i' or 'ii'")
    return 10.0 * lambda_od if kind == "i" else float(lambda_od)


def dip_vae(model: nn.Module, x: Tensor, lambda_od: float = 10.0, lambda_d: float | None = None,
            kind: str = "i", K: int = 1, analytic_kl: bool = True) -> Tensor:
    r"""DIP-VAE objective (Kumar et al., 2018) for :func:`dgmlib.train.fit`, per example:

    .. math:: \mathcal L_{DIP}(x_b) = \mathcal L(x_b) - R(C_{\text{batch}}),
              \qquad b = 1..B,

    where :math:`\mathcal L` is the ELBO and R the DIP regularizer of the batch covariance
    (:func:`dip_covariance`, :func:`dip_regularizer`). The regularizer is a property of the
    *batch*, not of one example: every example carries the whole of it, so the batch **mean** is
    the paper's objective, mean ELBO minus R (what ``fit`` maximizes), and so is the mean that
    :func:`dgmlib.train.evaluate` reports per batch. A single entry is not a bound on
    anything, and values from different batch sizes are not comparable (R is estimated from B
    examples).

    Arguments:
        lambda_od, lambda_d: weights of the off-diagonal and diagonal terms (``lambda_d`` defaults
            to :func:`default_lambda_d`).
        kind: "i" (covariance of the means) or "ii" (covariance of the aggregated posterior).
        K, analytic_kl: as in :func:`dgmlib.objectives.elbo` (closed-form KL by default where the
            prior has one and there is no posterior flow, else the Monte Carlo KL).
    Shapes:
        x: [B, D] -> [B]
    """
    if lambda_d is None:
        lambda_d = default_lambda_d(lambda_od, kind)
    if lambda_od < 0 or lambda_d < 0:
        raise ValueError(f"lambda_od and lambda_d must be >= 0, got {lambda_od} and {lambda_d}")
    if x.shape[0] < 2:
        raise ValueError("the DIP-VAE regularizer needs a batch of at least 2 examples")
    terms = model.terms(x, K)
    elbo = terms.log_px_z.mean(0) - kl_term(model, terms, analytic_kl)   # closed form or Monte Carlo [B]
    reg = dip_regularizer(dip_covariance(terms.mu, terms.logvar, kind), lambda_od, lambda_d)
    return elbo - reg


# ---------------------------------------------------------------------------------------------
# Mutual information gap

class MIG(NamedTuple):
    """Result of :func:`mutual_info_gap` (information in nats)."""
    mig: float            # mean over factors of the normalized gap
    gaps: Tensor          # [k] normalized gap per factor
    mutual_info: Tensor   # [d, k] I(z_j; v_k)
    entropy: Tensor       # [k] H(v_k)


def discretize(latents: Tensor, bins: int = 20) -> Tensor:
    """Each column cut into ``bins`` equal-width bins between its minimum and maximum
    (as in Chen et al.'s and Locatello et al.'s code); a constant column falls in bin 0.

    Shapes:
        latents: [N, d] -> [N, d] int64 in [0, bins)
    """
    if latents.dim() != 2:
        raise ValueError(f"latents must be [N, d], got shape {tuple(latents.shape)}")
    if bins < 2:
        raise ValueError(f"bins must be >= 2, got {bins}")
    if not torch.isfinite(latents).all():
        raise ValueError("latents contain NaN or infinite values")
    low, high = latents.min(0).values, latents.max(0).values
    width = torch.where(high > low, high - low, torch.ones_like(high))
    idx = torch.floor((latents - low) / width * bins).to(torch.int64)
    return idx.clamp(0, bins - 1)


def _one_hot(codes: Tensor) -> Tensor:
    """[N, m] int64 codes -> [N, m, max+1] float64 one-hot."""
    return torch.nn.functional.one_hot(codes, int(codes.max()) + 1).to(torch.float64)


def discrete_mutual_info(a: Tensor, b: Tensor) -> Tensor:
    r"""Plug-in mutual information (nats) between every column of ``a`` and every column of ``b``,
    both discrete codes: :math:`I(a_j; b_k) = \sum p(a, b) \log \frac{p(a, b)}{p(a) p(b)}`.

    Shapes:
        a: [N, d], b: [N, k] int64 -> [d, k] float64
    """
    if a.dim() != 2 or b.dim() != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(f"a and b must be [N, d] and [N, k] with the same N, got {tuple(a.shape)}, {tuple(b.shape)}")
    if a.is_floating_point() or b.is_floating_point():
        raise ValueError("discrete_mutual_info takes integer codes; discretize() continuous latents first")
    n = a.shape[0]
    pa, pb = _one_hot(a), _one_hot(b)                                 # [N, d, A], [N, k, F]
    joint = torch.einsum("nda,nkf->dkaf", pa, pb) / n                # [d, k, A, F]
    ma, mb = pa.mean(0), pb.mean(0)                                   # [d, A], [k, F]
    outer = ma[:, None, :, None] * mb[None, :, None, :]
    ratio = torch.where(joint > 0, joint / torch.where(outer > 0, outer, torch.ones_like(outer)),
                        torch.ones_like(joint))
    return (joint * ratio.log()).sum((2, 3)).clamp_min(0)


def discrete_entropy(codes: Tensor) -> Tensor:
    """Plug-in entropy (nats) of each column of discrete codes. Shapes: [N, k] -> [k] float64."""
    p = _one_hot(codes).mean(0)
    return -(torch.where(p > 0, p * p.log(), torch.zeros_like(p))).sum(1)


def mutual_info_gap(latents: Tensor, factors: Tensor, bins: int = 20) -> MIG:
    r"""Mutual information gap (Chen et al., 2018):

    .. math:: \mathrm{MIG} = \frac1K \sum_{k=1}^K \frac{1}{H(v_k)}
              \Big(I(z_{j^{(k)}}; v_k) - \max_{j \ne j^{(k)}} I(z_j; v_k)\Big),
              \qquad j^{(k)} = \arg\max_j I(z_j; v_k),

    with the latents (e.g. the encoder means) cut into ``bins`` equal-width bins and the
    mutual informations estimated by counting. MIG is 1 when each factor is copied into its own
    latent and no other latent knows about it, and 0 when a factor's information is shared
    equally by two latents or is in none. It does *not* penalize one latent that carries several
    factors (each factor's gap can still be large).

    Arguments:
        latents: [N, d] continuous codes (d >= 2).
        factors: [N, k] int64 factor indices; a factor with a single value is not allowed
            (zero entropy).
        bins: bins per latent.
    Returns:
        :class:`MIG` (mig as a float, the rest float64 tensors on the latents' device).
    """
    if latents.dim() != 2 or latents.shape[1] < 2:
        raise ValueError(f"latents must be [N, d] with d >= 2, got shape {tuple(latents.shape)}")
    if factors.dim() != 2 or factors.shape[0] != latents.shape[0]:
        raise ValueError(f"factors must be [N, k] with N = {latents.shape[0]}, got {tuple(factors.shape)}")
    codes = discretize(latents, bins)
    mi = discrete_mutual_info(codes, factors.to(codes.device))
    entropy = discrete_entropy(factors.to(codes.device))
    if (entropy <= 0).any():
        raise ValueError("a factor takes a single value in this sample (zero entropy); drop it")
    top2 = torch.topk(mi, 2, dim=0).values                           # [2, k]
    gaps = (top2[0] - top2[1]) / entropy
    return MIG(float(gaps.mean()), gaps, mi, entropy)


@torch.no_grad()
def encode_means(model: nn.Module, x: Tensor, batch_size: int = 4096) -> Tensor:
    """Posterior means :math:`\\mu_\\phi(x)` of a VAE's encoder, batched. Shapes: [N, D] -> [N, d]."""
    return encoder_stats(model.encoder, x, batch_size)[0]


__all__ = ["covariance", "dip_covariance", "dip_terms", "dip_regularizer", "default_lambda_d", "dip_vae",
           "DIPPenalty", "MIG", "discretize", "discrete_mutual_info", "discrete_entropy",
           "mutual_info_gap", "encode_means"]
