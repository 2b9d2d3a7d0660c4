r"""Importance resampling: the implicit posterior that the IWAE bound fits.

Draw :math:`z_1..z_K \sim q(z|x)`, then pick one with probability
:math:`\tilde w_k = w_k / \sum_j w_j`. The picked sample follows :math:`q_{EW}(z|x)`, and the
VAE objective computed with :math:`q_{EW}` in place of q equals the IWAE bound
:math:`\mathcal L_K` (Cremer, Morris & Duvenaud, 2017). At K = 1 it is q itself; as K grows it
approaches the true posterior :math:`p(z|x)`.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn


@torch.no_grad()
def importance_resample(model: nn.Module, x: Tensor, K: int, n: int = 1) -> Tensor:
    r"""n independent draws from :math:`q_{EW}(z|x)` for every data point, each from its own fresh
    set of K proposals (one batched pass of n*K samples, no loop over samples).

    Shapes:
        x: [B, D] -> z [n, B, d]
    """
    terms = model.terms(x, K * n)
    B, d = terms.z.shape[1], terms.z.shape[2]
    log_w = terms.log_w.reshape(n, K, B)                       # [n, K, B]
    z = terms.z.reshape(n, K, B, d)
    pick = torch.distributions.Categorical(logits=log_w.transpose(1, 2)).sample()  # [n, B]
    index = pick.view(n, 1, B, 1).expand(n, 1, B, d)
    return z.gather(1, index).squeeze(1)
