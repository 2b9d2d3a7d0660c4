r"""MADE: masked autoencoder for distribution estimation (Germain, Gregor, Murray & Larochelle, 2015)."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..nets import ACTIVATIONS
from .base import check_context, check_dim


class MaskedLinear(nn.Linear):
    """``nn.Linear`` whose weight is multiplied by a fixed 0/1 mask [out, in] (a buffer)."""

    def __init__(self, mask: Tensor):
        super().__init__(mask.shape[1], mask.shape[0])
        self.register_buffer("mask", mask.to(self.weight.dtype))

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


def made_degrees(dim: int, order: Sequence[int] | None = None) -> Tensor:
    """Input degrees 1..dim: ``order`` lists the input indices in autoregressive order, so input
    ``order[k]`` gets degree k + 1 (default: the identity order)."""
    order = list(range(dim)) if order is None else [int(i) for i in order]
    if sorted(order) != list(range(dim)):
        raise ValueError(f"order must be a permutation of range({dim}), got {order}")
    deg = torch.empty(dim, dtype=torch.long)
    deg[torch.tensor(order, dtype=torch.long)] = torch.arange(1, dim + 1)
    return deg


class MADE(nn.Module):
    r"""Masked MLP with the autoregressive property (Germain et al., 2015): output block
    ``[..., k, i]`` depends only on the inputs that come before input i in ``order``,

    .. math:: \frac{\partial\, \mathrm{out}_{k,i}}{\partial x_j} = 0 \quad
              \text{unless } \deg(j) < \deg(i).

    Hidden unit degrees cycle through 1..d-1; a weight from a unit of degree a to one of degree
    b is kept when b >= a (hidden layers) or b > a (output layer). The optional context enters
    the first layer and the output layer through unmasked linear maps, so every output,
    including the first in the order (which sees no input), depends on it.

    Arguments:
        dim: number of inputs d.
        hidden: hidden layer sizes.
        outputs_per_dim: k outputs per input (2 for a shift and a scale).
        context_dim: size of an optional conditioning input.
        order: the input indices in autoregressive order (default 0, 1, ..., d-1).
        activation: ``"relu"`` | ``"tanh"`` | ``"elu"`` | ``"gelu"``.
    Shapes:
        x: [..., dim], context: [..., context_dim] -> [..., outputs_per_dim, dim]
    Example:
        >>> made = MADE(3, hidden=(16,), outputs_per_dim=2)
        >>> m, s = made(torch.randn(5, 3)).unbind(-2)     # m[:, 0], s[:, 0] are constants
    """

    def __init__(self, dim: int, hidden: Sequence[int] = (64, 64), outputs_per_dim: int = 2,
                 context_dim: int | None = None, order: Sequence[int] | None = None,
                 activation: str = "elu"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
        self.dim, self.k = int(dim), int(outputs_per_dim)
        self.context_dim = None if context_dim is None else int(context_dim)
        self.register_buffer("degrees", made_degrees(self.dim, order), persistent=False)
        degs = [self.degrees]
        for h in hidden:
            degs.append(torch.arange(h) % (self.dim - 1) + 1 if self.dim > 1
                        else torch.zeros(h, dtype=torch.long))   # d = 1: hidden units see only context
        layers = [MaskedLinear((b[:, None] >= a[None, :]).to(torch.get_default_dtype()))
                  for a, b in zip(degs[:-1], degs[1:])]
        out_deg = self.degrees.repeat(self.k)
        layers.append(MaskedLinear((out_deg[:, None] > degs[-1][None, :]).to(torch.get_default_dtype())))
        self.layers = nn.ModuleList(layers)
        self.act = ACTIVATIONS[activation]()
        first_out = layers[0].out_features
        self.context_layer = None if context_dim is None else nn.Linear(self.context_dim, first_out)
        self.context_out = None if context_dim is None or len(hidden) == 0 else \
            nn.Linear(self.context_dim, self.k * self.dim, bias=False)

    def forward(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        check_dim(x, self.dim, "MADE")
        check_context(context, self.context_dim, "MADE")
        h = self.layers[0](x)
        if self.context_layer is not None:
            h = h + self.context_layer(context)
        for layer in self.layers[1:]:
            h = layer(self.act(h))
        if self.context_out is not None:
            h = h + self.context_out(context)
        return h.reshape(*h.shape[:-1], self.k, self.dim)
