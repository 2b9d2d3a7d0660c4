r"""Multi-scale image flows (RealNVP, Dinh et al., 2017; Glow, Kingma & Dhariwal, 2018): couplings
at the input resolution, then squeezes to coarser resolutions, factoring out half the channels to
the base after each intermediate one."""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor, nn

from ..distributions import StandardNormal
from .actnorm import ActNorm
from .base import Flow, check_context, check_dim, check_image
from .conv1x1 import InvertibleConv1x1
from .conv_coupling import ConvAffineCoupling
from .squeeze import squeeze, unsqueeze


def _per_level(value: int | Sequence[int], scales: int, name: str) -> list[int]:
    values = [int(value)] * scales if isinstance(value, (int, float)) else [int(v) for v in value]
    if len(values) != scales:
        raise ValueError(f"{name} must be one number or one per scale ({scales}), got {value!r}")
    return values


class MultiScaleFlow(Flow):
    r"""A RealNVP / Glow-style flow on images of shape (C, H, W), written as a flow on the flat
    vectors :math:`x \in \mathbb R^D`, :math:`D = CHW` (so it fits every consumer of vector flows:
    :class:`~dgmlib.flows.distribution.FlowDistribution`,
    :class:`~dgmlib.dequantization.DequantizedFlow`).

    In the density direction (``inverse``, data -> base) level 0 applies ``couplings[0]``
    checkerboard couplings at the input resolution; each level l >= 1 squeezes (space-to-depth,
    4x the channels at half the height and width) and applies ``couplings[l]`` channel-mask
    couplings; after every level 0 < l < scales - 1 half the channels are factored out: they are
    base variables from there on (the multi-scale split). A step is
    [:class:`~dgmlib.flows.actnorm.ActNorm`] -> [:class:`~dgmlib.flows.conv1x1.InvertibleConv1x1`,
    levels >= 1] -> :class:`~dgmlib.flows.conv_coupling.ConvAffineCoupling` (mask parity
    alternating). The base vector z is the concatenation of the factored-out parts and the last
    level's output, flattened, and

    .. math:: \log p(x) = \log \mathcal N\big(z; 0, I_D\big)
              + \sum_{\text{steps}} \log\left|\det \frac{\partial h_{k}}{\partial h_{k-1}}\right|,
              \qquad z = f^{-1}(x)

    (squeezes and splits are permutations: they add nothing). ``forward`` is the sampling
    direction, base -> image, as for every flow of :mod:`dgmlib.flows`.

    Arguments:
        shape: (C, H, W) of the images; H and W divisible by :math:`2^{\text{scales} - 1}`.
        scales: number of resolutions (3 on 28x28 MNIST: 28, 14, 7).
        couplings: couplings per level (one number, or one per level).
        hidden: maps of each coupling's network (one number, or one per level).
        blocks: gated blocks of each coupling's network.
        actnorm: an ActNorm before each coupling (data-dependent init on the first batch).
        conv1x1: an invertible 1x1 convolution before each coupling of levels >= 1 (Glow).
        lu: the 1x1 convolutions' LU parameterization.
        context_channels: channels of a conditioning image of the same height and width (a
            conditional flow); it is passed flat, [..., context_channels * H * W], and squeezed
            with the flow, so each level's couplings see it at their resolution.
        scale_bound: initial bound of the couplings' log-scales.
    Shapes:
        z: [..., D], context: [..., c H W] or None -> (x: [..., D], log|det dx/dz|: [...]);
        log_prob: x [N, C, H, W] -> [N];  sample(n) -> [n, C, H, W]
    Example:
        >>> f = MultiScaleFlow((1, 8, 8), scales=2, couplings=2, hidden=8)
        >>> f.log_prob(torch.rand(5, 1, 8, 8)).shape
        torch.Size([5])
    """

    def __init__(self, shape: Sequence[int], scales: int = 3, couplings: int | Sequence[int] = 2,
                 hidden: int | Sequence[int] = 32, blocks: int = 2, actnorm: bool = True, conv1x1: bool = True,
                 lu: bool = True, context_channels: int | None = None, scale_bound: float = 1.0):
        super().__init__()
        if len(shape) != 3 or min(int(s) for s in shape) < 1:
            raise ValueError(f"shape must be (C, H, W) of positive sizes, got {tuple(shape)}")
        self.shape = tuple(int(s) for s in shape)
        c, h, w = self.shape
        self.dim = c * h * w
        self.scales = int(scales)
        if self.scales < 1:
            raise ValueError(f"scales must be >= 1, got {scales}")
        if h % 2 ** (self.scales - 1) or w % 2 ** (self.scales - 1):
            raise ValueError(f"{self.scales} scales halve the images {self.scales - 1} times: H and W must be "
                             f"divisible by {2 ** (self.scales - 1)}, got {h}x{w}")
        n_couplings = _per_level(couplings, self.scales, "couplings")
        widths = _per_level(hidden, self.scales, "hidden")
        if min(n_couplings) < 0 or sum(n_couplings) < 1:
            raise ValueError(f"couplings must be >= 0 per level and >= 1 in all, got {couplings!r}")
        self.context_channels = None if context_channels is None else int(context_channels)
        self.context_dim = None if context_channels is None else self.context_channels * h * w
        self.levels = nn.ModuleList()
        self.factored: list[tuple[int, int, int]] = []      # (channels, H, W) factored out after each level
        for level in range(self.scales):
            if level > 0:
                c, h, w = 4 * c, h // 2, w // 2
            context = None if context_channels is None else self.context_channels * 4 ** level
            steps: list[nn.Module] = []
            for i in range(n_couplings[level]):
                if actnorm:
                    steps.append(ActNorm(c))
                if conv1x1 and level > 0:
                    steps.append(InvertibleConv1x1(c, lu))
                steps.append(ConvAffineCoupling(c, "checkerboard" if level == 0 else "channel", i % 2, widths[level],
                                                blocks, context, scale_bound))
            self.levels.append(nn.ModuleList(steps))
            out = c // 2 if 0 < level < self.scales - 1 else 0
            self.factored.append((out, h, w))
            c -= out
        self.top = (c, h, w)
        self.base = StandardNormal(self.dim)

    def _contexts(self, context: Tensor | None, lead: torch.Size) -> list[Tensor | None]:
        if self.context_channels is None:
            return [None] * self.scales
        check_context(context, self.context_dim, "MultiScaleFlow")
        ctx = context.expand(*lead, self.context_dim).reshape(-1, self.context_channels, *self.shape[1:])
        out = [ctx]
        for _ in range(self.scales - 1):
            out.append(squeeze(out[-1]))
        return out

    def _lead(self, v: Tensor, context: Tensor | None) -> torch.Size:
        check_dim(v, self.dim, "MultiScaleFlow")
        if self.context_channels is None or context is None:
            return v.shape[:-1]
        return torch.broadcast_shapes(v.shape[:-1], context.shape[:-1])

    def inverse(self, y: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        lead = self._lead(y, context)
        contexts = self._contexts(context, lead)
        h = y.expand(*lead, self.dim).reshape(-1, *self.shape)
        total = h.new_zeros(h.shape[0])
        parts = []
        for level, steps in enumerate(self.levels):
            if level > 0:
                h = squeeze(h)
            for step in steps:
                h, log_det = step.inverse(h, contexts[level])
                total = total + log_det
            out = self.factored[level][0]
            if out:
                h, gone = h[:, :h.shape[1] - out], h[:, h.shape[1] - out:]
                parts.append(gone.flatten(1))
        parts.append(h.flatten(1))
        return torch.cat(parts, 1).reshape(*lead, self.dim), total.reshape(lead)

    def forward(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        lead = self._lead(z, context)
        contexts = self._contexts(context, lead)
        flat = z.expand(*lead, self.dim).reshape(-1, self.dim)
        sizes = [math.prod(f) for f in self.factored if f[0]] + [math.prod(self.top)]
        pieces = list(flat.split(sizes, 1))
        h = pieces.pop().reshape(-1, *self.top)
        total = h.new_zeros(h.shape[0])
        for level in reversed(range(self.scales)):
            out, oh, ow = self.factored[level]
            if out:
                h = torch.cat([h, pieces.pop().reshape(-1, out, oh, ow)], 1)
            for step in reversed(self.levels[level]):
                h, log_det = step(h, contexts[level])
                total = total + log_det
            if level > 0:
                h = unsqueeze(h)
        return h.reshape(*lead, self.dim), total.reshape(lead)

    def log_prob(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        r""":math:`\log p(x)` of images x [N, C, H, W] under the standard normal base (nats) -> [N]."""
        check_image(x, self.shape[0], "MultiScaleFlow.log_prob")
        if tuple(x.shape[1:]) != self.shape:
            raise ValueError(f"MultiScaleFlow.log_prob takes images [N, {', '.join(map(str, self.shape))}], "
                             f"got shape {tuple(x.shape)}")
        z, log_det = self.inverse(x.reshape(x.shape[0], self.dim), context)
        return self.base.log_prob(z) + log_det

    @torch.no_grad()
    def sample(self, n: int, context: Tensor | None = None) -> Tensor:
        r"""n images :math:`x = f(z)`, :math:`z \sim \mathcal N(0, I)`, in the dtype and on the device of
        the parameters -> [n, C, H, W]."""
        p = next(self.parameters())
        z = torch.randn(int(n), self.dim, dtype=p.dtype, device=p.device)
        return self(z, context)[0].reshape(int(n), *self.shape)
