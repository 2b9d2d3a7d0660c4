r"""Elementwise sigmoid squashing: a flow from :math:`\mathbb R^d` onto a box (Dinh et al., 2017)."""
from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn import functional as F

from .base import Flow, check_dim


class Sigmoid(Flow):
    r"""Elementwise squashing :math:`\mathbb R^d \to` a box, with no parameters,

    .. math:: f(z) = \frac{\sigma(z) - \alpha}{1 - 2\alpha},\qquad
              \log\left|\det \frac{\partial f}{\partial z}\right|
              = \sum_i \big[\log\sigma(z_i) + \log\sigma(-z_i)\big] - d \log(1 - 2\alpha),

    and its inverse, the logit transform of Real NVP (Dinh et al., 2017),
    :math:`f^{-1}(y) = \operatorname{logit}\big(\alpha + (1 - 2\alpha) y\big)`. With
    :math:`\alpha = 0` it maps onto the open unit cube :math:`(0, 1)^d` (the last layer of a
    variational dequantizer, whose noise must lie in the cube); with :math:`\alpha > 0` the unit
    cube :math:`[0, 1]^d` maps to the bounded box :math:`[\operatorname{logit}\alpha,
    \operatorname{logit}(1-\alpha)]^d`, which keeps a density model's input away from
    :math:`\pm\infty` at the cube's faces (the model's mass outside that box is lost, so a
    likelihood computed this way is a lower bound on that of the renormalized model).

    Written with log-sigmoids, so the log-determinant is finite for any finite z.

    Arguments:
        dim: size of z.
        alpha: :math:`\alpha \in [0, 1/2)`.
    Shapes:
        z: [..., dim] -> (f(z): [..., dim], log|det df/dz|: [...]);
        inverse: y: [..., dim] -> (f^{-1}(y), log|det df^{-1}/dy|: [...])
    Example:
        >>> f = Sigmoid(3)
        >>> u, log_det = f(torch.randn(5, 3))      # u in (0, 1)^3
    """

    def __init__(self, dim: int, alpha: float = 0.0):
        super().__init__()
        if not 0.0 <= alpha < 0.5:
            raise ValueError(f"alpha must be in [0, 0.5), got {alpha}")
        self.dim, self.alpha = int(dim), float(alpha)

    def _log_det(self, z: Tensor) -> Tensor:
        return (F.logsigmoid(z) + F.logsigmoid(-z)).sum(-1) - self.dim * math.log1p(-2 * self.alpha)

    def forward(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_dim(z, self.dim, "Sigmoid")
        return (torch.sigmoid(z) - self.alpha) / (1 - 2 * self.alpha), self._log_det(z)

    def inverse(self, y: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_dim(y, self.dim, "Sigmoid")
        w = self.alpha + (1 - 2 * self.alpha) * y
        z = torch.log(w) - torch.log1p(-w)
        return z, -self._log_det(z)
