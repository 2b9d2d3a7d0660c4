r"""Priors :math:`p(z)` over the latent space: each has ``log_prob(z)`` and ``sample(n)``.

A prior may also offer ``kl(mu, logvar)``, the closed-form
:math:`\mathrm{KL}(\mathcal N(\mu, \sigma^2) \| p)`; objectives fall back to a Monte Carlo
estimate where it has none.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .distributions import kl_normal, log_mean_normal


class StandardNormal(nn.Module):
    r"""The standard normal prior :math:`p(z) = \mathcal N(0, I_d)`.

    Arguments:
        dim: size of z.
    Shapes:
        log_prob: z [..., dim] -> [...];  sample(n) -> [n, dim]
    Example:
        >>> StandardNormal(2).log_prob(torch.zeros(2))   # -log(2 pi)
        tensor(-1.8379)
    """

    def __init__(self, dim: int):
        super().__init__()
        self.dim = int(dim)
        # a buffer only to know the device and dtype the prior lives on
        self.register_buffer("_anchor", torch.zeros(()), persistent=False)

    def log_prob(self, z: Tensor) -> Tensor:
        if z.shape[-1] != self.dim:
            raise ValueError(f"z has {z.shape[-1]} dimensions, the prior {self.dim}")
        return -0.5 * (z ** 2).sum(-1) - 0.5 * self.dim * math.log(2 * math.pi)

    def sample(self, n: int) -> Tensor:
        return torch.randn(n, self.dim, device=self._anchor.device, dtype=self._anchor.dtype)

    def kl(self, mu: Tensor, logvar: Tensor) -> Tensor:
        r"""Closed form :math:`\mathrm{KL}(\mathcal N(\mu, \sigma^2) \| \mathcal N(0, I))`, shape [...]."""
        return kl_normal(mu, logvar)


class AggregatePosterior(nn.Module):
    r"""The aggregated posterior as a prior, :math:`p(z) = q(z) = \frac1N \sum_{i=1}^N q(z|x_i)`:
    the prior that maximizes the ELBO for a given encoder (Hoffman & Johnson, 2016; Tomczak &
    Welling, 2018). It costs O(N) per evaluation and memorizes the training set.

    Arguments:
        encoder: x [..., D] -> (mu, logvar) [..., d], shared with the VAE (gradients reach it).
        x: the data points [N, D] (stored as a buffer).
        chunk: memory bound of the log-sum-exp over N.
    Shapes:
        log_prob: z [..., d] -> [...];  sample(n) -> [n, d]
    """

    def __init__(self, encoder: nn.Module, x: Tensor, chunk: int = 512):
        super().__init__()
        self.encoder, self.chunk = encoder, int(chunk)
        self.register_buffer("x", x)
        with torch.no_grad():
            self.dim = int(encoder(x[:1])[0].shape[-1])

    def log_prob(self, z: Tensor) -> Tensor:
        if z.shape[-1] != self.dim:
            raise ValueError(f"z has {z.shape[-1]} dimensions, the prior {self.dim}")
        mu, logvar = self.encoder(self.x)
        return log_mean_normal(z.reshape(-1, self.dim), mu, logvar, self.chunk).reshape(z.shape[:-1])

    def sample(self, n: int) -> Tensor:
        """Pick a data point uniformly, then draw z ~ q(z|x_i)."""
        mu, logvar = self.encoder(self.x[torch.randint(len(self.x), (n,), device=self.x.device)])
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
