r"""Variational lower bounds on the mutual information I(x; y) from samples of p(x, y)
(Poole, Ozair, van den Oord, Alemi & Tucker, 2019, "On Variational Bounds of Mutual Information").

- Barber-Agakov (:func:`barber_agakov`): :math:`H(y) + \frac1B\sum_i \log q(y_i|x_i)`; needs a
  conditional density q(y|x) and the entropy H(y) of the marginal.
- InfoNCE (:func:`infonce`): :math:`\frac1B\sum_i \log\frac{e^{f_{ii}}}{\frac1B\sum_j e^{f_{ij}}}`;
  needs a critic f, never exceeds log B.
- NWJ (:func:`nwj`): :math:`\frac1B\sum_i f_{ii} - \frac{1}{e B(B-1)}\sum_{i\ne j} e^{f_{ij}}`;
  needs a critic f, no ceiling, variance growing with I.

A critic is given as the ``[B, B]`` score matrix ``scores[i, j] = f(x_i, y_j)``: the diagonal holds
the B joint pairs, the off-diagonal entries pairs drawn from :math:`p(x)p(y)`.

The correlated Gaussian (:func:`correlated_gaussian`) is the test bed: d independent pairs
:math:`(x_k, y_k)` with correlation :math:`\rho`, for which
:math:`I(x; y) = -\frac d2 \log(1 - \rho^2)` and every optimal critic is known in closed form.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from . import validation
from .distributions import LOG_2PI
from .models import Model


def _check_scores(scores: Tensor, name: str = "scores") -> int:
    if not isinstance(scores, Tensor) or scores.dim() != 2 or scores.shape[0] != scores.shape[1]:
        shape = tuple(scores.shape) if isinstance(scores, Tensor) else type(scores).__name__
        raise ValueError(f"{name} must be a square [B, B] matrix of critic values f(x_i, y_j), got {shape}")
    if scores.shape[0] < 2:
        raise ValueError(f"{name} needs a batch of B >= 2 samples (the off-diagonal pairs are the "
                         f"negatives), got B = {scores.shape[0]}")
    _check_no_nan(scores, name)
    return scores.shape[0]


def _check_no_nan(t: Tensor, name: str) -> None:
    """A ``ValueError`` naming the rows of ``t`` that hold NaN (-inf is a valid log-density)."""
    if validation.enabled() and t.is_floating_point() and bool(t.isnan().any()):
        rows = t.isnan().reshape(t.shape[0], -1).any(-1).nonzero().flatten()[:5].tolist()
        raise ValueError(f"{name} contains {int(t.isnan().sum())} NaN values (rows {rows}); the critic "
                         "or the data that produced them are broken")


def barber_agakov(log_q: Tensor, entropy: float | Tensor | None = None,
                  log_marginal: Tensor | None = None) -> Tensor:
    r"""Barber-Agakov lower bound (Barber & Agakov, 2003):

    .. math:: I(x; y) = H(y) - H(y \mid x) \ge H(y) + \mathbb E_{p(x, y)}[\log q(y \mid x)],

    with equality when :math:`q(y|x) = p(y|x)`; the gap is
    :math:`\mathbb E_{p(x)}\,\mathrm{KL}(p(y|x) \,\|\, q(y|x))`. Give the entropy of the marginal
    either in closed form (``entropy``) or as the log-density of the true marginal at the same
    samples (``log_marginal``, a Monte Carlo entropy :math:`-\frac1B \sum_i \log p(y_i)`).

    Arguments:
        log_q: :math:`\log q(y_i \mid x_i)` at B samples :math:`(x_i, y_i) \sim p(x, y)`.
        entropy: :math:`H(y)` in nats (a number or a 0-d tensor).
        log_marginal: :math:`\log p(y_i)`, the same shape as ``log_q``.
    Shapes:
        log_q: [B], log_marginal: [B] -> [] (nats)
    Example:
        >>> x, y = correlated_gaussian(1000, d=2, rho=0.8)
        >>> barber_agakov(gaussian_conditional_log_prob(x, y, 0.8), entropy=gaussian_entropy(2))
    """
    if not isinstance(log_q, Tensor) or log_q.dim() != 1:
        shape = tuple(log_q.shape) if isinstance(log_q, Tensor) else type(log_q).__name__
        raise ValueError(f"log_q must be a [B] tensor of log q(y_i | x_i), got {shape}")
    if log_q.shape[0] < 2:
        raise ValueError(f"log_q needs a batch of B >= 2 samples, got B = {log_q.shape[0]}")
    _check_no_nan(log_q, "log_q")
    if (entropy is None) == (log_marginal is None):
        raise ValueError("give exactly one of entropy (H(y) in nats) and log_marginal (log p(y_i))")
    if log_marginal is not None:
        if log_marginal.shape != log_q.shape:
            raise ValueError(f"log_marginal must have the shape of log_q {tuple(log_q.shape)}, "
                             f"got {tuple(log_marginal.shape)}")
        _check_no_nan(log_marginal, "log_marginal")
        return (log_q - log_marginal).mean()
    return torch.as_tensor(entropy, dtype=log_q.dtype, device=log_q.device) + log_q.mean()


def infonce(scores: Tensor) -> Tensor:
    r"""InfoNCE lower bound (van den Oord et al., 2018; Poole et al., 2019, eq. 12):

    .. math:: I_{\mathrm{NCE}} = \frac1B \sum_{i=1}^B
              \log \frac{e^{f(x_i, y_i)}}{\frac1B \sum_{j=1}^B e^{f(x_i, y_j)}}
              = \frac1B \sum_i \operatorname{log\,softmax}_j(f_{ij})\big|_{j=i} + \log B
              \;\le\; \log B .

    Each term is a log-softmax over its row, hence :math:`\le 0`, so the estimate never exceeds
    :math:`\log B` whatever the critic (exactly, also in floating point: it never exceeds
    ``log B`` rounded to the scores' dtype). With the optimal critic
    :math:`f(x, y) = \log p(y|x) + c(x)` it is a lower bound whose bias grows as I approaches
    :math:`\log B`.

    Shapes:
        scores: [B, B] with scores[i, j] = f(x_i, y_j) -> [] (nats)
    """
    B = _check_scores(scores)
    diagonal = torch.diagonal(scores) - torch.logsumexp(scores, dim=1)
    return diagonal.mean() + math.log(B)


def nwj(scores: Tensor) -> Tensor:
    r"""NWJ lower bound (Nguyen, Wainwright & Jordan, 2010; the f-GAN KL bound, MINE-f;
    Poole et al., 2019, eq. 8):

    .. math:: I_{\mathrm{NWJ}} = \mathbb E_{p(x, y)}[f(x, y)] - e^{-1}\,\mathbb E_{p(x)p(y)}\big[e^{f(x, y)}\big],

    estimated with the B diagonal (joint) pairs and the :math:`B(B-1)` off-diagonal pairs (from
    the product of marginals). Tight for :math:`f^* = 1 + \log p(y|x)/p(y)`; unbiased for a fixed
    critic, but its variance grows like :math:`e^{I}`. The off-diagonal mean is a log-sum-exp, so
    it stays finite while :math:`e^{f - 1}` does.

    Shapes:
        scores: [B, B] with scores[i, j] = f(x_i, y_j) -> [] (nats)
    """
    B = _check_scores(scores)
    off = ~torch.eye(B, dtype=torch.bool, device=scores.device)
    log_mean_off = torch.logsumexp(scores[off] - 1.0, dim=0) - math.log(B * (B - 1))
    return torch.diagonal(scores).mean() - torch.exp(log_mean_off)


# ------------------------------------------------------------------ the correlated Gaussian

def correlated_gaussian(n: int, d: int, rho: float, generator: torch.Generator | None = None,
                        dtype: torch.dtype | None = None) -> tuple[Tensor, Tensor]:
    r"""n samples of d independent pairs: :math:`x \sim \mathcal N(0, I)`,
    :math:`y = \rho x + \sqrt{1 - \rho^2}\,\epsilon`, so that every :math:`(x_k, y_k)` has unit
    variances and correlation :math:`\rho`.

    Shapes:
        -> (x [n, d], y [n, d])
    """
    if not -1.0 < rho < 1.0:
        raise ValueError(f"rho must lie in (-1, 1), got {rho}")
    opts = dict(generator=generator, dtype=dtype or torch.get_default_dtype())
    x = torch.randn(n, d, **opts)
    return x, rho * x + math.sqrt(1.0 - rho ** 2) * torch.randn(n, d, **opts)


def correlated_gaussian_mi(d: int, rho: float) -> float:
    r""":math:`I(x; y) = -\frac d2 \log(1 - \rho^2)` nats for :func:`correlated_gaussian`."""
    return -0.5 * d * math.log1p(-rho ** 2)


def gaussian_entropy(d: int) -> float:
    r"""Entropy of :math:`\mathcal N(0, I_d)`: :math:`\frac d2 (1 + \log 2\pi)` nats."""
    return 0.5 * d * (1.0 + LOG_2PI)


def gaussian_conditional_log_prob(x: Tensor, y: Tensor, rho: float, scale: float = 1.0) -> Tensor:
    r""":math:`\log q(y \mid x) = \log \mathcal N(y;\ \rho x,\ s^2 (1 - \rho^2) I)`, the exact
    conditional at ``scale`` s = 1 (a misspecified one otherwise), at matching rows.

    Shapes:
        x, y: [B, d] -> [B]
    """
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    var = scale ** 2 * (1.0 - rho ** 2)
    return -0.5 * (LOG_2PI + math.log(var) + (y - rho * x) ** 2 / var).sum(-1)


def gaussian_log_ratio_scores(x: Tensor, y: Tensor, rho: float) -> Tensor:
    r"""The pointwise mutual information of every pair,
    :math:`f_{ij} = \log p(y_j \mid x_i) - \log p(y_j)`: the optimal InfoNCE critic (up to any
    function of x) and, plus one, the optimal NWJ critic.

    Shapes:
        x, y: [B, d] -> [B, B]
    """
    if x.dim() != 2 or x.shape != y.shape:
        raise ValueError(f"x and y must be [B, d] tensors of the same shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    var = 1.0 - rho ** 2
    diff = y[None, :, :] - rho * x[:, None, :]                  # [B (x_i), B (y_j), d]
    cond = -0.5 * (math.log(var) + diff ** 2 / var).sum(-1)
    return cond + 0.5 * (y ** 2).sum(-1)[None, :]


# ------------------------------------------------------------------ a learned critic

class SeparableCritic(nn.Module):
    r"""Separable critic :math:`f(x, y) = g(x)^\top h(y)` (Poole et al., 2019), two MLPs: all
    :math:`B^2` scores cost two forward passes and one matrix product.

    Shapes:
        x: [B, dx], y: [B, dy] -> scores [B, B]
    """

    def __init__(self, x_dim: int, y_dim: int, hidden: int = 64, embed: int = 16):
        super().__init__()
        def mlp(i: int) -> nn.Module:
            return nn.Sequential(nn.Linear(i, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, embed))
        self.g, self.h = mlp(x_dim), mlp(y_dim)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"x and y must hold the same number of samples, got {x.shape[0]} and {y.shape[0]}")
        return self.g(x) @ self.h(y).T


def fit_critic(critic: nn.Module, sample, bound, steps: int = 300, lr: float = 1e-3) -> list[float]:
    r"""Maximize ``bound(critic(x, y))`` over the critic with Adam, a fresh batch
    ``x, y = sample()`` every step. Returns the bound's value at every step (training curve).

    Arguments:
        sample: a function of no arguments returning a joint batch (x [B, dx], y [B, dy]).
        bound: :func:`infonce` or :func:`nwj` (any function of a [B, B] score matrix).
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    opt = torch.optim.Adam(critic.parameters(), lr=lr)
    curve = []
    for _ in range(int(steps)):
        x, y = sample()
        value = bound(critic(x, y))
        opt.zero_grad(set_to_none=True)
        (-value).backward()
        opt.step()
        curve.append(value.item())
    return curve


# ------------------------------------------------------------------ I(x; z) of a VAE

def _gaussian_encoder(model: nn.Module) -> None:
    if getattr(model, "flow", None) is not None:
        raise ValueError("these estimators need a Gaussian q(z|x); this model has a posterior flow")


@torch.no_grad()
def encoder_scores(model: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    r"""One sample :math:`z_i \sim q(z \mid x_i)` per data point and the critic matrix
    :math:`f_{ij} = \log q(z_i \mid x_j)` of the encoder's joint :math:`q(x, z) = p_{\text{data}}(x)\, q(z|x)`,
    with the prior's :math:`\log p(z_i)`.

    ``infonce(scores)`` (rows: a code :math:`z_i` against every image) is then the index-code
    mutual information of ELBO surgery (Hoffman & Johnson, 2016) with one sample per point,
    :math:`\frac1B \sum_i \log q(z_i|x_i) - \log \frac1B \sum_j q(z_i|x_j)`, and ``log B`` its
    ceiling; ``nwj(1 + scores - log_prior[:, None])`` uses the prior in place of the aggregate
    posterior in NWJ's optimal critic (a valid bound for any critic).

    Shapes:
        x: [B, D] -> (scores [B, B], log_prior [B])
    """
    _gaussian_encoder(model)
    if isinstance(model, Model):         # the check fit runs; encoding alone takes any finite input
        model.check_input(x, support=False)
    else:
        validation.check_tensor(x)
        validation.check_finite(x)
    if x.dim() != 2 or x.shape[0] < 2:
        raise ValueError(f"x must be a [B, D] batch with B >= 2, got shape {tuple(x.shape)}")
    mu, logvar = model.encoder(x)
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
    diff = z[:, None, :] - mu[None, :, :]                                   # [B (z_i), B (x_j), d]
    scores = -0.5 * (LOG_2PI + logvar[None] + diff ** 2 * torch.exp(-logvar[None])).sum(-1)
    return scores, model.prior.log_prob(z)


@torch.no_grad()
def generative_barber_agakov(model: nn.Module, n: int) -> Tensor:
    r"""Barber-Agakov bound on the mutual information of the *model's* joint
    :math:`p(z)\,p(x|z)`, with the encoder as the variational conditional:

    .. math:: I_p(x; z) \ge H(z) + \mathbb E_{z \sim p(z),\, x \sim p(x|z)}[\log q(z \mid x)],

    :math:`H(z)` estimated as :math:`-\frac1n\sum_i \log p(z_i)` at the same samples. Needs a
    decoder without autoregression (x is drawn from p(x|z) in one pass).

    Shapes:
        -> [] (nats)
    """
    _gaussian_encoder(model)
    n = validation.check_positive_int(n, "n")
    if n < 2:
        raise ValueError(f"n must be >= 2 samples, got {n}")
    z = model.prior.sample(int(n))
    x = model.likelihood.sample(model.decoder(z))
    mu, logvar = model.encoder(x)
    log_q = -0.5 * (LOG_2PI + logvar + (z - mu) ** 2 * torch.exp(-logvar)).sum(-1)
    return barber_agakov(log_q, log_marginal=model.prior.log_prob(z))
