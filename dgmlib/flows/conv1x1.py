r"""Invertible 1x1 convolution (Glow; Kingma & Dhariwal, 2018): a learned mixing of the channels."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .base import Flow, check_image


class InvertibleConv1x1(Flow):
    r"""The same invertible C x C matrix W applied to the channels of every pixel,

    .. math:: f(z)_{:, h, w} = W z_{:, h, w},\qquad
              \log|\det \partial f/\partial z| = H W \log|\det W| .

    With ``lu=True`` (Glow's LU parameterization) :math:`W = P L (U + \mathrm{diag}(\mathrm{sign}
    \odot e^{\ell}))` with a fixed permutation P and signs, L unit lower triangular and U strictly
    upper triangular, so :math:`\log|\det W| = \sum_c \ell_c` costs O(C); otherwise W is a free
    matrix and the log-determinant comes from ``slogdet``. W starts as a random rotation. The
    inverse applies :math:`W^{-1}`.

    Arguments:
        channels: C.
        lu: the LU parameterization (default) or a plain matrix.
    Shapes:
        z: [B, C, H, W] -> (f(z): [B, C, H, W], log|det|: [B])
    Example:
        >>> f = InvertibleConv1x1(4)
        >>> y, log_det = f(torch.randn(2, 4, 3, 3))    # log_det ~ 0: W starts orthogonal
    """

    def __init__(self, channels: int, lu: bool = True):
        super().__init__()
        self.channels, self.lu = int(channels), bool(lu)
        w = torch.linalg.qr(torch.randn(self.channels, self.channels))[0]
        if not self.lu:
            self.weight = nn.Parameter(w)
            return
        p, lower, upper = torch.linalg.lu(w)
        diag = torch.diagonal(upper)
        self.register_buffer("permutation", p)
        self.register_buffer("sign", torch.sign(diag))
        self.register_buffer("lower_mask", torch.tril(torch.ones_like(w), -1))
        self.lower = nn.Parameter(lower * self.lower_mask)
        self.upper = nn.Parameter(torch.triu(upper, 1))
        self.log_diag = nn.Parameter(diag.abs().log())

    def matrix(self) -> Tensor:
        """W, [C, C]."""
        if not self.lu:
            return self.weight
        eye = torch.eye(self.channels, dtype=self.lower.dtype, device=self.lower.device)
        lower = self.lower * self.lower_mask + eye
        upper = self.upper * self.lower_mask.T + torch.diag(self.sign * self.log_diag.exp())
        return self.permutation @ lower @ upper

    def log_abs_det(self) -> Tensor:
        r""":math:`\log|\det W|`, a scalar."""
        return self.log_diag.sum() if self.lu else torch.linalg.slogdet(self.weight).logabsdet

    def _mix(self, w: Tensor, z: Tensor) -> Tensor:
        return torch.einsum("ij,bjhw->bihw", w, z)

    def forward(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_image(z, self.channels, "InvertibleConv1x1")
        log_det = self.log_abs_det() * z.shape[2] * z.shape[3]
        return self._mix(self.matrix(), z), log_det.expand(z.shape[0])

    def inverse(self, y: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_image(y, self.channels, "InvertibleConv1x1")
        log_det = -self.log_abs_det() * y.shape[2] * y.shape[3]
        return self._mix(torch.linalg.inv(self.matrix()), y), log_det.expand(y.shape[0])
