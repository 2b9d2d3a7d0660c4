r"""Normalizing flows: ``forward(z, context=None) -> (f(z), log|det df/dz|)``.

Every flow maps z [..., d] to ([..., d], [...]). ``forward`` is the sampling direction
(base -> target, :math:`z_0 \to z_K` in a VAE posterior); ``inverse`` (where a closed form
exists) is the density direction and returns :math:`\log|\det \partial f^{-1}/\partial y|`.
MAF's one-pass direction is therefore its ``inverse`` (data -> noise); IAF's is ``forward``.
:class:`FlowDistribution` (flow + base density) is the density a flow defines.

Parameters are free, or amortized with ``context_dim=c`` (computed per data point from
``context`` [..., c]; leading dimensions of z and context broadcast).

==================  ===========================  =====================
flow                paper                        inverse
==================  ===========================  =====================
PlanarFlow          Rezende & Mohamed 2015       none
RadialFlow          Rezende & Mohamed 2015       closed form
HouseholderFlow     Tomczak & Welling 2016       reflections reversed
SylvesterFlow       van den Berg et al. 2018     none
IAF                 Kingma et al. 2016           d passes
MAF                 Papamakarios et al. 2017     one pass (density)
AffineCoupling      Dinh et al. 2017             one pass
Sigmoid             Dinh et al. 2017 (logit)     closed form
==================  ===========================  =====================

Image flows act on images [B, C, H, W] (log|det| [B]) in the same contract: :class:`Squeeze` /
:class:`Unsqueeze`, the masks :func:`checkerboard_mask` and :func:`channel_mask`,
:class:`ConvAffineCoupling` (RealNVP), :class:`ActNorm` and :class:`InvertibleConv1x1` (Glow);
:class:`MultiScaleFlow` assembles them, with the multi-scale split, into a flow on flat vectors
[..., C H W] that every consumer of vector flows accepts.
"""
from .actnorm import ActNorm
from .base import Compose, Flow, Parameters, autograd_log_det
from .conv1x1 import InvertibleConv1x1
from .conv_coupling import ConvAffineCoupling
from .coupling import AffineCoupling
from .distribution import FlowDistribution, FlowSample
from .householder import HouseholderFlow, reflect
from .iaf import IAF
from .made import MADE, MaskedLinear
from .maf import MAF
from .masks import channel_mask, checkerboard_mask
from .multiscale import MultiScaleFlow
from .planar import PlanarFlow
from .radial import RadialFlow
from .sigmoid import Sigmoid
from .squeeze import Squeeze, Unsqueeze, squeeze, unsqueeze
from .sylvester import SylvesterFlow

__all__ = ["Flow", "Compose", "FlowDistribution", "FlowSample", "Parameters", "autograd_log_det", "PlanarFlow", "RadialFlow", "HouseholderFlow",
           "reflect", "SylvesterFlow", "MADE", "MaskedLinear", "IAF", "MAF", "AffineCoupling",
           "Sigmoid", "Squeeze", "Unsqueeze", "squeeze", "unsqueeze", "checkerboard_mask", "channel_mask",
           "ConvAffineCoupling", "ActNorm", "InvertibleConv1x1", "MultiScaleFlow"]
