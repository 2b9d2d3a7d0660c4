r"""Densities, likelihoods and the numerics shared by every objective.

Everything sums over the event (last) dimension and keeps the batch dimensions, so a
``[K, batch, D]`` input gives a ``[K, batch]`` result. Built on ``torch.distributions`` with
``validate_args=False`` per instance (hot paths; the global default is never changed).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.distributions import Bernoulli, Independent, Normal

LOG_2PI = math.log(2 * math.pi)


def log_mean_exp(x: Tensor, dim: int = 0) -> Tensor:
    r"""Numerically stable :math:`\log \frac1K \sum_k \exp x_k` along ``dim``.

    Stays finite for inputs near -1e4 where a naive ``exp`` underflows to 0.

    Shapes:
        x: [..., K, ...] -> [...] (``dim`` removed)
    """
    return torch.logsumexp(x, dim=dim) - math.log(x.shape[dim])


def diagonal_normal(mu: Tensor, logvar: Tensor) -> Independent:
    r"""The diagonal Gaussian :math:`\mathcal N(\mu, \mathrm{diag}(e^{\log\sigma^2}))` as a
    ``torch.distributions`` object whose ``log_prob`` sums over the last dimension.

    Shapes:
        mu, logvar: [..., d]
    """
    return Independent(Normal(mu, torch.exp(0.5 * logvar), validate_args=False), 1,
                       validate_args=False)


def gaussian_log_prob(x: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    r"""Log-density of a diagonal Gaussian, summed over the last dimension.

    .. math:: \log \mathcal N(x; \mu, \sigma^2) = -\tfrac12 \sum_i
              \Big[\log 2\pi + \log\sigma_i^2 + (x_i - \mu_i)^2 / \sigma_i^2\Big]

    Golden value: ``gaussian_log_prob(1, 0, 0) = -1.4189`` nats.

    Shapes:
        x, mu, logvar: broadcastable to [..., D] -> [...]
    """
    return -0.5 * (LOG_2PI + logvar + (x - mu) ** 2 * torch.exp(-logvar)).sum(-1)


def bernoulli_log_prob(x: Tensor, logits: Tensor) -> Tensor:
    r"""Bernoulli log-likelihood from logits, summed over the last dimension.

    .. math:: \log p(x \mid \ell) = \sum_i x_i \log\sigma(\ell_i) + (1 - x_i)\log\sigma(-\ell_i)
              = -\sum_i \mathrm{BCEWithLogits}(\ell_i, x_i)

    Written with log-sigmoids (never ``log(sigmoid)``), so large logits stay finite.
    There is no :math:`2\pi` term: it is a probability mass, not a density.

    Shapes:
        x, logits: broadcastable to [..., D] -> [...]
    """
    x, logits = torch.broadcast_tensors(x, logits)
    return -nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)


def kl_normal(mu_q: Tensor, logvar_q: Tensor, mu_p: Tensor | float = 0.0,
              logvar_p: Tensor | float = 0.0) -> Tensor:
    r"""Analytic :math:`\mathrm{KL}(\mathcal N(\mu_q, \sigma_q^2) \,\|\, \mathcal N(\mu_p, \sigma_p^2))`
    for diagonal Gaussians, summed over the last dimension.

    .. math:: \mathrm{KL} = \tfrac12 \sum_i \Big[\log\frac{\sigma_{p,i}^2}{\sigma_{q,i}^2}
              + \frac{\sigma_{q,i}^2 + (\mu_{q,i} - \mu_{p,i})^2}{\sigma_{p,i}^2} - 1\Big]

    With the defaults the prior is :math:`\mathcal N(0, I)` and the KL is
    :math:`\tfrac12\sum_i(\mu_i^2 + \sigma_i^2 - \log\sigma_i^2 - 1)`;
    e.g. :math:`\mathrm{KL}(\mathcal N(1, 1)\|\mathcal N(0, 1)) = 0.5` per dimension.

    Shapes:
        mu_q, logvar_q: [..., d]; mu_p, logvar_p: broadcastable -> [...]
    """
    mu_p = torch.as_tensor(mu_p, dtype=mu_q.dtype, device=mu_q.device)
    logvar_p = torch.as_tensor(logvar_p, dtype=mu_q.dtype, device=mu_q.device)
    return 0.5 * (logvar_p - logvar_q
                  + (torch.exp(logvar_q) + (mu_q - mu_p) ** 2) * torch.exp(-logvar_p)
                  - 1.0).sum(-1)


def log_mean_normal(z: Tensor, mu: Tensor, logvar: Tensor, chunk: int = 512) -> Tensor:
    r"""Log-density of an equally weighted mixture of N diagonal Gaussians,

    .. math:: \log \frac1N \sum_{j=1}^N \mathcal N(z; \mu_j, \mathrm{diag}\,\sigma_j^2),

    for every row of z: the aggregated posterior :math:`q(z) = \frac1N\sum_j q(z|x_j)` or a
    VampPrior. The sum over j runs in chunks with a running log-sum-exp, so memory stays at
    ``chunk**2 * d`` numbers whatever N and the number of points. Differentiable.

    Shapes:
        z: [M, d], mu / logvar: [N, d] -> [M]
    """
    if z.shape[0] > chunk:
        return torch.cat([log_mean_normal(zc, mu, logvar, chunk) for zc in torch.split(z, chunk)])
    total = None
    for start in range(0, mu.shape[0], chunk):
        m, lv = mu[start:start + chunk], logvar[start:start + chunk]
        pair = gaussian_log_prob(z.unsqueeze(1), m.unsqueeze(0), lv.unsqueeze(0))  # [M, c]
        lse = torch.logsumexp(pair, dim=1)
        total = lse if total is None else torch.logaddexp(total, lse)
    return total - math.log(mu.shape[0])


class BernoulliLikelihood(nn.Module):
    r"""Observation model :math:`p(x \mid z) = \prod_i \mathrm{Bernoulli}(x_i; \sigma(\ell_i))`
    for binary data; the decoder outputs the logits :math:`\ell`.

    Shapes:
        params (logits): [..., D]; x: [..., D] -> log_prob [...]
    """

    def log_prob(self, x: Tensor, params: Tensor) -> Tensor:
        return bernoulli_log_prob(x, params)

    def mean(self, params: Tensor) -> Tensor:
        """The expected image, :math:`\\sigma(\\ell)`."""
        return torch.sigmoid(params)

    def sample(self, params: Tensor) -> Tensor:
        return Bernoulli(logits=params, validate_args=False).sample()


class GaussianLikelihood(nn.Module):
    r"""Observation model :math:`p(x \mid z) = \mathcal N(x; \mu_\theta(z), \sigma^2 I)`; the
    decoder outputs the mean, the (shared) log-variance is a fixed value or a learned scalar.

    Arguments:
        logvar: initial :math:`\log\sigma^2`.
        learn: learn it (a parameter) or keep it fixed (a buffer).
    Shapes:
        params (means): [..., D]; x: [..., D] -> log_prob [...]
    """

    def __init__(self, logvar: float = 0.0, learn: bool = False):
        super().__init__()
        value = torch.tensor(float(logvar))
        if learn:
            self.logvar = nn.Parameter(value)
        else:
            self.register_buffer("logvar", value)

    def log_prob(self, x: Tensor, params: Tensor) -> Tensor:
        return gaussian_log_prob(x, params, self.logvar.to(params.dtype))

    def mean(self, params: Tensor) -> Tensor:
        return params

    def sample(self, params: Tensor) -> Tensor:
        return params + torch.exp(0.5 * self.logvar) * torch.randn_like(params)


LIKELIHOODS = {"bernoulli": BernoulliLikelihood, "gaussian": GaussianLikelihood}


def make_likelihood(name: str) -> nn.Module:
    """The observation model called ``name`` ("bernoulli" or "gaussian")."""
    try:
        return LIKELIHOODS[name]()
    except KeyError:
        raise ValueError(f"unknown likelihood {name!r}; choose one of {sorted(LIKELIHOODS)}") from None
