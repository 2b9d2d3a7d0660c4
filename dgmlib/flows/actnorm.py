r"""Activation normalization with data-dependent initialization (Glow; Kingma & Dhariwal, 2018)."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .base import Flow, check_image


class ActNorm(Flow):
    r"""A per-channel affine map of images,

    .. math:: f(z)_{chw} = z_{chw}\, e^{s_c} + b_c,\qquad
              \log|\det \partial f/\partial z| = H W \sum_c s_c .

    Data-dependent initialization: the first call (in either direction) sets (s, b) so that its
    output has zero mean and unit variance per channel over the batch and the pixels, e.g. in the
    density direction ``inverse(y)`` :math:`b_c = \mathrm{mean}(y_c)`, :math:`s_c = \log
    \mathrm{std}(y_c)`. The flag ``initialized`` is a buffer, so a loaded checkpoint keeps its
    (trained) values. After that (s, b) are ordinary parameters.

    Arguments:
        channels: C.
        eps: added to the standard deviation at initialization.
    Shapes:
        z: [B, C, H, W] -> (f(z): [B, C, H, W], log|det|: [B])
    Example:
        >>> norm = ActNorm(3)
        >>> z, _ = norm.inverse(5 + 2 * torch.randn(64, 3, 4, 4))   # z: mean 0, std 1 per channel
    """

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.channels, self.eps = int(channels), float(eps)
        self.log_scale = nn.Parameter(torch.zeros(1, self.channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, self.channels, 1, 1))
        self.register_buffer("initialized", torch.tensor(False))
        self._ready: bool | None = False     # the flag as a Python bool: no device sync per call

    def _load_from_state_dict(self, *args, **kwargs):
        super()._load_from_state_dict(*args, **kwargs)
        self._ready = None                   # read the loaded flag on the next call

    def _needs_init(self) -> bool:
        if self._ready is None:
            self._ready = bool(self.initialized)
        return not self._ready

    @torch.no_grad()
    def _initialize(self, v: Tensor, inverse: bool) -> None:
        mean = v.mean(dim=(0, 2, 3), keepdim=True)
        std = v.std(dim=(0, 2, 3), keepdim=True, unbiased=False) + self.eps
        if inverse:                      # z = (y - b) e^{-s} standardized
            self.bias.copy_(mean)
            self.log_scale.copy_(std.log())
        else:                            # y = z e^{s} + b standardized
            self.log_scale.copy_(-std.log())
            self.bias.copy_(-mean / std)
        self.initialized.fill_(True)
        self._ready = True

    def _log_det(self, z: Tensor) -> Tensor:
        return (self.log_scale.sum() * z.shape[2] * z.shape[3]).expand(z.shape[0])

    def forward(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_image(z, self.channels, "ActNorm")
        if self._needs_init():
            self._initialize(z, inverse=False)
        return z * self.log_scale.exp() + self.bias, self._log_det(z)

    def inverse(self, y: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_image(y, self.channels, "ActNorm")
        if self._needs_init():
            self._initialize(y, inverse=True)
        return (y - self.bias) * torch.exp(-self.log_scale), -self._log_det(y)
