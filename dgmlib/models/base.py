r"""The model contract every objective, metric and the training loop rely on.

A :class:`Model` gives log importance weights

.. math:: \log w_k = \log p(x, h_k) - \log q(h_k \mid x), \qquad h_k \sim q(h \mid x),\ k = 1..K,

of shape ``[K, batch]`` for some latent variable h (the VAE's z, a hierarchy :math:`z_{1:L}`, or the
dequantization noise u): the ELBO is ``log_w.mean(0)``, the IWAE bound ``log_mean_exp(log_w, 0)`` and
:math:`\log p(x)` the IWAE bound at large K. A :class:`LatentVariableModel` is a model with an
encoder :math:`q(z|x)`, a prior :math:`p(z)` and a decoder :math:`p(x|z)`.

``sample(n)`` draws from the model, :math:`x \sim p(x)`; ``decode_mean(z)`` is the mean of
:math:`p(x|z)` and ``sample_means(n)`` that mean at :math:`z \sim p(z)`, what sample figures show.
"""
from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import torch
from torch import Tensor, nn

from .. import validation


class Terms(NamedTuple):
    """The pieces of one importance-sampling pass (K samples for each of B data points)."""
    log_px_z: Tensor  # [K, B]  log p(x | z_k)
    log_pz: Tensor    # [K, B]  log p(z_k)
    log_qz: Tensor    # [K, B]  log q(z_k | x)
    z: Tensor         # [K, B, d]  (after the posterior flow, if the model has one)
    mu: Tensor        # [B, d]  mean of the Gaussian q(z_0|x)
    logvar: Tensor    # [B, d]  log-variance of the Gaussian q(z_0|x)

    @property
    def log_w(self) -> Tensor:
        """Log importance weights [K, B]."""
        return self.log_px_z + self.log_pz - self.log_qz


class Model(nn.Module):
    """Base class: a model of flattened data x [B, D] evaluated through its log importance weights.

    Subclasses implement ``terms(x, K)`` (an object with ``.log_w`` [K, B]) and ``sample(n)``, and set
    ``x_dim`` (D, or None when unknown) and ``config`` (the keyword arguments that rebuild the model
    through :func:`dgmlib.builders.from_config`, with its registered ``"model"`` name; None when
    it was assembled by hand and cannot be saved).
    """

    x_dim: int | None = None
    config: dict[str, Any] | None = None

    def check_input(self, x: Tensor, name: str = "x", support: bool = True) -> None:
        """A clear error unless x is a non-empty [batch, D] tensor on the model's device and dtype and,
        while :mod:`dgmlib.validation` is on, its values are finite and (with ``support``, where the
        likelihood of x is evaluated; encoding alone takes any finite input) in the model's support."""
        validation.check_tensor(x, name)
        if x.dim() != 2:
            raise ValueError(f"x must be a [batch, D] tensor of flattened data, got shape {tuple(x.shape)}")
        if self.x_dim is not None and x.shape[-1] != self.x_dim:
            raise ValueError(f"x must be [batch, {self.x_dim}] (flattened data with the {self.x_dim} features this "
                             f"{type(self).__name__} models), got shape {tuple(x.shape)}")
        p = next(self.parameters(), None)
        if p is not None and (x.device != p.device or x.dtype != p.dtype):
            raise ValueError(f"x is {x.dtype} on {x.device} but the model is {p.dtype} on {p.device}; "
                             "move one of them with .to(...)")
        validation.check_nonempty(x, name)
        if validation.enabled():
            validation.check_finite(x, name)
            if support:
                self.check_support(x, name)

    def check_support(self, x: Tensor, name: str = "x") -> None:
        """A ``ValueError`` for values outside the model's support (default: none)."""

    def terms(self, x: Tensor, K: int = 1):
        raise NotImplementedError

    def log_weights(self, x: Tensor, K: int = 1) -> Tensor:
        r"""Log importance weights :math:`\log w` of shape [K, B]; see the module docstring."""
        return self.terms(x, K).log_w

    def sample(self, n: int) -> Tensor:
        r"""n draws :math:`x \\sim p(x)`, shape [n, D]."""
        raise NotImplementedError


class LatentVariableModel(Model):
    r"""A model :math:`p(x, z) = p(x|z)\, p(z)` with an amortized Gaussian encoder: attributes
    ``encoder`` (x -> (mu, logvar) of the top-level :math:`q(z|x)`), ``prior`` and ``likelihood``.

    Subclasses implement ``terms`` (returning :class:`~dgmlib.models.base.Terms`), ``decode_mean(z)`` and ``reconstruct(x)``;
    ``analytic_kl`` where the KL of :math:`q(z|x)` to the prior has a closed form.
    """

    encoder: nn.Module
    prior: nn.Module
    likelihood: nn.Module

    @property
    def z_dim(self) -> int:
        """Size of the latent level the prior lives on."""
        return self.prior.dim

    def check_support(self, x: Tensor, name: str = "x") -> None:
        check = getattr(self.likelihood, "check_support", None)   # user likelihoods may have none
        if check is not None:
            check(x, name)

    def decode_mean(self, z: Tensor) -> Tensor:
        """Mean of :math:`p(x|z)`, shape [..., D]."""
        raise NotImplementedError

    def prior_draw(self, n: int) -> Tensor:
        """n latent draws from the generative model, [n, d] (a hierarchy: all levels, concatenated)."""
        return self.prior.sample(n)

    @torch.no_grad()
    def sample_means(self, n: int) -> Tensor:
        r"""The mean of :math:`p(x|z)` at n draws :math:`z \sim p(z)`: what sample figures show. [n, D]."""
        return self.decode_mean(self.prior_draw(n))

    def reconstruct(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def analytic_kl(self, mu: Tensor, logvar: Tensor) -> Tensor:
        r"""Closed-form :math:`\mathrm{KL}(q(z|x) \| p(z))` [B] from the encoder's (mu, logvar)."""
        raise ValueError(f"{type(self).__name__} has no closed-form KL; use analytic_kl=False "
                         "(the Monte Carlo estimate log q(z|x) - log p(z))")


def monte_carlo_means(draw: Callable[[int], list[Tensor]], batch: int, samples: int | None = None,
                      noise: float = 1e-3, max_samples: int = 100_000) -> tuple[list[Tensor], list[Tensor]]:
    r"""Posterior means :math:`\mathbb E_q[z|x]` of latent layers whose conditional means depend on
    draws of other layers, by Monte Carlo, with the variance of every estimate.

    ``draw(k)`` returns the conditional means of every layer at k fresh draws ([k, B, d_i] each).
    With ``samples=None`` the number of draws S grows until the variance of every estimated entry,
    :math:`\widehat{\mathrm{Var}}/S` (the unbiased variance of the draws), is at most ``noise``, or S
    reaches ``max_samples``; an int fixes S. The draws are taken in passes of about 2**15 rows.

    Shapes:
        -> (means [L] of [B, d_i], variances of the means [L] of [B, d_i])
    """
    if samples is not None:
        samples = validation.check_positive_int(samples, "samples")
    if not noise > 0:
        raise ValueError(f"noise must be a positive variance, got {noise!r}")
    max_samples = validation.check_positive_int(max_samples, "max_samples")
    per_pass = max(1, 2 ** 15 // max(int(batch), 1))
    total, sums, squares, target = 0, None, None, samples or per_pass
    while total < target:
        k = min(per_pass, target - total)
        means = draw(k)
        s1, s2 = [m.sum(0) for m in means], [(m ** 2).sum(0) for m in means]
        sums = s1 if sums is None else [a + b for a, b in zip(sums, s1)]
        squares = s2 if squares is None else [a + b for a, b in zip(squares, s2)]
        total += k
        if samples is None:                   # the draws that the largest conditional variance needs
            spread = max(float(((q - m ** 2 / total) / max(total - 1, 1)).max()) for m, q in zip(sums, squares))
            target = min(max_samples, max(total, math.ceil(spread / noise)))
    mean = [m / total for m in sums]
    variance = [(q / total - m ** 2).clamp_min(0) / max(total - 1, 1) for m, q in zip(mean, squares)]
    return mean, variance
