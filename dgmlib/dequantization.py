r"""Dequantization: continuous densities as models of discrete data, and the bounds that make the
comparison fair (Theis, van den Oord & Bethge, 2016; Ho et al., 2019).

Grey levels :math:`k \in \{0, \dots, L-1\}^D` (stored as :math:`x = k / (L-1)` in [0, 1], as
``dgmlib.load(..., binarize=False)`` gives them) are mapped into the unit cube by
:math:`y = (k + u) / L` with noise :math:`u \in [0, 1)^D`. For any density :math:`p` on the unit cube
the discrete model :math:`P(k) = \int_{[0,1)^D} p\big((k + u)/L\big) L^{-D}\, du` is a probability
mass function, and for any noise distribution :math:`q(u \mid k)` on :math:`[0, 1)^D` Jensen's
inequality gives

.. math:: \log P(k) \;\ge\; \mathbb E_{q(u|k)}\Big[\log p\Big(\frac{k + u}{L}\Big) - D \log L
          - \log q(u \mid k)\Big],

with equality iff :math:`q(u \mid k) = p\big((k+u)/L\big) L^{-D} / P(k)`, the "posterior" of the
noise. Uniform dequantization is :math:`q = 1` (Theis et al., 2016); variational dequantization
learns :math:`q` as a conditional flow squashed into the cube (Ho et al., 2019, Flow++). The noise is
a latent variable and the bound an ELBO, so a :class:`DequantizedFlow` exposes the same
``terms(x, K).log_w`` [K, B] as a VAE and works with :func:`dgmlib.objectives.elbo`,
:func:`~dgmlib.objectives.iwae_bound`, :func:`dgmlib.train.fit` and
:func:`dgmlib.metrics.log_marginal_likelihood`.
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple, Sequence

import torch
from torch import Tensor, nn

from .flows import AffineCoupling, Compose, FlowDistribution, MultiScaleFlow, Sigmoid
from .models.base import Model
from .validation import check_positive_int

DEQUANTIZATIONS = ("uniform", "variational")


def quantize(x: Tensor, levels: int) -> Tensor:
    r"""The integer grey levels :math:`k = (L-1)\, x` of data stored in [0, 1] (as a float tensor
    of x's dtype). Raises ``ValueError`` for NaN, values outside [0, 1] or off the grid.

    Shapes:
        x: [..., D] -> [..., D]
    """
    if levels < 2:
        raise ValueError(f"discrete data need at least 2 levels, got {levels}")
    k = torch.round(x * (levels - 1))
    bad = torch.isnan(x) | (x < 0) | (x > 1) | ((x * (levels - 1) - k).abs() > 1e-3)
    if bool(bad.any()):
        raise ValueError(f"x must hold grey levels k/(L-1) in [0, 1] with L = {levels} (as "
                         "dgmlib.load(..., binarize=False) gives them); found NaN, out-of-range or "
                         "off-grid values: check the data and the number of levels")
    return k


def dequantize(k: Tensor, u: Tensor, levels: int) -> Tensor:
    r"""The point of the unit cube :math:`y = (k + u) / L` for levels k and noise
    :math:`u \in [0, 1)^D`.

    Shapes:
        k: [B, D], u: [..., B, D] -> [..., B, D]
    """
    return (k + u) / levels


def uniform_dequantization_bound(log_density: Callable[[Tensor], Tensor], x: Tensor, levels: int,
                                 K: int = 1, generator: torch.Generator | None = None) -> Tensor:
    r"""Monte Carlo estimate of the uniform dequantization bound (Theis et al., 2016) on the
    discrete log-likelihood of a density :math:`p` on the unit cube,

    .. math:: \log P(k) \;\ge\; \mathbb E_{u \sim U[0,1)^D}\Big[\log p\Big(\frac{k + u}{L}\Big)\Big] - D \log L,

    averaged over K noise draws per data point. The :math:`-D \log L` is the log-determinant of
    the scaling :math:`v = k + u \mapsto y = v / L` (a density on :math:`[0, L)^D` is
    :math:`L^{-D}` times the density on the cube). A uniform density on the cube gives
    :math:`-D\log L` nats, i.e. exactly :math:`\log_2 L` bits per dimension.

    Arguments:
        log_density: y [K, B, D] -> log p(y) [K, B], a density on the unit cube.
        x: data on the grid k / (L - 1).
        levels: L.
        K: noise draws per data point.
    Shapes:
        x: [B, D] -> [B] (nats)
    """
    k = quantize(x, levels)
    # the noise is drawn where the generator lives (the data's device when there is none)
    where = x.device if generator is None else generator.device
    u = torch.rand((check_positive_int(K), *k.shape), generator=generator, dtype=x.dtype, device=where).to(x.device)
    return log_density(dequantize(k, u, levels)).mean(0) - k.shape[-1] * math.log(levels)


def checkerboard(dim: int, parity: int = 0) -> Tensor:
    """A coupling mask over ``dim`` pixels: a checkerboard when dim is a square (8x8 images), else
    alternating indices; ``parity`` 1 gives the complement."""
    side = math.isqrt(dim)
    idx = torch.arange(dim)
    mask = (idx // side + idx % side) % 2 == 0 if side * side == dim else idx % 2 == 0
    return mask ^ bool(parity)


def coupling_stack(dim: int, layers: int, hidden: Sequence[int], context_dim: int | None = None,
                   scale_bound: float = 3.0) -> list[AffineCoupling]:
    """``layers`` affine couplings (Dinh et al., 2017) with alternating checkerboard masks."""
    return [AffineCoupling(dim, checkerboard(dim, i % 2), hidden, context_dim=context_dim,
                           scale_bound=scale_bound) for i in range(layers)]


class VariationalDequantizer(nn.Module):
    r"""The noise distribution :math:`q(u \mid x)` of variational dequantization (Ho et al., 2019):
    a Gaussian sample pushed through a conditional flow g and squashed into the cube,

    .. math:: \epsilon \sim \mathcal N(0, I),\quad u = \sigma\big(g(\epsilon; x)\big),\qquad
              \log q(u \mid x) = \log \mathcal N(\epsilon; 0, I)
              - \log\left|\det \frac{\partial g}{\partial \epsilon}\right|
              - \sum_i \log \sigma'(g_i),

    g reading :math:`2x - 1` as its context. By default g is ``layers`` conditional affine
    couplings on vectors (MLPs of sizes ``hidden``); ``flow`` puts any conditional flow on
    :math:`\mathbb R^D` with ``context_dim`` D in their place, e.g. convolutional couplings on
    the image (:func:`image_dequantizer`, the construction of Flow++).

    Arguments:
        dim: D.
        layers: number of conditional couplings (default flow).
        hidden: hidden sizes of each coupling's MLP (default flow).
        flow: a conditional flow g in place of the couplings (``layers`` and ``hidden`` then unused).
    Shapes:
        forward: x [B, D], K -> (u [K, B, D] in (0, 1), log q(u|x) [K, B]);
        log_prob: u [..., B, D], x [B, D] -> [..., B]
    """

    def __init__(self, dim: int, layers: int = 4, hidden: Sequence[int] = (64,), flow: nn.Module | None = None):
        super().__init__()
        self.dim = int(dim)
        if flow is None:
            flow = Compose(*coupling_stack(self.dim, layers, hidden, context_dim=self.dim))
        self.noise = FlowDistribution(Compose(flow, Sigmoid(self.dim)), self.dim)

    def forward(self, x: Tensor, K: int = 1) -> tuple[Tensor, Tensor]:
        eps = torch.randn(check_positive_int(K), *x.shape, dtype=x.dtype, device=x.device)
        u, log_det = self.noise.flow(eps, context=2 * x - 1)
        return u, self.noise.base.log_prob(eps) - log_det

    def log_prob(self, u: Tensor, x: Tensor) -> Tensor:
        r""":math:`\\log q(u \\mid x)` at given noise values in (0, 1), by the inverse flow."""
        return self.noise.log_prob(u, context=2 * x - 1)


def image_dequantizer(shape: Sequence[int], couplings: int = 4, hidden: int = 16, blocks: int = 1) -> VariationalDequantizer:
    """The variational dequantizer of Flow++ (Ho et al., 2019) and the UvA tutorial: ``couplings``
    checkerboard couplings at the image's resolution (:class:`~dgmlib.flows.multiscale.MultiScaleFlow`
    with one scale, no ActNorm), whose convolutional networks see the image :math:`2x - 1` beside the
    noise, then a sigmoid into (0, 1).

    Shapes:
        shape: (C, H, W); forward: x [B, C H W], K -> (u [K, B, C H W], log q(u|x) [K, B])
    """
    shape = tuple(int(s) for s in shape)
    flow = MultiScaleFlow(shape, scales=1, couplings=couplings, hidden=hidden, blocks=blocks, actnorm=False,
                          conv1x1=False, context_channels=shape[0])
    return VariationalDequantizer(math.prod(shape), flow=flow)


class DequantizationTerms(NamedTuple):
    """One pass of K noise draws for each of B data points."""
    log_density: Tensor  # [K, B]  log p(y) on the unit cube at y = (k + u) / L
    log_q: Tensor        # [K, B]  log q(u | x) (0 for uniform noise)
    u: Tensor            # [K, B, D]
    offset: float        # D log L, the log-determinant of the scaling to the unit cube

    @property
    def log_w(self) -> Tensor:
        r"""Log importance weights [K, B]: :math:`\\log p(y) - D\\log L - \\log q(u|x)`."""
        return self.log_density - self.offset - self.log_q


class DequantizedFlow(Model):
    r"""A normalizing flow on the unit cube as a model of L-level data, trained and evaluated
    through a dequantization bound (uniform or variational).

    The density on the unit cube is a flow from a standard normal, read through the logit
    transform (:class:`~dgmlib.flows.sigmoid.Sigmoid` with ``alpha``):

    .. math:: \log p(y) = \log \mathcal N\big(f^{-1}(z); 0, I\big)
              + \log\left|\det \frac{\partial f^{-1}}{\partial z}\right|
              + \log\left|\det \frac{\partial z}{\partial y}\right|, \qquad
              z = \operatorname{logit}\big(\alpha + (1 - 2\alpha) y\big),

    and ``terms(x, K).log_w`` are the log importance weights of the noise (see the module doc):
    their mean is the dequantization bound, their log-mean-exp at large K an estimate of
    :math:`\log P(k)`.

    Arguments:
        flow: a flow on :math:`\mathbb R^D` with a one-pass ``inverse`` (density direction),
            e.g. a :class:`~dgmlib.flows.base.Compose` of affine couplings or a
            :class:`~dgmlib.flows.multiscale.MultiScaleFlow` on flat images
            (:func:`build_dequantized_image_flow`).
        dim: D.
        levels: L.
        dequantizer: "uniform" or a module with ``forward(x, K) -> (u, log q)`` (e.g.
            :class:`VariationalDequantizer`).
        alpha: the logit transform's margin (Dinh et al., 2017 use 0.05).
    Shapes:
        terms / log_weights: x [B, D], K -> [K, B]; sample: n -> [n, D] on the grid k / (L - 1)
    Example:
        >>> model = build_dequantized_flow(64, 17, "variational")
        >>> model.log_weights(torch.zeros(3, 64), K=2).shape
        torch.Size([2, 3])
    """

    def __init__(self, flow: nn.Module, dim: int, levels: int, dequantizer: str | nn.Module = "uniform",
                 alpha: float = 0.05, config: dict | None = None):
        super().__init__()
        if isinstance(dequantizer, str) and dequantizer != "uniform":
            raise ValueError(f"dequantizer must be 'uniform' or a module, got {dequantizer!r}")
        self.dim, self.levels = int(dim), int(levels)
        self.x_dim = self.dim
        self.density = FlowDistribution(flow, self.dim)           # on R^D, read through the logit
        self.dequantizer = None if dequantizer == "uniform" else dequantizer
        self.squash = Sigmoid(self.dim, alpha)
        self.config = config

    @property
    def flow(self) -> nn.Module:
        r"""The flow of the density on :math:`\\mathbb R^D` (sampling direction)."""
        return self.density.flow

    def log_density(self, y: Tensor) -> Tensor:
        r""":math:`\\log p(y)` for y in the unit cube. Shapes: [..., D] -> [...]."""
        z, log_det_logit = self.squash.inverse(y)
        return self.density.log_prob(z) + log_det_logit

    def terms(self, x: Tensor, K: int = 1) -> DequantizationTerms:
        """K noise draws per data point and every term of the log weights (see the class doc)."""
        self.check_input(x)
        K = check_positive_int(K)
        k = quantize(x, self.levels)
        if self.dequantizer is None:
            u = torch.rand(K, *x.shape, dtype=x.dtype, device=x.device)
            log_q = x.new_zeros(K, x.shape[0])
        else:
            u, log_q = self.dequantizer(x, K)
        log_py = self.log_density(dequantize(k, u, self.levels))
        return DequantizationTerms(log_py, log_q, u, self.dim * math.log(self.levels))

    @torch.no_grad()
    def sample(self, n: int, temperature: float = 1.0) -> Tensor:
        r"""n images: y = sigmoid-squashed flow sample, quantized to its bin, k / (L - 1). Shape [n, D].

        ``temperature`` T draws the base at :math:`z = T\epsilon`, :math:`\epsilon \sim \mathcal N(0, I)`
        (the reduced-temperature samples of Glow, Kingma & Dhariwal, 2018, for T < 1); T = 1 samples
        the model itself."""
        if not (isinstance(temperature, (int, float)) and temperature >= 0):
            raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
        y, _ = self.squash(self.density.flow(temperature * self.density._base_draw(n))[0])
        k = torch.floor(y * self.levels).clamp(0, self.levels - 1)
        return k / (self.levels - 1)


def build_dequantized_flow(dim: int, levels: int, dequantization: str = "uniform", layers: int = 8,
                           hidden: Sequence[int] = (128,), deq_layers: int = 4,
                           deq_hidden: Sequence[int] = (64,), alpha: float = 0.05) -> DequantizedFlow:
    """A :class:`DequantizedFlow` whose density is ``layers`` affine couplings with alternating
    checkerboard masks, with uniform or variational dequantization (``deq_layers`` conditional
    couplings squashed by a sigmoid); rebuilt by the same call from its ``config``."""
    if dequantization not in DEQUANTIZATIONS:
        raise ValueError(f"unknown dequantization {dequantization!r}; choose one of {', '.join(DEQUANTIZATIONS)}")
    config = dict(model="dequantized_flow", dim=int(dim), levels=int(levels), dequantization=dequantization, layers=int(layers),
                  hidden=[int(h) for h in hidden], deq_layers=int(deq_layers),
                  deq_hidden=[int(h) for h in deq_hidden], alpha=float(alpha))
    deq = "uniform" if dequantization == "uniform" else VariationalDequantizer(dim, deq_layers, deq_hidden)
    return DequantizedFlow(Compose(*coupling_stack(dim, layers, hidden)), dim, levels, deq, alpha, config)


def build_dequantized_image_flow(shape: Sequence[int], levels: int, dequantization: str = "uniform", scales: int = 3,
                                 couplings: int | Sequence[int] = 2, hidden: int | Sequence[int] = 32, blocks: int = 2,
                                 actnorm: bool = True, conv1x1: bool = True, lu: bool = True, deq_couplings: int = 4,
                                 deq_hidden: int = 16, deq_blocks: int = 1, alpha: float = 1e-5) -> DequantizedFlow:
    """A :class:`DequantizedFlow` on flat images of ``shape`` (C, H, W) whose density is a
    :class:`~dgmlib.flows.multiscale.MultiScaleFlow` (``scales``, ``couplings`` and ``hidden`` per
    level, ``blocks`` gated blocks per coupling network, optional ActNorm and 1x1 convolutions, LU or
    plain), with
    uniform or variational dequantization (:func:`image_dequantizer` of ``deq_couplings``
    checkerboard couplings with ``deq_hidden`` maps); ``alpha`` is the logit margin (the UvA
    tutorial's 1e-5). Rebuilt by the same call from its ``config``.

    Example:
        >>> model = build_dequantized_image_flow((1, 4, 4), 17, "variational", scales=2, hidden=8)
        >>> model.log_weights(torch.zeros(3, 16), K=2).shape
        torch.Size([2, 3])
    """
    if dequantization not in DEQUANTIZATIONS:
        raise ValueError(f"unknown dequantization {dequantization!r}; choose one of {', '.join(DEQUANTIZATIONS)}")
    shape = [int(s) for s in shape]
    if len(shape) != 3:
        raise ValueError(f"shape must be (C, H, W), got {shape}")
    scales = int(scales)
    per_level = lambda v: [int(v)] * scales if isinstance(v, (int, float)) else [int(u) for u in v]
    config = dict(model="dequantized_image_flow", shape=shape, levels=int(levels), dequantization=dequantization,
                  scales=scales, couplings=per_level(couplings), hidden=per_level(hidden), blocks=int(blocks),
                  actnorm=bool(actnorm), conv1x1=bool(conv1x1), lu=bool(lu), deq_couplings=int(deq_couplings),
                  deq_hidden=int(deq_hidden), deq_blocks=int(deq_blocks), alpha=float(alpha))
    flow = MultiScaleFlow(shape, scales, config["couplings"], config["hidden"], int(blocks), bool(actnorm), bool(conv1x1),
                          bool(lu))
    deq = "uniform" if dequantization == "uniform" else image_dequantizer(shape, deq_couplings, deq_hidden, deq_blocks)
    return DequantizedFlow(flow, math.prod(shape), levels, deq, alpha, config)
