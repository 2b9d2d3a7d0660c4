r"""Training objectives. Each returns a per-example tensor of shape [B]; the caller reduces
(``loss = -objective(model, x).mean()``).

All of them are functions of the log importance weights :math:`\log w` [K, B] of
:meth:`dgmlib.models.VAE.terms`.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .distributions import StandardNormal, kl_normal, log_mean_exp
from .models import LatentVariableModel, VAE


def kl_term(model: LatentVariableModel, terms, analytic_kl: bool) -> Tensor:
    """KL(q(z|x) || p(z)) per example [B]: closed form where the model has one, else Monte Carlo."""
    if analytic_kl:      # a model whose terms have no (mu, logvar) says in analytic_kl what to call
        return model.analytic_kl(getattr(terms, "mu", None), getattr(terms, "logvar", None))
    return (terms.log_qz - terms.log_pz).mean(0)


def elbo(model: nn.Module, x: Tensor, K: int = 1, analytic_kl: bool = False) -> Tensor:
    r"""Evidence lower bound, per example.

    .. math:: \mathcal L(x) = \mathbb E_{q(z|x)}[\log p(x|z)] - \mathrm{KL}(q(z|x) \| p(z))
              \approx \frac1K \sum_k \log w_k

    Arguments:
        K: number of reparameterized samples averaged.
        analytic_kl: use the prior's closed-form KL (lower variance) instead of the Monte Carlo
            estimate :math:`\frac1K\sum_k \log q(z_k|x) - \log p(z_k)`.
    Shapes:
        x: [B, D] -> [B]
    """
    terms = model.terms(x, K)
    if not analytic_kl:
        return terms.log_w.mean(0)
    kl = kl_term(model, terms, True)          # first: a model without a closed form says so
    return terms.log_px_z.mean(0) - kl


def beta_elbo(model: nn.Module, x: Tensor, beta: float = 1.0, K: int = 1,
              analytic_kl: bool = True) -> Tensor:
    r""":math:`\beta`-VAE objective (Higgins et al., 2017), per example:
    :math:`\mathbb E_q[\log p(x|z)] - \beta\, \mathrm{KL}(q(z|x) \| p(z))`; equals :func:`elbo` at
    :math:`\beta = 1`.

    Shapes:
        x: [B, D] -> [B]
    """
    terms = model.terms(x, K)
    kl = kl_term(model, terms, analytic_kl)   # first: a model without a closed form says so
    return terms.log_px_z.mean(0) - beta * kl


def iwae_bound(model: nn.Module, x: Tensor, K: int = 5) -> Tensor:
    r"""Importance-weighted bound (Burda et al., 2016), per example:

    .. math:: \mathcal L_K(x) = \log \frac1K \sum_{k=1}^K w_k, \qquad
              \mathcal L_1 = \mathcal L \le \mathcal L_K \le \mathcal L_{K+1} \le \log p(x)
              \ \text{(in expectation)}.

    Differentiable: its gradient is the IWAE gradient. Batched over the K samples.

    Shapes:
        x: [B, D] -> [B]
    """
    return log_mean_exp(model.log_weights(x, K), dim=0)


def kl_per_group(model: nn.Module, terms, groups: int | None = None) -> Tensor:
    r"""Closed-form :math:`\mathrm{KL}(q(z_j|x) \| p(z_j))` of each group :math:`z_j` of latent
    dimensions under a standard normal prior (which factorizes over dimensions).

    Arguments:
        terms: the :class:`~dgmlib.models.Terms` of ``model.terms(x, K)`` (its mu, logvar).
        groups: split the d dimensions into this many contiguous, equal groups (None: one group
            per dimension). It must divide d.
    Shapes:
        -> [B, groups]
    """
    if not isinstance(model, VAE) or model.flow is not None or not isinstance(model.prior, StandardNormal):
        raise ValueError("KL per group needs a Gaussian posterior and the StandardNormal prior "
                         "(which factorizes over latent dimensions)")
    d = terms.mu.shape[-1]
    groups = d if groups is None else int(groups)
    if groups < 1 or d % groups:
        raise ValueError(f"groups must divide the latent size d={d}, got groups={groups}")
    per_dim = kl_normal(terms.mu[..., None], terms.logvar[..., None])       # [B, d]
    return per_dim.reshape(*per_dim.shape[:-1], groups, d // groups).sum(-1)


def free_bits_elbo(model: nn.Module, x: Tensor, free_bits: float = 0.5, groups: int | None = None,
                   K: int = 1) -> Tensor:
    r"""Free-bits objective (Kingma et al., 2016), per example: with the latent dimensions
    split into groups :math:`z_1..z_G`,

    .. math:: \tilde{\mathcal L} = \mathbb E_{x \sim \text{batch}}\, \mathbb E_{q(z|x)}[\log p(x|z)]
              - \sum_{j=1}^G \max\Big(\lambda,\ \mathbb E_{x \sim \text{batch}}\,
              \mathrm{KL}(q(z_j|x) \| p(z_j))\Big).

    The max is taken of the KL **averaged over the mini-batch**, so a group whose average KL is
    below :math:`\lambda` (``free_bits`` nats) costs a constant and gets no gradient: the
    encoder may put up to :math:`\lambda` nats of information in it for free. The returned [B]
    tensor has the objective as its mean (and its gradient): example b gets its reconstruction
    minus, for every group j, its own :math:`\mathrm{KL}_{bj}` if the group's batch mean is above
    :math:`\lambda` and :math:`\lambda` otherwise. With every group above :math:`\lambda` it
    equals the ELBO with the closed-form KL. Needs the StandardNormal prior (see :func:`kl_per_group`).

    Arguments:
        free_bits: :math:`\lambda`, nats per group.
        groups: number of groups (None: one per latent dimension).
        K: reparameterized samples for the reconstruction term.
    Shapes:
        x: [B, D] -> [B]
    """
    if free_bits < 0:
        raise ValueError(f"free_bits must be >= 0 nats, got {free_bits}")
    terms = model.terms(x, K)
    kl = kl_per_group(model, terms, groups)                                  # [B, G]
    above = kl.detach().mean(0) > free_bits                                  # [G]
    penalty = torch.where(above, kl, torch.full_like(kl, float(free_bits))).sum(-1)
    return terms.log_px_z.mean(0) - penalty


class AnnealedELBO:
    r"""The KL-weighted ELBO with a scheduled weight, per example:
    :math:`\mathbb E_q[\log p(x|z)] - \beta_t\, \mathrm{KL}(q(z|x) \| p(z))` with
    :math:`\beta_t` = ``schedule(t)`` (see :mod:`dgmlib.schedules`), t the optimizer step.

    :func:`dgmlib.train.fit` calls :meth:`set_step` before every mini-batch, so KL annealing
    (Bowman et al., 2016) is ``fit(model, data, epochs, objective=AnnealedELBO(LinearWarmup(1000)))``.
    Outside of fit the step stays where it was last set (0 at first).

    Arguments:
        schedule: callable step -> beta.
        K: reparameterized samples; analytic_kl: closed-form KL where the prior has one.
    Shapes:
        x: [B, D] -> [B]
    """
    __name__ = "annealed_elbo"

    def __init__(self, schedule, K: int = 1, analytic_kl: bool = True):
        self.schedule, self.K, self.analytic_kl = schedule, int(K), analytic_kl
        self.step = 0

    def set_step(self, step: int) -> None:
        self.step = int(step)

    @property
    def beta(self) -> float:
        """The current KL weight."""
        return float(self.schedule(self.step))

    def __call__(self, model: nn.Module, x: Tensor) -> Tensor:
        return beta_elbo(model, x, beta=self.beta, K=self.K, analytic_kl=self.analytic_kl)

    def __repr__(self) -> str:
        return f"AnnealedELBO({self.schedule!r}, K={self.K}, step={self.step})"
