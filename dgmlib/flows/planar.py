r"""Planar flow (Rezende & Mohamed, 2015)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import Flow, Parameters, check_dim


class PlanarFlow(Flow):
    r"""Planar flow  :math:`f(z) = z + \hat u \tanh(w^\top z + b)`  (Rezende & Mohamed, 2015).

    :math:`\hat u = u + \big(m(w^\top u) - w^\top u\big)\, w / \|w\|^2` with
    :math:`m(a) = -1 + \mathrm{softplus}(a)` keeps f invertible: :math:`w^\top \hat u \ge -1`.
    The correction is computed as :math:`m(a) - a = -1 + \mathrm{softplus}(-a)`, which stays
    finite for any :math:`w^\top u` (the naive form overflows for :math:`w^\top u > 100`).

    .. math:: \log|\det \partial f/\partial z| = \log|1 + \hat u^\top \psi(z)|,\quad
              \psi(z) = (1 - \tanh^2(w^\top z + b))\, w,

    evaluated as :math:`\log\big(t^2 + (1 - t^2)\,\mathrm{softplus}(w^\top u)\big)`,
    :math:`t = \tanh(w^\top z + b)`: a sum of non-negative terms, no cancellation.
    No closed-form inverse (``inverse`` raises ``NotImplementedError``).

    Arguments:
        dim: size of z.
        context_dim: if given, (u, w, b) are computed per data point from ``context`` [..., c].
    Shapes:
        z: [..., dim] -> (f(z): [..., dim], log|det df/dz|: [...])
    Example:
        >>> f = PlanarFlow(2)
        >>> y, log_det = f(torch.randn(5, 2))     # [5, 2], [5]
    """

    def __init__(self, dim: int, context_dim: int | None = None):
        super().__init__()
        self.dim = int(dim)
        self.params = Parameters({"u": (self.dim,), "w": (self.dim,), "b": (1,)}, context_dim)

    def constrained(self, context: Tensor | None = None) -> dict[str, Tensor]:
        """(u_hat, w, b) and w^T u, shapes [..., dim], [..., dim], [..., 1], [..., 1]."""
        p = self.params(context, "PlanarFlow")
        u, w, b = p["u"], p["w"], p["b"]
        wu = (w * u).sum(-1, keepdim=True)
        w_sq = (w * w).sum(-1, keepdim=True).clamp_min(torch.finfo(w.dtype).tiny)
        u_hat = u + (F.softplus(-wu) - 1.0) * w / w_sq
        return {"u_hat": u_hat, "w": w, "b": b, "wu": wu}

    def forward(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_dim(z, self.dim, "PlanarFlow")
        p = self.constrained(context)
        t = torch.tanh((p["w"] * z).sum(-1, keepdim=True) + p["b"])
        y = z + p["u_hat"] * t
        # 1 + u_hat^T psi = 1 + (1 - t^2)(softplus(w^T u) - 1) = t^2 + (1 - t^2) softplus(w^T u)
        det = t * t + (1.0 - t * t) * F.softplus(p["wu"])
        log_det = det.clamp_min(torch.finfo(det.dtype).tiny).log().squeeze(-1)
        return y, log_det
