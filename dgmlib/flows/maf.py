r"""Masked autoregressive flow (Papamakarios, Pavlakou & Murray, 2017)."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from .base import Flow, check_dim
from .made import MADE


class MAF(Flow):
    r"""Masked autoregressive flow (Papamakarios et al., 2017): the data x is generated from
    the noise z autoregressively,

    .. math:: x_i = z_i \exp(s_i) + m_i,\qquad (m, s) = \mathrm{MADE}(x, \text{context}),

    so :math:`(m_i, s_i)` depend on :math:`x_{<i}` only.

    Direction convention (as for every flow here, ``forward`` = noise -> data):

    * ``inverse(x)`` is the density direction, data -> noise, in **one** MADE pass:
      :math:`z = (x - m(x)) \exp(-s(x))`, :math:`\log|\det \partial z/\partial x| = -\sum_i s_i`,
      so :math:`\log p(x) = \log \mathcal N(z; 0, I) - \sum_i s_i(x)`;
    * ``forward(z)`` is sampling, noise -> data, in d sequential passes,
      :math:`\log|\det \partial x/\partial z| = \sum_i s_i`.

    (MAF is IAF run backwards: fast density, slow sampling.)

    Arguments:
        dim: size of x and z.
        hidden: MADE hidden sizes.
        context_dim: size of a conditioning input (a conditional density p(x | context)).
        order: autoregressive order of MADE (alternate it between stacked layers).
        activation: MADE activation.
        scale_bound: the log-scale is soft-clamped, :math:`s = b \tanh(\tilde s / b)`, so that
            :math:`|s| < b` (as IAF's sigmoid gate and the couplings bound theirs): large weights
            cannot make :math:`e^{\pm s}` overflow.
    Shapes:
        z: [..., dim] -> (x: [..., dim], log|det dx/dz|: [...]);
        inverse: x: [..., dim] -> (z: [..., dim], log|det dz/dx|: [...])
    Example:
        >>> f = MAF(2, hidden=(16,))
        >>> x = torch.randn(5, 2)
        >>> z, log_det = f.inverse(x)       # one pass
        >>> log_px = -0.5 * (z ** 2).sum(-1) - math.log(2 * math.pi) + log_det
    """

    def __init__(self, dim: int, hidden: Sequence[int] = (64, 64), context_dim: int | None = None,
                 order: Sequence[int] | None = None, activation: str = "elu", scale_bound: float = 5.0):
        super().__init__()
        if not scale_bound > 0:
            raise ValueError(f"scale_bound must be > 0, got {scale_bound}")
        self.dim, self.scale_bound = int(dim), float(scale_bound)
        self.made = MADE(self.dim, hidden, 2, context_dim, order, activation)

    def _shift_log_scale(self, x: Tensor, context: Tensor | None) -> tuple[Tensor, Tensor]:
        m, s = self.made(x, context).unbind(-2)
        return m, self.scale_bound * torch.tanh(s / self.scale_bound)

    def forward(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_dim(z, self.dim, "MAF")
        x = z
        for _ in range(self.dim):   # after pass k the first k variables (in order) are exact
            m, s = self._shift_log_scale(x, context)
            x = z * torch.exp(s) + m
        return x, s.sum(-1)

    def inverse(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_dim(x, self.dim, "MAF")
        m, s = self._shift_log_scale(x, context)
        return (x - m) * torch.exp(-s), -s.sum(-1)
