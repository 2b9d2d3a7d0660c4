r"""The cross-modal bound (Spurr, Song, Park & Hilliges, CVPR 2018): one latent space shared by
two modalities, trained to predict a target modality :math:`x_t` from a source :math:`x_i`.

For any distribution q over z, in particular the source encoder's :math:`q(z \mid x_i)`,

.. math:: \log p(x_t) = \log \int p(x_t \mid z)\, p(z)\, dz
          \;\ge\; \mathbb E_{q(z|x_i)}[\log p(x_t \mid z)] - \mathrm{KL}(q(z \mid x_i) \,\|\, p(z)),

and the gap is exactly :math:`\mathrm{KL}(q(z \mid x_i) \,\|\, p(z \mid x_t))`: the bound is tight
only when the source encoder already places z where the target's posterior does. With
:math:`i = t` it is the ordinary ELBO.

On a linear-Gaussian pair of modalities (one z, two :class:`~dgmlib.models.linear_gaussian.LinearGaussian`
views with their own loadings) every term has a closed form: :func:`linear_gaussian_cross_modal_bound`
and the test suite check the bound against :math:`\log p(x_t)` and the posterior KL.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from .distributions import kl_normal
from .models.linear_gaussian import LinearGaussian


def cross_modal_bound(log_lik_target: Tensor, mu_q: Tensor, logvar_q: Tensor) -> Tensor:
    r"""Monte Carlo cross-modal bound from draws :math:`z_k \sim q(z \mid x_i)` (diagonal Gaussian):
    :math:`\tfrac1K\sum_k \log p(x_t \mid z_k) - \mathrm{KL}(q(z|x_i) \,\|\, \mathcal N(0, I))`.

    Shapes:
        log_lik_target: [K, B] (log p(x_t | z_k) of the target batch), mu_q, logvar_q: [B, d] -> [B]
    """
    if log_lik_target.dim() != 2 or log_lik_target.shape[1] != mu_q.shape[0]:
        raise ValueError(f"the target log-likelihoods must be [K, batch] with the source's batch "
                         f"({mu_q.shape[0]}), got {tuple(log_lik_target.shape)}: the two modalities' "
                         "batches must be paired row by row")
    return log_lik_target.mean(0) - kl_normal(mu_q, logvar_q)


def gaussian_kl_to_standard(mu: Tensor, cov: Tensor) -> Tensor:
    r""":math:`\mathrm{KL}(\mathcal N(\mu, \Sigma) \,\|\, \mathcal N(0, I)) =
    \tfrac12(\mathrm{tr}\,\Sigma + \mu^\top\mu - d - \log\det\Sigma)`.  mu [B, d], cov [d, d] -> [B]"""
    d = cov.shape[-1]
    return 0.5 * (torch.diagonal(cov).sum() + (mu ** 2).sum(-1) - d - torch.logdet(cov))


def gaussian_kl(mu_q: Tensor, cov_q: Tensor, mu_p: Tensor, cov_p: Tensor) -> Tensor:
    r""":math:`\mathrm{KL}(\mathcal N(\mu_q, \Sigma_q) \,\|\, \mathcal N(\mu_p, \Sigma_p))`,
    full covariances.  mu_q, mu_p [B, d]; cov_q, cov_p [d, d] -> [B]"""
    d = cov_q.shape[-1]
    inv_p = torch.linalg.inv(cov_p)
    diff = mu_p - mu_q
    return 0.5 * (torch.trace(inv_p @ cov_q) + ((diff @ inv_p) * diff).sum(-1) - d
                  + torch.logdet(cov_p) - torch.logdet(cov_q))


def _check_pair(source: LinearGaussian, target: LinearGaussian, x_source: Tensor, x_target: Tensor):
    if source.W.shape[1] != target.W.shape[1]:
        raise ValueError(f"the two modalities must share one latent space: z_dim {source.W.shape[1]} "
                         f"(source) vs {target.W.shape[1]} (target)")
    if x_source.shape[0] != x_target.shape[0]:
        raise ValueError(f"the two modalities' batches must be paired row by row, got "
                         f"{x_source.shape[0]} source and {x_target.shape[0]} target rows")


def linear_gaussian_cross_modal_bound(source: LinearGaussian, target: LinearGaussian,
                                      x_source: Tensor, x_target: Tensor) -> Tensor:
    r"""The cross-modal bound in closed form, q(z|x_i) the source's exact posterior
    :math:`\mathcal N(m, S)`:

    .. math:: \mathbb E_q[\log \mathcal N(x_t; W_t z + b_t, \sigma_t^2 I)]
              = \log \mathcal N(x_t; W_t m + b_t, \sigma_t^2 I) - \frac{\mathrm{tr}(W_t S W_t^\top)}{2\sigma_t^2},

    minus :func:`gaussian_kl_to_standard`.  x_source [B, D_i], x_target [B, D_t] -> [B]
    """
    _check_pair(source, target, x_source, x_target)
    m, S = source.posterior(x_source)
    target._check(x_target)
    var = target.logvar.exp()
    resid = x_target - m @ target.W.T - target.b
    D_t = x_target.shape[-1]
    expected = (-0.5 * (resid ** 2).sum(-1) / var - 0.5 * D_t * (math.log(2 * math.pi) + target.logvar)
                - 0.5 * torch.trace(target.W @ S @ target.W.T) / var)
    return expected - gaussian_kl_to_standard(m, S)


def linear_gaussian_cross_modal_gap(source: LinearGaussian, target: LinearGaussian,
                                    x_source: Tensor, x_target: Tensor) -> Tensor:
    r"""The gap :math:`\log p(x_t) - \text{bound} = \mathrm{KL}(q(z|x_i) \,\|\, p(z|x_t))`, computed
    as that KL (not as a difference).  -> [B]"""
    _check_pair(source, target, x_source, x_target)
    m, S = source.posterior(x_source)
    m_t, S_t = target.posterior(x_target)
    return gaussian_kl(m, S, m_t, S_t)
