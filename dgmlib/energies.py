r"""Unnormalized 2-D target densities :math:`p(z) \propto e^{-U(z)}` and fitting a flow to them by
reverse KL (Rezende & Mohamed, 2015, Table 1 and Figure 3).

The four energies of the paper, with :math:`w_1 = \sin(\pi z_1 / 2)`,
:math:`w_2 = 3 e^{-\frac12((z_1 - 1)/0.6)^2}`, :math:`w_3 = 3\,\sigma((z_1 - 1)/0.3)`:

.. math::
    U_1 &= \tfrac12\big(\tfrac{\|z\| - 2}{0.4}\big)^2
           - \log\big(e^{-\frac12((z_1 - 2)/0.6)^2} + e^{-\frac12((z_1 + 2)/0.6)^2}\big) \\
    U_2 &= \tfrac12\big(\tfrac{z_2 - w_1}{0.4}\big)^2 \\
    U_3 &= -\log\big(e^{-\frac12((z_2 - w_1)/0.35)^2} + e^{-\frac12((z_2 - w_1 + w_2)/0.35)^2}\big) \\
    U_4 &= -\log\big(e^{-\frac12((z_2 - w_1)/0.4)^2} + e^{-\frac12((z_2 - w_1 + w_3)/0.35)^2}\big)

:math:`U_2`-:math:`U_4` do not depend on the size of :math:`z_1`, so :math:`e^{-U}` is not
normalizable on the plane. As in the paper's figures we restrict them to the square
:math:`[-4, 4]^2`: every energy here adds a steep wall :math:`\frac12 (\mathrm{dist}(z, [-4,4]^2)/0.1)^2`
outside it, which keeps :math:`\log Z` finite and changes nothing inside.

Fitting a flow :math:`q` (base :math:`\mathcal N(0, I)` pushed through f) minimizes the free energy

.. math:: \mathcal F(q) = \mathbb E_{q}[\log q(z) + U(z)] = \mathrm{KL}(q \,\|\, p) - \log Z \ge -\log Z,

so :math:`\mathrm{KL}(q\|p) = \mathcal F(q) + \log Z`, with :math:`\log Z` from a fine grid.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor, nn

from .config import seed_everything
from .flows import FlowDistribution, FlowSample

BOX = 4.0


def _wall(z: Tensor) -> Tensor:
    outside = (z.abs() - BOX).clamp(min=0)
    return 0.5 * ((outside / 0.1) ** 2).sum(-1)


def _w1(z: Tensor) -> Tensor:
    return torch.sin(math.pi * z[..., 0] / 2)


def u1(z: Tensor) -> Tensor:
    """Ring with two modes. Shapes: z [..., 2] -> [...]."""
    r = z.norm(dim=-1)
    modes = torch.logaddexp(-0.5 * ((z[..., 0] - 2) / 0.6) ** 2, -0.5 * ((z[..., 0] + 2) / 0.6) ** 2)
    return 0.5 * ((r - 2) / 0.4) ** 2 - modes + _wall(z)


def u2(z: Tensor) -> Tensor:
    """A sine wave. Shapes: z [..., 2] -> [...]."""
    return 0.5 * ((z[..., 1] - _w1(z)) / 0.4) ** 2 + _wall(z)


def u3(z: Tensor) -> Tensor:
    """A sine wave that splits in two. Shapes: z [..., 2] -> [...]."""
    w2 = 3 * torch.exp(-0.5 * ((z[..., 0] - 1) / 0.6) ** 2)
    a = -0.5 * ((z[..., 1] - _w1(z)) / 0.35) ** 2
    b = -0.5 * ((z[..., 1] - _w1(z) + w2) / 0.35) ** 2
    return -torch.logaddexp(a, b) + _wall(z)


def u4(z: Tensor) -> Tensor:
    """Two sine waves joined by a step. Shapes: z [..., 2] -> [...]."""
    w3 = 3 * torch.sigmoid((z[..., 0] - 1) / 0.3)
    a = -0.5 * ((z[..., 1] - _w1(z)) / 0.4) ** 2
    b = -0.5 * ((z[..., 1] - _w1(z) + w3) / 0.35) ** 2
    return -torch.logaddexp(a, b) + _wall(z)


ENERGIES: dict[str, Callable[[Tensor], Tensor]] = {"U1": u1, "U2": u2, "U3": u3, "U4": u4}


def grid(lim: float = 4.5, n: int = 601, dtype: torch.dtype | None = None,
         device: torch.device | str | None = None) -> tuple[Tensor, Tensor, float]:
    """A square grid: (axis [n], points [n*n, 2] with z_1 varying slowest, cell area)."""
    axis = torch.linspace(-lim, lim, n, dtype=dtype or torch.get_default_dtype(), device=device)
    return axis, torch.cartesian_prod(axis, axis), float(axis[1] - axis[0]) ** 2


def log_normalizer(energy: Callable[[Tensor], Tensor], lim: float = 4.5, n: int = 1201) -> float:
    r""":math:`\log Z = \log \int e^{-U(z)} dz` by a Riemann sum on a fine grid (float64)."""
    _, points, cell = grid(lim, n, dtype=torch.float64)
    return float(torch.logsumexp(-energy(points), 0)) + math.log(cell)


def sample_flow(flow: nn.Module, n: int, dim: int = 2) -> FlowSample:
    r"""z_0 ~ N(0, I), z = f(z_0), :math:`\log q(z) = \log \mathcal N(z_0) - \log|\det|`:
    the draws and log-densities of :class:`~dgmlib.flows.distribution.FlowDistribution` (fields ``x``, ``log_p``)."""
    return FlowDistribution(flow, dim).rsample_and_log_prob(n)


def free_energy(flow: nn.Module, energy: Callable[[Tensor], Tensor], n: int = 4096) -> tuple[float, float]:
    r"""Monte Carlo :math:`\mathcal F(q) = \mathbb E_q[\log q(z) + U(z)]` and its standard error."""
    with torch.no_grad():
        s = sample_flow(flow, n)
        values = s.log_p + energy(s.x)
    return float(values.mean()), float(values.std() / math.sqrt(n))


def fit_flow(flow: nn.Module, energy: Callable[[Tensor], Tensor], steps: int, batch: int = 256,
             lr: float = 1e-3, seed: int = 0, anneal_steps: int = 0) -> list[float]:
    r"""Minimize :math:`\mathcal F(q)` with Adam on fresh base samples every step.

    With ``anneal_steps`` > 0 the energy is scaled by :math:`\beta_t = \min(1, 0.01 + t/T)`
    (the paper's annealing) so that early steps spread the samples out.
    Returns the free energy (unannealed) per step.
    """
    seed_everything(seed)
    opt = torch.optim.Adam(flow.parameters(), lr=lr)
    history = []
    for step in range(steps):
        beta = min(1.0, 0.01 + step / anneal_steps) if anneal_steps else 1.0
        s = sample_flow(flow, batch)
        u = energy(s.x)
        loss = (s.log_p + beta * u).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history.append((s.log_p + u).mean().detach())
    return torch.stack(history).tolist() if history else []
