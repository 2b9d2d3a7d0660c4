r"""A density made of a base distribution and a flow: the one "base + flow" object of dgmlib.

.. math:: x = f(\epsilon),\ \epsilon \sim p_0, \qquad
          \log p(x) = \log p_0\big(f^{-1}(x)\big) + \log\left|\det \frac{\partial f^{-1}}{\partial x}\right| ,

the pattern of torch's ``TransformedDistribution`` and zuko's ``NormalizingFlow``. It serves the flow
prior (:class:`dgmlib.priors.FlowPrior`), the density of a dequantized flow
(:class:`dgmlib.dequantization.DequantizedFlow`) and the flows fitted to 2-D energies
(:mod:`dgmlib.energies`).
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from ..distributions import StandardNormal


class FlowSample(NamedTuple):
    x: Tensor      # [n, d] draws of the flow distribution
    log_p: Tensor  # [n]    their log-density


class FlowDistribution(nn.Module):
    r"""The distribution of :math:`x = f(\epsilon)`, :math:`\epsilon \sim p_0` (default
    :math:`\mathcal N(0, I_d)`), for a flow f in dgmlib's convention (``forward`` = sampling
    direction, ``inverse`` = density direction; see :mod:`dgmlib.flows.base`).

    ``log_prob`` needs the flow's ``inverse`` (one pass for MAF and couplings);
    ``rsample_and_log_prob`` needs only ``forward`` and works for every flow (planar, Sylvester, IAF).

    Arguments:
        flow: the map f.
        dim: size of x.
        base: a distribution with ``log_prob`` and ``rsample(n)`` (default :class:`~dgmlib.distributions.StandardNormal`).
    Shapes:
        log_prob: x [..., dim] -> [...];  rsample(n), sample(n) -> [n, dim];
        rsample_and_log_prob(n) -> (x [n, dim], log p(x) [n])
    Example:
        >>> q = FlowDistribution(PlanarFlow(2), dim=2)
        >>> x, log_p = q.rsample_and_log_prob(5)
    """

    def __init__(self, flow: nn.Module, dim: int, base: nn.Module | None = None):
        super().__init__()
        self.flow, self.dim = flow, int(dim)
        self.base = StandardNormal(self.dim) if base is None else base

    def _base_draw(self, n: int) -> Tensor:
        """n base draws, in the dtype and on the device of the flow's parameters (if it has any)."""
        p = next(self.flow.parameters(), None)
        if isinstance(self.base, StandardNormal) and p is not None:
            return torch.randn(int(n), self.dim, dtype=p.dtype, device=p.device)
        return self.base.rsample(n)

    def log_prob(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        eps, log_det = self.flow.inverse(x, context)
        return self.base.log_prob(eps) + log_det

    def rsample_and_log_prob(self, n: int, context: Tensor | None = None) -> FlowSample:
        r""":math:`\epsilon \sim p_0`, :math:`x = f(\epsilon)`,
        :math:`\log p(x) = \log p_0(\epsilon) - \log|\det \partial f/\partial\epsilon|` (reparameterized)."""
        eps = self._base_draw(n)
        x, log_det = self.flow(eps, context)
        return FlowSample(x, self.base.log_prob(eps) - log_det)

    def rsample(self, n: int, context: Tensor | None = None) -> Tensor:
        return self.flow(self._base_draw(n), context)[0]

    @torch.no_grad()
    def sample(self, n: int, context: Tensor | None = None) -> Tensor:
        return self.rsample(n, context)
