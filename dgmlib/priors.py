r"""Priors :math:`p(z)` over the latent space: each has ``log_prob(z)`` and ``sample(n)``.

A prior may also offer ``kl(mu, logvar)``, the closed-form
:math:`\mathrm{KL}(\mathcal N(\mu, \sigma^2) \| p)`; objectives fall back to a Monte Carlo
estimate where it has none.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .distributions import kl_normal


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
