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
                 order: Sequence[int] | None = None, activation: str = "elu"):
        super().__init__()
        self.dim = int(dim)
        self.made = MADE(self.dim, hidden, 2, context_dim, order, activation)

    def forward(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_dim(z, self.dim, "MAF")
        x = z
        for _ in range(self.dim):   # after pass k the first k variables (in order) are exact
            m, s = self.made(x, context).unbind(-2)
            x = z * torch.exp(s) + m
        return x, s.sum(-1)

    def inverse(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_dim(x, self.dim, "MAF")
        m, s = self.made(x, context).unbind(-2)
        return (x - m) * torch.exp(-s), -s.sum(-1)
