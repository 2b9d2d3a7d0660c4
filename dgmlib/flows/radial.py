r"""Radial flow (Rezende & Mohamed, 2015)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import Flow, Parameters, check_dim


class RadialFlow(Flow):
    r"""Radial flow  :math:`f(z) = z + \beta\, h(\alpha, r)\,(z - z_0)`,
    :math:`h = 1/(\alpha + r)`, :math:`r = \|z - z_0\|`  (Rezende & Mohamed, 2015).

    :math:`\alpha = \mathrm{softplus}(\alpha_{raw}) > 0` and
    :math:`\beta = -\alpha + \mathrm{softplus}(\beta_{raw}) \ge -\alpha` keep f invertible.

    .. math:: \log|\det \partial f/\partial z| = (d-1)\log(1 + \beta h)
              + \log(1 + \beta h + \beta h'(r)\, r),\qquad h' = -h^2,

    evaluated as :math:`(d-1)[\log(s + r) - \log(\alpha + r)] + \log(r^2 + 2\alpha r + \alpha s)
    - 2\log(\alpha + r)` with :math:`s = \alpha + \beta = \mathrm{softplus}(\beta_{raw})`:
    sums of positive terms. The inverse is closed-form: :math:`r` solves
    :math:`r^2 + (s - \|y - z_0\|)\, r - \alpha \|y - z_0\| = 0` (its positive root).

    Arguments:
        dim: size of z.
        context_dim: if given, (z0, alpha, beta) are computed per data point from ``context``.
    Shapes:
        z: [..., dim] -> (f(z): [..., dim], log|det df/dz|: [...])
    Example:
        >>> f = RadialFlow(2)
        >>> y, log_det = f(torch.randn(5, 2))
        >>> z, _ = f.inverse(y)                  # z == the input, to rounding
    """

    def __init__(self, dim: int, context_dim: int | None = None):
        super().__init__()
        self.dim = int(dim)
        self.params = Parameters({"z0": (self.dim,), "alpha": (1,), "beta": (1,)}, context_dim)

    def constrained(self, context: Tensor | None = None) -> dict[str, Tensor]:
        """z0 [..., dim], alpha [..., 1], beta [..., 1] and s = alpha + beta [..., 1]."""
        p = self.params(context, "RadialFlow")
        alpha, s = F.softplus(p["alpha"]), F.softplus(p["beta"])
        return {"z0": p["z0"], "alpha": alpha, "beta": s - alpha, "s": s}

    def _log_det(self, r: Tensor, alpha: Tensor, s: Tensor) -> Tensor:
        log_ar = torch.log(alpha + r)
        return ((self.dim - 1) * (torch.log(s + r) - log_ar)
                + torch.log(r * (r + 2 * alpha) + alpha * s) - 2 * log_ar).squeeze(-1)

    def forward(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_dim(z, self.dim, "RadialFlow")
        p = self.constrained(context)
        diff = z - p["z0"]
        r = diff.norm(dim=-1, keepdim=True)
        y = z + p["beta"] / (p["alpha"] + r) * diff
        return y, self._log_det(r, p["alpha"], p["s"])

    def inverse(self, y: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_dim(y, self.dim, "RadialFlow")
        p = self.constrained(context)
        alpha, s = p["alpha"], p["s"]
        diff = y - p["z0"]
        ry = diff.norm(dim=-1, keepdim=True)
        # r^2 + B r - C = 0 with B = s - ry, C = alpha ry >= 0: the stable positive root
        B, C = s - ry, alpha * ry
        sq = torch.sqrt(B * B + 4 * C)
        tiny = torch.finfo(y.dtype).tiny
        r = torch.where(B >= 0, 2 * C / (B + sq).clamp_min(tiny), (sq - B) / 2)
        z = p["z0"] + diff * (alpha + r) / (s + r)
        return z, -self._log_det(r, alpha, s)
