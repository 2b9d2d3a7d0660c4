r"""Training objectives. Each returns a per-example tensor of shape [B]; the caller reduces
(``loss = -objective(model, x).mean()``).

All of them are functions of the log importance weights :math:`\log w` [K, B] of
:meth:`dgmlib.models.VAE.terms`.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .distributions import log_mean_exp


def _kl_term(model: nn.Module, terms, analytic_kl: bool) -> Tensor:
    """KL(q(z|x) || p(z)) per example [B]: closed form where the prior has one, else Monte Carlo."""
    if analytic_kl:
        if getattr(model, "flow", None) is not None:
            raise ValueError("a posterior flow has no closed-form KL; use analytic_kl=False")
        kl = getattr(model.prior, "kl", None)
        if kl is None:
            raise ValueError(f"{type(model.prior).__name__} has no closed-form KL; use analytic_kl=False")
        return kl(terms.mu, terms.logvar)
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
    return terms.log_px_z.mean(0) - _kl_term(model, terms, True)


def beta_elbo(model: nn.Module, x: Tensor, beta: float = 1.0, K: int = 1,
              analytic_kl: bool = True) -> Tensor:
    r""":math:`\beta`-VAE objective (Higgins et al., 2017), per example:
    :math:`\mathbb E_q[\log p(x|z)] - \beta\, \mathrm{KL}(q(z|x) \| p(z))`; equals :func:`elbo` at
    :math:`\beta = 1`.

    Shapes:
        x: [B, D] -> [B]
    """
    terms = model.terms(x, K)
    return terms.log_px_z.mean(0) - beta * _kl_term(model, terms, analytic_kl)


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


OBJECTIVES = {"elbo": elbo, "beta_elbo": beta_elbo, "iwae_bound": iwae_bound}
