r"""The flow interface, :class:`Compose`, and the helpers every flow shares.

A flow is an ``nn.Module`` with

* ``forward(z, context=None) -> (f(z), log|det df/dz|)``, shapes ``[..., d] -> ([..., d], [...])``;
* ``inverse(y, context=None) -> (f^{-1}(y), log|det df^{-1}/dy|)`` where a closed form exists
  (else it raises ``NotImplementedError``).

Direction convention (the same for every flow in :mod:`dgmlib.flows`): ``forward`` maps the
base sample to the target sample, :math:`z_0 \to z_K` in a VAE posterior (sampling direction),
and ``inverse`` maps a target point back to the base (density direction):
:math:`\log p(y) = \log p_0(f^{-1}(y)) + \log|\det \partial f^{-1}/\partial y|`.

Parameters are *free* (``nn.Parameter``, shared by every input) or *amortized*: built with
``context_dim=c``, the flow computes them per data point from ``context`` [..., c]. The leading
dimensions of ``z`` and ``context`` broadcast, e.g. z [K, B, d] with context [B, c].
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def check_dim(z: Tensor, dim: int, owner: str) -> None:
    """Raise a clear ``ValueError`` unless ``z`` has shape [..., dim]."""
    if z.dim() == 0 or z.shape[-1] != dim:
        raise ValueError(f"{owner} acts on vectors of size {dim}: expected [..., {dim}], "
                         f"got shape {tuple(z.shape)}")


def check_context(context: Tensor | None, context_dim: int | None, owner: str) -> None:
    """Raise a clear ``ValueError`` when an amortized flow gets no (or a mis-sized) context."""
    if context_dim is None:
        return
    if context is None:
        raise ValueError(f"{owner} is amortized (context_dim={context_dim}): pass "
                         f"context=[..., {context_dim}] to compute its parameters per data point")
    if context.dim() == 0 or context.shape[-1] != context_dim:
        raise ValueError(f"{owner} expects context [..., {context_dim}], got shape {tuple(context.shape)}")


def cat_context(x: Tensor, context: Tensor | None) -> Tensor:
    """``cat([x, context], -1)`` after broadcasting their leading dimensions.

    Shapes:
        x: [..., a], context: [..., c] (or None) -> [..., a + c]
    """
    if context is None:
        return x
    lead = torch.broadcast_shapes(x.shape[:-1], context.shape[:-1])
    return torch.cat([x.expand(*lead, x.shape[-1]), context.expand(*lead, context.shape[-1])], -1)


class Flow(nn.Module):
    """Base class: an invertible map with a tractable log-determinant (see the module doc)."""

    dim: int

    def forward(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def inverse(self, y: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        raise NotImplementedError(f"{type(self).__name__} has no closed-form inverse; "
                                  "use it where only forward samples and log-dets are needed "
                                  "(e.g. a VAE posterior), or pick an invertible flow")


class Parameters(nn.Module):
    r"""Named flow parameters, free or amortized.

    Free (``context_dim=None``): one flat ``nn.Parameter`` shared by every input; the tensors
    have exactly the given shapes. Amortized: a linear layer maps ``context`` [..., c] to the
    flat vector, and each tensor has shape [..., \*shape].

    Arguments:
        shapes: name -> shape of one parameter tensor, e.g. ``{"w": (d,), "b": (1,)}``.
        context_dim: size of the context, or None for free parameters.
        std: scale of the random initial values.
    Example:
        >>> p = Parameters({"w": (3,), "b": (1,)}, context_dim=5)
        >>> p(torch.randn(7, 5))["w"].shape
        torch.Size([7, 3])
    """

    def __init__(self, shapes: dict[str, tuple[int, ...]], context_dim: int | None = None,
                 std: float = 0.1):
        super().__init__()
        self.shapes = {k: tuple(int(n) for n in s) for k, s in shapes.items()}
        self.sizes = [math.prod(s) for s in self.shapes.values()]
        self.context_dim = None if context_dim is None else int(context_dim)
        total = sum(self.sizes)
        if self.context_dim is None:
            self.free = nn.Parameter(torch.randn(total) * std)
            self.net = None
        else:
            self.free = None
            self.net = nn.Linear(self.context_dim, total)
            with torch.no_grad():
                self.net.weight.mul_(std)
                self.net.bias.normal_(0.0, std)

    def forward(self, context: Tensor | None = None, owner: str = "this flow") -> dict[str, Tensor]:
        """The parameter tensors; ``context`` is ignored by free parameters."""
        if self.net is None:
            flat = self.free
        else:
            check_context(context, self.context_dim, owner)
            flat = self.net(context)
        lead = flat.shape[:-1]
        return {k: t.reshape(*lead, *s)
                for (k, s), t in zip(self.shapes.items(), flat.split(self.sizes, -1))}

    @torch.no_grad()
    def set_(self, name: str, value: Tensor | float) -> None:
        """Set parameter ``name``: the free value, or (amortized) its value at context = 0,
        i.e. the bias of the amortizing layer."""
        start = 0
        for k, size in zip(self.shapes, self.sizes):
            if k == name:
                target = self.free if self.net is None else self.net.bias
                value = torch.as_tensor(value, dtype=target.dtype, device=target.device)
                target[start:start + size] = value.reshape(-1).expand(size) if value.numel() == 1 \
                    else value.reshape(size)
                return
            start += size
        raise KeyError(f"no parameter {name!r}; have {list(self.shapes)}")


class Compose(Flow):
    r"""The composition :math:`f = f_n \circ \dots \circ f_1`: ``forward`` applies the flows in
    the given order and sums their log-determinants,

    .. math:: \log\left|\det \frac{\partial f}{\partial z}\right|
              = \sum_{k=1}^n \log\left|\det \frac{\partial f_k}{\partial z_{k-1}}\right|,

    ``inverse`` applies their inverses in reverse order. The same ``context`` goes to every
    flow (free flows ignore it).

    Shapes:
        z: [..., d] -> (f(z): [..., d], log|det|: [...])
    Example:
        >>> f = Compose(HouseholderFlow(2), RadialFlow(2))
        >>> y, log_det = f(torch.randn(10, 2))
    """

    def __init__(self, *flows: nn.Module):
        super().__init__()
        if not flows:
            raise ValueError("Compose needs at least one flow")
        self.flows = nn.ModuleList(flows)
        self.dim = getattr(flows[0], "dim", None)

    def forward(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        total = z.new_zeros(z.shape[:-1])
        for flow in self.flows:
            z, log_det = flow(z, context)
            total = total + log_det
        return z, total

    def inverse(self, y: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        total = y.new_zeros(y.shape[:-1])
        for flow in reversed(self.flows):
            y, log_det = flow.inverse(y, context)
            total = total + log_det
        return y, total


def autograd_log_det(flow: nn.Module, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
    r"""The reference value of a flow's log-determinant: the full Jacobian
    :math:`J = \partial f / \partial z` by autograd and :math:`\log|\det J|` by ``slogdet``.
    Slow (d backward passes); for checking the flows' closed forms.

    Shapes:
        z: [d] (one point), context: [c] or None -> (log|det J|: [], J: [d, d])
    """
    J = torch.autograd.functional.jacobian(lambda v: flow(v, context)[0], z)
    return torch.linalg.slogdet(J).logabsdet, J


def check_image(z: Tensor, channels: int | None, owner: str) -> None:
    """Raise a clear ``ValueError`` unless ``z`` is a batch of images [B, channels, H, W]."""
    if z.dim() != 4 or (channels is not None and z.shape[1] != channels):
        want = "C" if channels is None else str(channels)
        raise ValueError(f"{owner} acts on images [B, {want}, H, W], got shape {tuple(z.shape)}")
