r"""Densities and the numerics shared by every objective (the observation models built on them: :mod:`dgmlib.likelihoods`).

Everything sums over the event (last) dimension and keeps the batch dimensions, so a
``[K, batch, D]`` input gives a ``[K, batch]`` result. Built on ``torch.distributions`` with
``validate_args=False`` per instance (hot paths; the global default is never changed).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.distributions import Independent, Normal


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


class StandardNormal(nn.Module):
    r"""The standard normal :math:`\mathcal N(0, I_d)`: the VAE's default prior and the base of
    every flow (:class:`~dgmlib.flows.distribution.FlowDistribution`).

    Arguments:
        dim: size of z.
    Shapes:
        log_prob: z [..., dim] -> [...];  sample(n), rsample(n) -> [n, dim]
    Example:
        >>> StandardNormal(2).log_prob(torch.zeros(2))   # -log(2 pi)
        tensor(-1.8379)
    """

    def __init__(self, dim: int):
        super().__init__()
        if int(dim) < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        self.dim = int(dim)
        # a buffer only to know the device and dtype the distribution lives on
        self.register_buffer("_anchor", torch.zeros(()), persistent=False)

    def log_prob(self, z: Tensor) -> Tensor:
        if z.dim() == 0 or z.shape[-1] != self.dim:
            raise ValueError(f"z must be [..., {self.dim}] ({self.dim} dimensions), got shape {tuple(z.shape)}")
        return -0.5 * (z ** 2).sum(-1) - 0.5 * self.dim * LOG_2PI

    def rsample(self, n: int) -> Tensor:
        return torch.randn(int(n), self.dim, device=self._anchor.device, dtype=self._anchor.dtype)

    @torch.no_grad()
    def sample(self, n: int) -> Tensor:
        return self.rsample(n)

    def kl(self, mu: Tensor, logvar: Tensor) -> Tensor:
        r"""Closed form :math:`\mathrm{KL}(\mathcal N(\mu, \sigma^2) \| \mathcal N(0, I))`, shape [...]."""
        return kl_normal(mu, logvar)


def log_sigmoid_difference(a: Tensor, b: Tensor) -> Tensor:
    r"""Numerically stable :math:`\log\big(\sigma(a) - \sigma(b)\big)` for :math:`a > b`.

    .. math:: \sigma(a) - \sigma(b) = \frac{e^a - e^b}{(1 + e^a)(1 + e^b)}
              \;\Rightarrow\;
              \log\big(\sigma(a) - \sigma(b)\big) = a + \log\big(1 - e^{b - a}\big)
              - \operatorname{softplus}(a) - \operatorname{softplus}(b),

    with :math:`\log(1 - e^{-d})` from ``log(-expm1(-d))`` for small d and ``log1p(-exp(-d))``
    for large d (Maechler, 2012). Unlike ``log(sigmoid(a) - sigmoid(b))`` it stays accurate when
    both sigmoids round to 0 or to 1 (e.g. a = 40, b = 39.9: the naive form gives ``-inf``).
    Where :math:`a \le b` the result is ``-inf`` (or NaN), so callers keep :math:`a > b`.

    Shapes:
        a, b: broadcastable -> broadcast shape
    """
    d = a - b
    ln2 = math.log(2.0)   # each branch sees only its own range, so neither has an infinite gradient
    log1mexp = torch.where(d < ln2, torch.log(-torch.expm1(-d.clamp(max=ln2))),
                           torch.log1p(-torch.exp(-d.clamp(min=ln2))))
    return a + log1mexp - nn.functional.softplus(a) - nn.functional.softplus(b)


#: Log-scales of the discretized logistic are clamped to this range (PixelCNN++ uses -7 as the floor).
LOG_SCALE_MIN, LOG_SCALE_MAX = -7.0, 7.0


def discretized_logistic_log_prob(x: Tensor, loc: Tensor, log_scale: Tensor, levels: int,
                                  reduce: bool = True) -> Tensor:
    r"""Log-probability of grey levels under a discretized logistic (Kingma et al., 2016;
    Salimans et al., 2017): a logistic density of location :math:`\mu` and scale :math:`s`
    integrated over the bin of each of the L levels.

    The data are on the grid :math:`x \in \{0, \tfrac{1}{L-1}, \dots, 1\}` (as
    ``dgmlib.load(..., binarize=False)`` gives them); with the half bin width
    :math:`h = \tfrac{1}{2(L-1)}`,

    .. math:: P(x) = \begin{cases}
              \sigma\big(\tfrac{x + h - \mu}{s}\big) & x = 0 \quad(\text{the bin reaches } -\infty)\\
              1 - \sigma\big(\tfrac{x - h - \mu}{s}\big) & x = 1 \quad(\text{the bin reaches } +\infty)\\
              \sigma\big(\tfrac{x + h - \mu}{s}\big) - \sigma\big(\tfrac{x - h - \mu}{s}\big) & \text{otherwise,}
              \end{cases}

    so the L probabilities sum to 1 exactly. Computed in log space: ``logsigmoid`` at the edges,
    :func:`log_sigmoid_difference` inside, finite for any location and any log-scale
    (clamped to [LOG_SCALE_MIN, LOG_SCALE_MAX]).

    Arguments:
        x: grey levels k / (L - 1), k = 0..L-1 (values off the grid are rounded to the nearest level).
        loc, log_scale: :math:`\mu` and :math:`\log s`, in the same units as x.
        levels: L, the number of grey levels (17 for the 8x8 digits, 256 for 8-bit images).
        reduce: sum over the last dimension (a likelihood of the whole image), else per pixel.
    Shapes:
        x, loc, log_scale: broadcastable to [..., D] -> [...] (or [..., D] with ``reduce=False``)
    """
    if levels < 2:
        raise ValueError(f"a discretized likelihood needs at least 2 levels, got {levels}")
    x, loc, log_scale = torch.broadcast_tensors(x, loc, log_scale)
    k = torch.round(x * (levels - 1)).clamp(0, levels - 1)
    half = 0.5 / (levels - 1)
    inv_s = torch.exp(-log_scale.clamp(LOG_SCALE_MIN, LOG_SCALE_MAX))
    centre = k / (levels - 1) - loc
    upper, lower = (centre + half) * inv_s, (centre - half) * inv_s
    first = nn.functional.logsigmoid(upper)                       # log sigma(upper): the bin from -inf
    last = nn.functional.logsigmoid(-lower)                       # log(1 - sigma(lower)): the bin to +inf
    middle = log_sigmoid_difference(upper, lower)
    out = torch.where(k == 0, first, torch.where(k == levels - 1, last, middle))
    return out.sum(-1) if reduce else out
