r"""Inverse autoregressive flow (Kingma, Salimans, Jozefowicz, Chen, Sutskever & Welling, 2016)."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import Flow, check_dim
from .made import MADE


class IAF(Flow):
    r"""Inverse autoregressive flow with the numerically stable (gated) update
    (Kingma et al., 2016):

    .. math:: (m, s) = \mathrm{MADE}(z, \text{context}),\quad
              \sigma = \mathrm{sigmoid}(s + \text{forget\_bias}),\quad
              f(z) = \sigma \odot z + (1 - \sigma) \odot m,

    .. math:: \log|\det \partial f/\partial z| = \sum_i \log \sigma_i
              \quad(\text{computed with } \mathrm{logsigmoid}).

    Direction: ``forward`` (noise -> sample, the VAE-posterior direction) is one MADE pass, since
    m and s depend on the input z. ``inverse`` takes d sequential passes: pass k fixes the
    variable of degree k.

    Arguments:
        dim: size of z.
        hidden: MADE hidden sizes.
        context_dim: size of a conditioning input (e.g. the encoder's hidden state h).
        order: autoregressive order of MADE (alternate it between stacked layers).
        forget_bias: added to s; positive values start the gate open (sigma near 1, f near id).
        activation: MADE activation.
    Shapes:
        z: [..., dim] -> (f(z): [..., dim], log|det df/dz|: [...])
    Example:
        >>> f = IAF(4, hidden=(32,), context_dim=8)
        >>> y, log_det = f(torch.randn(10, 4), context=torch.randn(10, 8))
    """

    def __init__(self, dim: int, hidden: Sequence[int] = (64, 64), context_dim: int | None = None,
                 order: Sequence[int] | None = None, forget_bias: float = 1.0,
                 activation: str = "elu"):
        super().__init__()
        self.dim, self.forget_bias = int(dim), float(forget_bias)
        self.made = MADE(self.dim, hidden, 2, context_dim, order, activation)

    def _gate(self, z: Tensor, context: Tensor | None) -> tuple[Tensor, Tensor]:
        m, s = self.made(z, context).unbind(-2)
        return m, s + self.forget_bias

    def forward(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_dim(z, self.dim, "IAF")
        m, s = self._gate(z, context)
        y = torch.sigmoid(s) * z + torch.sigmoid(-s) * m     # 1 - sigmoid(s) = sigmoid(-s)
        return y, F.logsigmoid(s).sum(-1)

    def inverse(self, y: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_dim(y, self.dim, "IAF")
        z = y
        for _ in range(self.dim):   # after pass k the first k variables (in order) are exact
            m, s = self._gate(z, context)
            z = (y - torch.sigmoid(-s) * m) / torch.sigmoid(s)
        return z, -F.logsigmoid(s).sum(-1)
