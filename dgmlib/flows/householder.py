r"""Householder flow (Tomczak & Welling, 2016)."""
from __future__ import annotations

import torch
from torch import Tensor

from .base import Flow, Parameters, check_dim


def reflect(z: Tensor, v: Tensor) -> Tensor:
    r"""The Householder reflection :math:`H z = z - 2 v (v^\top z) / \|v\|^2`.

    Shapes:
        z: [..., d], v: [..., d] (broadcastable) -> [..., d]
    """
    v_sq = (v * v).sum(-1, keepdim=True).clamp_min(torch.finfo(v.dtype).tiny)
    return z - 2 * v * (v * z).sum(-1, keepdim=True) / v_sq


def unit_vectors(v: Tensor) -> Tensor:
    r""":math:`v / \|v\|` over the last axis (a zero vector stays zero): normalized once, a sequence
    of reflections costs four operations each (:func:`reflect_unit`) instead of nine.

    Shapes:
        v: [..., d] -> [..., d]
    """
    return v / (v * v).sum(-1, keepdim=True).clamp_min(torch.finfo(v.dtype).tiny).sqrt()


def reflect_unit(z: Tensor, u: Tensor) -> Tensor:
    r"""The Householder reflection :math:`H z = z - 2 u (u^\top z)` for a unit vector u: the same
    as :func:`reflect` with v = u.

    Shapes:
        z: [..., d], u: [..., d] (broadcastable) -> [..., d]
    """
    return z - 2 * u * (u * z).sum(-1, keepdim=True)


class HouseholderFlow(Flow):
    r"""Householder flow  :math:`f(z) = H_n \cdots H_1 z`,
    :math:`H_t = I - 2\, v_t v_t^\top / \|v_t\|^2`  (Tomczak & Welling, 2016).

    Each :math:`H_t` is a reflection (orthogonal and symmetric), so the flow is volume
    preserving: :math:`\log|\det| = 0`; a product of d reflections can express any orthogonal
    matrix. The inverse applies the same reflections in reverse order.

    Arguments:
        dim: size of z.
        n: number of reflections.
        context_dim: if given, the vectors :math:`v_t` are computed per data point from
            ``context`` (as in the paper, where the encoder outputs them).
    Shapes:
        z: [..., dim] -> (f(z): [..., dim], log|det| = 0: [...])
    Example:
        >>> f = HouseholderFlow(3, n=2)
        >>> y, log_det = f(torch.randn(5, 3))    # log_det == 0
    """

    def __init__(self, dim: int, n: int = 1, context_dim: int | None = None):
        super().__init__()
        if n < 1:
            raise ValueError(f"HouseholderFlow needs n >= 1 reflections, got {n}")
        self.dim, self.n = int(dim), int(n)
        self.params = Parameters({"v": (self.n, self.dim)}, context_dim, std=1.0)

    def _reflect_all(self, z: Tensor, context: Tensor | None, order) -> tuple[Tensor, Tensor]:
        check_dim(z, self.dim, "HouseholderFlow")
        u = unit_vectors(self.params(context, "HouseholderFlow")["v"])
        for t in order:
            z = reflect_unit(z, u[..., t, :])
        return z, z.new_zeros(z.shape[:-1])

    def forward(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self._reflect_all(z, context, range(self.n))

    def inverse(self, y: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self._reflect_all(y, context, reversed(range(self.n)))
