"""Evaluation: the marginal likelihood by importance sampling and active units."""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn


def _batches(x: Tensor, size: int):
    for start in range(0, x.shape[0], size):
        yield x[start:start + size]


@torch.no_grad()
def log_marginal_likelihood(model: nn.Module, x: Tensor, K: int = 5000, chunk: int = 500,
                            batch_size: int | None = None) -> Tensor:
    r"""Importance-sampling estimate of :math:`\log p(x)` per data point (the IWAE bound at large K):

    .. math:: \log p(x) \approx \log \frac1K \sum_{k=1}^K
              \frac{p(x \mid z_k)\, p(z_k)}{q(z_k \mid x)}, \qquad z_k \sim q(z \mid x).

    Memory is bounded: each forward pass holds ``chunk`` samples for ``batch_size`` data points
    (``chunk * batch_size`` rows, default ``2**16`` rows); running log-sum-exps combine the chunks
    exactly. Data points are processed in batches, never one by one.

    Arguments:
        K: importance samples per data point.
        chunk: samples per forward pass.
        batch_size: data points per forward pass (default ``max(1, 2**16 // chunk)``).
    Shapes:
        x: [N, D] -> [N] (nats)
    """
    if K < 1 or chunk < 1:
        raise ValueError(f"K and chunk must be positive, got K={K}, chunk={chunk}")
    batch_size = batch_size or max(1, 2 ** 16 // chunk)
    was_training = model.training
    model.eval()
    try:
        out = []
        for xb in _batches(x, batch_size):
            total = None
            for start in range(0, K, chunk):
                lse = torch.logsumexp(model.log_weights(xb, min(chunk, K - start)), dim=0)
                total = lse if total is None else torch.logaddexp(total, lse)
            out.append(total - math.log(K))
        return torch.cat(out)
    finally:
        model.train(was_training)


class ActiveUnits(NamedTuple):
    count: int        # number of units with variance above the threshold
    variance: Tensor  # [d] Cov_x(E_q[z_u | x]) per unit


@torch.no_grad()
def active_units(model: nn.Module, x: Tensor, threshold: float = 0.01,
                 batch_size: int = 4096) -> ActiveUnits:
    r"""Active units (Burda et al., 2016): unit u is active when
    :math:`A_u = \mathrm{Cov}_x\big(\mathbb E_{q(z|x)}[z_u]\big) > 0.01`, i.e. its posterior mean
    varies with the input.

    Shapes:
        x: [N, D] -> ActiveUnits(count, variance [d])
    """
    mu = torch.cat([model.encoder(xb)[0] for xb in _batches(x, batch_size)])
    variance = mu.var(dim=0, unbiased=False)
    return ActiveUnits(int((variance > threshold).sum()), variance)
