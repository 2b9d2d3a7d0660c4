r"""Monte Carlo gradient estimators of an expectation under a diagonal Gaussian.

For :math:`q_\phi(z) = \mathcal N(\mu, \mathrm{diag}\,\sigma^2)` with parameters
:math:`\phi = (\mu, \log\sigma^2)` both estimators target

.. math:: \nabla_\phi\, \mathbb E_{q_\phi(z)}[f(z)].

* Reparameterization (pathwise) gradient (Kingma & Welling, 2014; Rezende et al., 2014): write
  :math:`z = \mu + \sigma \odot \epsilon`, :math:`\epsilon \sim \mathcal N(0, I)`, so that

  .. math:: \nabla_\phi \mathbb E_q[f(z)] = \mathbb E_\epsilon\Big[\nabla_z f(z)\,
            \frac{\partial z}{\partial \phi}\Big], \qquad
            \frac{\partial z}{\partial \mu} = 1, \quad
            \frac{\partial z}{\partial \log\sigma^2} = \tfrac12 \sigma \odot \epsilon.

  It needs a differentiable f.
* Score-function gradient, REINFORCE (Williams, 1992): with any baseline b that does not depend
  on z,

  .. math:: \nabla_\phi \mathbb E_q[f(z)] = \mathbb E_q\big[(f(z) - b)\, \nabla_\phi \log q_\phi(z)\big],
            \qquad \nabla_\mu \log q = \frac{z - \mu}{\sigma^2} = \frac{\epsilon}{\sigma}, \quad
            \nabla_{\log\sigma^2} \log q = \tfrac12(\epsilon^2 - 1).

  It only evaluates f, so f may be non-differentiable or even discontinuous.

Both functions draw all ``n_samples`` at once (no Python loop over samples) and return one
gradient estimate per sample, so that the caller can take their mean (the estimate) and their
variance (its quality).
"""
from __future__ import annotations

import math
from typing import Callable, Iterable, NamedTuple

import torch
from torch import Tensor

from .models import LatentVariableModel

__all__ = ["GradientSNR", "GradientSamples", "gradient_snr", "reparameterization_gradient",
           "score_function_gradient"]

#: f maps a batch of samples z [n_samples, *event_shape] to their values [n_samples].
Integrand = Callable[[Tensor], Tensor]


class GradientSamples(NamedTuple):
    r"""Per-sample gradient estimates of :math:`\nabla_\phi \mathbb E_q[f(z)]`.

    ``mu.mean(0)`` is the Monte Carlo estimate of the gradient with respect to :math:`\mu` and
    ``mu.var(0)`` the variance of one sample's estimate (likewise for ``logvar``).
    """
    mu: Tensor      # [n_samples, *mu.shape]       d f / d mu, one row per sample
    logvar: Tensor  # [n_samples, *logvar.shape]   d f / d logvar, one row per sample


def _noise(mu: Tensor, logvar: Tensor, n_samples: int,
           generator: torch.Generator | None) -> Tensor:
    if mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the same shape, got {tuple(mu.shape)} "
                         f"and {tuple(logvar.shape)}")
    if int(n_samples) < 1:
        raise ValueError(f"n_samples must be positive, got {n_samples}")
    return torch.randn((int(n_samples), *mu.shape), generator=generator, dtype=mu.dtype,
                       device=mu.device)


def _values(f: Integrand, z: Tensor) -> Tensor:
    values = f(z)
    if values.shape != z.shape[:1]:
        raise ValueError(f"f must map z {tuple(z.shape)} to one value per sample, shape "
                         f"{tuple(z.shape[:1])}; got {tuple(values.shape)}")
    return values


def reparameterization_gradient(f: Integrand, mu: Tensor, logvar: Tensor, n_samples: int,
                                generator: torch.Generator | None = None) -> GradientSamples:
    r"""Reparameterization (pathwise) estimates of :math:`\nabla_{\mu, \log\sigma^2}
    \mathbb E_{\mathcal N(\mu, \sigma^2)}[f(z)]`, one per sample:

    .. math:: \hat g_\mu^{(s)} = \nabla_z f(z_s), \qquad
              \hat g_{\log\sigma^2}^{(s)} = \nabla_z f(z_s) \odot \tfrac12\sigma \odot \epsilon_s,
              \qquad z_s = \mu + \sigma \odot \epsilon_s.

    The chain rule is left to autograd: each sample gets its own copy of :math:`(\mu,
    \log\sigma^2)`, so one backward pass gives all per-sample gradients. f must treat the samples
    independently (row s of its output depends on row s of z only) and be differentiable; when
    its output carries no gradient at all (a step function built from comparisons, say) the
    pathwise derivative is zero almost everywhere and zeros are returned.

    Arguments:
        f: z [n_samples, \*mu.shape] -> [n_samples].
        mu, logvar: the mean and log-variance of q, same shape (e.g. [d]).
        n_samples: Monte Carlo samples, drawn in one batch.
        generator: a torch.Generator on mu's device, for repeatable noise.
    Returns:
        :class:`GradientSamples` with ``mu`` and ``logvar`` of shape [n_samples, \*mu.shape], on
        mu's device and in its dtype.
    Example:
        >>> g = reparameterization_gradient(lambda z: (z ** 2).sum(-1), torch.ones(3), torch.zeros(3), 1000)
        >>> g.mu.shape   # g.mu.mean(0) is close to 2 * mu
        torch.Size([1000, 3])
    """
    eps = _noise(mu, logvar, n_samples, generator)
    mu_s = mu.detach().expand_as(eps).clone().requires_grad_(True)
    logvar_s = logvar.detach().expand_as(eps).clone().requires_grad_(True)
    with torch.enable_grad():
        z = mu_s + torch.exp(0.5 * logvar_s) * eps
        values = _values(f, z)
        if not values.requires_grad:  # piecewise constant f: no path from z to f(z)
            return GradientSamples(torch.zeros_like(eps), torch.zeros_like(eps))
        g_mu, g_logvar = torch.autograd.grad(values.sum(), (mu_s, logvar_s), allow_unused=True,
                                             materialize_grads=True)
    return GradientSamples(g_mu, g_logvar)


def score_function_gradient(f: Integrand, mu: Tensor, logvar: Tensor, n_samples: int,
                            generator: torch.Generator | None = None,
                            baseline: float | Tensor | str | None = None) -> GradientSamples:
    r"""Score-function (REINFORCE, likelihood-ratio) estimates of
    :math:`\nabla_{\mu, \log\sigma^2} \mathbb E_{\mathcal N(\mu, \sigma^2)}[f(z)]`, one per sample
    (Williams, 1992):

    .. math:: \hat g_\mu^{(s)} = (f(z_s) - b_s)\,\frac{\epsilon_s}{\sigma}, \qquad
              \hat g_{\log\sigma^2}^{(s)} = (f(z_s) - b_s)\,\tfrac12(\epsilon_s^2 - 1),
              \qquad z_s = \mu + \sigma \odot \epsilon_s.

    Only values of f are used (under ``torch.no_grad``), so f may be non-differentiable. Because
    :math:`\mathbb E_q[\nabla_\phi \log q] = 0`, a baseline that does not depend on
    :math:`z_s` leaves the estimate unbiased and can lower its variance a lot.

    Arguments:
        f: z [n_samples, \*mu.shape] -> [n_samples].
        mu, logvar: the mean and log-variance of q, same shape (e.g. [d]).
        n_samples: Monte Carlo samples, drawn in one batch.
        generator: a torch.Generator on mu's device, for repeatable noise.
        baseline: None (no baseline), a constant b, or ``"leave_one_out"``:
            :math:`b_s = \frac{1}{n-1}\sum_{t \ne s} f(z_t)`, independent of :math:`z_s`, so still
            unbiased (needs ``n_samples >= 2``).
    Returns:
        :class:`GradientSamples` with ``mu`` and ``logvar`` of shape [n_samples, \*mu.shape], on
        mu's device and in its dtype.
    Example:
        >>> g = score_function_gradient(lambda z: (z > 0).sum(-1).to(z.dtype), torch.zeros(2), torch.zeros(2), 1000)
        >>> g.mu.shape   # g.mu.mean(0) is close to the N(0, 1) density at 0, 0.399
        torch.Size([1000, 2])
    """
    eps = _noise(mu, logvar, n_samples, generator)
    mu, logvar = mu.detach(), logvar.detach()
    with torch.no_grad():
        sigma = torch.exp(0.5 * logvar)
        values = _values(f, mu + sigma * eps).to(eps.dtype)                # [n]
        if baseline is None:
            centred = values
        elif isinstance(baseline, str):
            if baseline != "leave_one_out":
                raise ValueError(f"unknown baseline {baseline!r}; use None, a number or 'leave_one_out'")
            if eps.shape[0] < 2:
                raise ValueError("the leave-one-out baseline needs n_samples >= 2")
            centred = values - (values.sum() - values) / (values.shape[0] - 1)
        else:
            centred = values - torch.as_tensor(baseline, dtype=eps.dtype, device=eps.device)
        weight = centred.reshape(-1, *([1] * mu.dim()))                    # [n, 1, ..., 1]
        return GradientSamples(weight * eps / sigma, weight * 0.5 * (eps ** 2 - 1))


# ---------------------------------------------------------------------------------------------
# Signal-to-noise ratio of a model's stochastic gradient

class GradientSNR(NamedTuple):
    r"""Monte Carlo statistics of one group of parameters' gradient, flattened to [P] numbers.

    ``snr`` is :math:`|\mathbb E[g_p]| / \mathrm{std}[g_p]` per parameter; :attr:`average` is its
    mean over the group (Rainforth et al., 2018, average the SNR over parameters the same way).
    """
    mean: Tensor  # [P] gradient averaged over the repeats
    std: Tensor   # [P] its standard deviation over the repeats (one draw's spread)
    snr: Tensor   # [P] |mean| / std: inf where std = 0 < |mean|, 0 where both are 0

    @property
    def average(self) -> float:
        """The SNR averaged over the group's parameters (inf if any parameter's is)."""
        return self.snr.mean().item()


def gradient_snr(model: torch.nn.Module, x: Tensor, objective: Callable[[torch.nn.Module, Tensor], Tensor],
                 params: dict[str, Iterable[torch.nn.Parameter]] | None = None,
                 repeats: int = 100) -> dict[str, GradientSNR]:
    r"""Gradient signal-to-noise ratio of a stochastic objective on a fixed minibatch
    (Rainforth et al., 2018, "Tighter variational bounds are not necessarily better"):

    .. math:: \mathrm{SNR}_p = \frac{\big|\mathbb E[\hat g_p]\big|}{\sqrt{\mathrm{Var}[\hat g_p]}},
              \qquad \hat g = \nabla \frac1B \sum_{b=1}^B \mathrm{objective}(x_b),

    where the expectation and variance are over the objective's Monte Carlo noise only (x is
    fixed), estimated from ``repeats`` independent draws (the unbiased sample standard deviation).
    A high SNR means one draw points the way the true gradient does; an SNR well below 1 means
    one draw's direction is mostly noise. For the IWAE bound :math:`\mathcal L_K` the encoder's
    SNR falls like :math:`O(1/\sqrt K)` while the decoder's grows like :math:`O(\sqrt K)`.

    The noise comes from torch's global random state (seed it with
    :func:`dgmlib.config.seed_everything` for a repeatable result); one backward pass per repeat, each
    over the whole batch.

    Arguments:
        model: the module the objective is evaluated on (its train/eval mode is left as it is).
        x: a fixed minibatch [B, D] on the model's device and dtype.
        objective: ``objective(model, x) -> [B]``, e.g. ``functools.partial(iwae_bound, K=10)``.
        params: named groups of parameters, e.g. ``{"encoder": model.encoder.parameters()}``;
            default: the encoder and the decoder when the model has both, else all parameters.
        repeats: independent draws (>= 2).
    Returns:
        ``{group name: GradientSNR}``; a parameter that the objective does not use gets gradient 0.
    Example:
        >>> from dgmlib import build_vae, iwae_bound
        >>> model = build_vae(64, 2, hidden=(16,))
        >>> snr = gradient_snr(model, torch.rand(8, 64).bernoulli(), iwae_bound, repeats=20)
        >>> sorted(snr), snr["encoder"].snr.shape == snr["encoder"].mean.shape
        (['decoder', 'encoder'], True)
    """
    if int(repeats) < 2:
        raise ValueError(f"repeats must be at least 2 to estimate a standard deviation, got {repeats}")
    if params is None:
        if isinstance(model, LatentVariableModel) and hasattr(model, "decoder"):
            params = {"encoder": model.encoder.parameters(), "decoder": model.decoder.parameters()}
        else:
            params = {"all": model.parameters()}
    groups = {name: [p for p in ps if p.requires_grad] for name, ps in params.items()}
    flat = [p for ps in groups.values() for p in ps]
    if not flat:
        raise ValueError("no parameters that require gradients were given")
    draws = []
    with torch.enable_grad():
        for _ in range(int(repeats)):
            grads = torch.autograd.grad(objective(model, x).mean(), flat, allow_unused=True,
                                        materialize_grads=True)
            draws.append(torch.cat([g.reshape(-1) for g in grads]))
    g = torch.stack(draws)                                        # [repeats, P_total]
    shift = g - g[0]            # shifted data: exact zeros (std = 0) when every draw is the same
    mean, std = g[0] + shift.mean(0), shift.std(0)
    snr = torch.where(std > 0, mean.abs() / std.clamp_min(torch.finfo(g.dtype).tiny),
                      torch.where(mean != 0, torch.full_like(mean, math.inf), torch.zeros_like(mean)))
    out, start = {}, 0
    for name, ps in groups.items():
        size = sum(p.numel() for p in ps)
        part = slice(start, start + size)
        out[name] = GradientSNR(mean[part], std[part], snr[part])
        start += size
    return out
