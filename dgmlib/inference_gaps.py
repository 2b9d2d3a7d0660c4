r"""The inference gap of a VAE, split into its approximation and amortization parts
(Cremer, Li & Duvenaud, 2018, "Inference Suboptimality in Variational Autoencoders").

For a data point x, an amortized posterior :math:`q_\phi(z|x)` (the encoder's output) and
:math:`q^*` the best member of the same variational family for this x alone,

.. math:: \underbrace{\log p(x) - \mathcal L[q_\phi]}_{\text{inference gap}}
          = \underbrace{\log p(x) - \mathcal L[q^*]}_{\text{approximation gap}}
          + \underbrace{\mathcal L[q^*] - \mathcal L[q_\phi]}_{\text{amortization gap}},
          \qquad q^* = \arg\max_{q \in \mathcal Q} \mathcal L[q].

:func:`refine_posterior` finds :math:`q^*` for every point of a split at once: the variational
parameters of all B points are one ``[B, d]`` leaf tensor each (mean, log-variance and, for an
amortized posterior flow, the flow's ``[B, c]`` context), optimized by Adam on the
reparameterized ELBO from the encoder's output. The points do not interact (each one's loss
depends only on its own rows, and Adam acts per element), so the batch is B independent
optimizations run in one pass. The model's own parameters are never changed.
"""
from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import torch
from torch import Tensor, nn

from . import validation
from .distributions import LOG_2PI, gaussian_log_prob
from .models import Model


class Posterior(NamedTuple):
    """Per-point parameters of :math:`q(z|x)`: the Gaussian base and the flow's context."""
    mu: Tensor                # [B, d]
    logvar: Tensor            # [B, d]
    context: Tensor | None    # [B, c] for a model with an amortized posterior flow, else None


class Refinement(NamedTuple):
    """The result of :func:`refine_posterior` (nats per data point)."""
    posterior: Posterior      # the refined parameters (the start's where refinement did not help)
    elbo: Tensor              # [B] ELBO of the returned q, ``eval_K`` samples
    start_elbo: Tensor        # [B] ELBO of the encoder's q, the same noise
    converged: Tensor         # [B] bool: relative change over the last quarter of the steps <= rtol
    improved: Tensor          # [B] bool: refinement raised the bound (else the start is returned)
    trace: Tensor             # [checks, B] ELBO at a fixed noise draw, every ``check_every`` steps


class Gaps(NamedTuple):
    """The decomposition of :func:`inference_gaps`, nats per data point ([B] each)."""
    log_px: Tensor            # log p(x), importance sampled from q*
    elbo_amortized: Tensor    # L[q_phi], the encoder's ELBO
    elbo_refined: Tensor      # L[q*], the ELBO of the per-point optimum
    approximation: Tensor     # log p(x) - L[q*]
    amortization: Tensor      # L[q*] - L[q_phi]
    converged: Tensor         # bool, from the refinement

    @property
    def total(self) -> Tensor:
        """The inference gap log p(x) - L[q_phi] = approximation + amortization."""
        return self.log_px - self.elbo_amortized


def _flow(model: nn.Module):
    return getattr(model, "flow", None)


@torch.no_grad()
def encoder_posterior(model: nn.Module, x: Tensor) -> Posterior:
    r"""The amortized parameters :math:`(\mu_\phi(x), \log\sigma^2_\phi(x))` of every row of x, and
    the encoder features that an amortized posterior flow reads as its context.

    Shapes:
        x: [B, D] -> Posterior(mu [B, d], logvar [B, d], context [B, c] or None)
    """
    _check_inputs(model, x, support=False)
    if getattr(model, "amortized_flow", False):
        return Posterior(*model.encoder.with_features(x))
    mu, logvar = model.encoder(x)
    return Posterior(mu, logvar, None)


def log_weights_given(model: nn.Module, x: Tensor, q: Posterior, eps: Tensor,
                      path_gradient: bool = False) -> Tensor:
    r"""Log importance weights for GIVEN per-point variational parameters instead of the
    encoder's: :math:`z_0 = \mu + \sigma \odot \epsilon`, :math:`z = f(z_0)` through the model's
    posterior flow (if any, with ``q.context``), and

    .. math:: \log w = \log p(x \mid z) + \log p(z) - \log q_0(z_0) + \log|\det \partial f/\partial z_0|,
              \qquad \log q_0(z_0) = -\tfrac12 \textstyle\sum_j \big(\log 2\pi + \log\sigma_j^2 + \epsilon_j^2\big).

    Differentiable in ``q`` (the reparameterization trick). With the encoder's parameters and the
    same noise it equals ``model.terms(x, K).log_w``. With ``path_gradient`` (models without a
    posterior flow) :math:`\log q` is evaluated at :math:`z` with ``q``'s parameters detached: the
    same value, but the gradient keeps only the path through z ("sticking the landing", Roeder
    et al., 2017), which vanishes at :math:`q = p(z|x)` instead of staying noisy.

    Shapes:
        x: [B, D], q.mu, q.logvar: [B, d], eps: [K, B, d] -> [K, B]
    """
    _check_inputs(model, x)
    return _log_weights_given(model, x, q, eps, path_gradient)


def _log_weights_given(model: nn.Module, x: Tensor, q: Posterior, eps: Tensor,
                       path_gradient: bool = False) -> Tensor:
    """:func:`log_weights_given` on data checked by the caller (the optimization loop's steps)."""
    if eps.dim() != 3 or eps.shape[1:] != q.mu.shape or q.logvar.shape != q.mu.shape:
        raise ValueError(f"eps must be [K, B, d] with mu and logvar [B, d]; got eps {tuple(eps.shape)}, "
                         f"mu {tuple(q.mu.shape)}, logvar {tuple(q.logvar.shape)}")
    z = q.mu + torch.exp(0.5 * q.logvar) * eps
    flow = _flow(model)
    if path_gradient and flow is None:
        log_q = gaussian_log_prob(z, q.mu.detach(), q.logvar.detach())
    else:
        log_q = -0.5 * (LOG_2PI + q.logvar + eps ** 2).sum(-1)
    if flow is not None:
        z, log_det = flow(z, context=q.context)
        log_q = log_q - log_det
    params = model.decode(z, x) if hasattr(model, "decode") else model.decoder(z)
    return model.likelihood.log_prob(x, params) + model.prior.log_prob(z) - log_q


def _elbo_given(model: nn.Module, x: Tensor, q: Posterior, eps: Tensor, chunk: int = 100) -> Tensor:
    """Mean log weight over the K rows of eps, ``chunk`` samples per pass: [B]."""
    return sum(_log_weights_given(model, x, q, e).sum(0) for e in eps.split(chunk)) / eps.shape[0]


def _check_inputs(model: nn.Module, x: Tensor, support: bool = True) -> None:
    """The model's own input check (:meth:`~dgmlib.models.base.Model.check_input`: shape, feature count,
    dtype and device, finite values and, with ``support``, the likelihood's support), the checks
    :func:`~dgmlib.train.fit` runs; for other modules a non-empty, finite [B, D] tensor of their dtype."""
    if isinstance(model, Model):
        model.check_input(x, support=support)
        return
    validation.check_tensor(x)
    if x.dim() != 2 or x.shape[0] < 1:
        raise ValueError(f"x must be a [B, D] tensor with B >= 1, got shape {tuple(x.shape)}")
    p = next(model.parameters(), None)
    if p is not None and (p.dtype != x.dtype or p.device != x.device):
        raise ValueError(f"x is {x.dtype} on {x.device} but the model is {p.dtype} on {p.device}")
    validation.check_finite(x)


def refine_posterior(model: nn.Module, x: Tensor, steps: int = 300, lr: float = 0.05, K: int = 8,
                     eval_K: int = 500, check_every: int = 25, check_K: int = 100, rtol: float = 5e-3,
                     start: Posterior | None = None, warn: bool = True,
                     path_gradient: bool = True) -> Refinement:
    r"""Per-point variational inference from the encoder's output: maximize
    :math:`\mathcal L(x_i; \lambda_i) = \mathbb E_{q_{\lambda_i}}[\log p(x_i, z) - \log q_{\lambda_i}(z)]`
    over :math:`\lambda_i = (\mu_i, \log\sigma^2_i[, h_i])` for all points at once (Cremer et al.,
    2018, section 3; the local optimization of semi-amortized VAEs, Kim et al., 2018).

    Adam (betas 0.9, 0.99) on the K-sample reparameterized ELBO (the path-derivative gradient
    for a Gaussian q unless ``path_gradient`` is False, see :func:`log_weights_given`; a posterior
    flow always gets the full reparameterization gradient), with a cosine learning-rate decay from ``lr`` to
    ``lr / 100``. Every ``check_every`` steps the ELBO is evaluated at one fixed draw of
    ``check_K`` noise samples (so its changes are the optimizer's, not fresh Monte Carlo noise);
    a point has ``converged`` when this ELBO changed by at most ``rtol * max(1, |ELBO|)`` over the
    last quarter of the steps. At the end the encoder's q and the refined q
    are evaluated with the same ``eval_K`` noise draws; wherever the refined bound is lower, the
    start's parameters and bound are returned instead and ``improved`` is False, so the returned
    bound is never below the start. Both conditions are reported by a warning (``warn``).

    Arguments:
        model: a VAE (anything with ``encoder``, ``decode``, ``prior``, ``likelihood`` and an
            optional posterior ``flow``); its parameters are not changed.
        start: initial parameters (default: the encoder's, :func:`encoder_posterior`).
        path_gradient: drop the score term of a Gaussian q's gradient (False: the full
            reparameterization gradient, the one a flow gets, to refine both kinds alike).
    Shapes:
        x: [B, D] -> Refinement with [B] bounds and Posterior([B, d], [B, d], [B, c] or None)
    Example:
        >>> r = refine_posterior(model, data.test, steps=300)      # doctest: +SKIP
        >>> (r.elbo - r.start_elbo).mean()                           # the amortization gap
    """
    _check_inputs(model, x)
    if steps < 1 or K < 1 or eval_K < 1 or check_every < 1 or not lr > 0:
        raise ValueError(f"steps, K, eval_K, check_every and lr must be positive; got steps={steps}, "
                         f"K={K}, eval_K={eval_K}, check_every={check_every}, lr={lr}")
    if check_K < 1:
        raise ValueError(f"check_K must be positive, got {check_K}")
    was_training = model.training
    model.eval()
    try:
        q0 = start if start is not None else encoder_posterior(model, x)
        leaves = [t.detach().clone().requires_grad_(True) for t in q0 if t is not None]
        as_q = (lambda ts: Posterior(ts[0], ts[1], ts[2] if len(ts) > 2 else None))
        opt = torch.optim.Adam(leaves, lr=lr, betas=(0.9, 0.99))
        shape = (K, *q0.mu.shape)
        eps_check = torch.randn((check_K, *q0.mu.shape), dtype=x.dtype, device=x.device)
        trace, checked_at = [], []
        for step in range(steps + 1):
            if step % check_every == 0 or step == steps:
                with torch.no_grad():
                    trace.append(_elbo_given(model, x, as_q(leaves), eps_check))
                checked_at.append(step)
            if step == steps:
                break
            for group in opt.param_groups:   # cosine decay from lr to lr / 100
                group["lr"] = lr * (0.01 + 0.495 * (1 + math.cos(math.pi * step / steps)))
            eps = torch.randn(shape, dtype=x.dtype, device=x.device)
            loss = -_log_weights_given(model, x, as_q(leaves), eps, path_gradient=path_gradient).mean(0).sum()
            grads = torch.autograd.grad(loss, leaves)   # only the local parameters get gradients
            for leaf, g in zip(leaves, grads):
                leaf.grad = g
            opt.step()
        trace_t = torch.stack(trace)
        ref = max(i for i, s in enumerate(checked_at) if s <= 0.75 * steps)   # the last quarter's start
        change = (trace_t[-1] - trace_t[ref]).abs()
        converged = change <= rtol * trace_t[-1].abs().clamp_min(1.0)
        with torch.no_grad():
            refined = as_q([t.detach() for t in leaves])
            eps_eval = torch.randn((eval_K, *q0.mu.shape), dtype=x.dtype, device=x.device)
            start_elbo = _elbo_given(model, x, q0, eps_eval)
            elbo = _elbo_given(model, x, refined, eps_eval)
        improved = elbo >= start_elbo
        keep = improved[:, None]
        posterior = Posterior(*(None if r is None else torch.where(keep, r, s) for r, s in zip(refined, q0)))
        elbo = torch.where(improved, elbo, start_elbo)
    finally:
        model.train(was_training)
    if warn and not bool(converged.all()):
        warnings.warn(f"refine_posterior: {int((~converged).sum())} of {len(converged)} points did not "
                      f"converge in {steps} steps (relative change over the last quarter above rtol={rtol}); their "
                      "bound may still rise: give more steps or a larger lr", RuntimeWarning, stacklevel=2)
    if warn and not bool(improved.all()):
        warnings.warn(f"refine_posterior: for {int((~improved).sum())} of {len(improved)} points the "
                      "refined ELBO was below the encoder's; their start parameters are returned "
                      "(improved=False)", RuntimeWarning, stacklevel=2)
    return Refinement(posterior, elbo, start_elbo, converged, improved, trace_t)


@torch.no_grad()
def log_marginal_given(model: nn.Module, x: Tensor, q: Posterior, K: int = 5000,
                       chunk: int = 500) -> Tensor:
    r"""Importance-sampling estimate :math:`\log \frac1K \sum_k p(x, z_k)/q(z_k)`, :math:`z_k \sim q`,
    with the proposal q given per point (a stochastic lower bound on log p(x) that converges to it
    as K grows), ``chunk`` samples per pass.

    Shapes:
        x: [B, D], q: Posterior of [B, d] -> [B]
    """
    _check_inputs(model, x)
    K, chunk = validation.check_positive_int(K, "K"), validation.check_positive_int(chunk, "chunk")
    total = None
    for start in range(0, int(K), int(chunk)):
        n = min(int(chunk), int(K) - start)
        eps = torch.randn((n, *q.mu.shape), dtype=x.dtype, device=x.device)
        lse = torch.logsumexp(_log_weights_given(model, x, q, eps), dim=0)
        total = lse if total is None else torch.logaddexp(total, lse)
    return total - math.log(K)


def inference_gaps(model: nn.Module, x: Tensor, steps: int = 300, lr: float = 0.05, K: int = 8,
                   eval_K: int = 500, ll_K: int = 5000, rtol: float = 5e-3, warn: bool = True,
                   refinement: Refinement | None = None) -> Gaps:
    r"""Per-point inference, approximation and amortization gaps (Cremer et al., 2018):

    .. math:: \log p(x) - \mathcal L[q_\phi] = \big(\log p(x) - \mathcal L[q^*]\big)
              + \big(\mathcal L[q^*] - \mathcal L[q_\phi]\big),

    with :math:`q^*` from :func:`refine_posterior` (in the model's own family: diagonal Gaussian,
    or Gaussian plus the model's posterior flow with a per-point context) and :math:`\log p(x)`
    estimated by importance sampling with ``ll_K`` samples from :math:`q^*`
    (:func:`log_marginal_given`). That estimate is a stochastic lower bound on log p(x), so the
    approximation gap (and the total) can only be underestimated by it; the amortization gap does
    not depend on it. The two gaps sum to the total exactly.

    Arguments:
        refinement: the result of an earlier :func:`refine_posterior` on the same x, reused instead
            of refining again (``steps``, ``lr``, ``K``, ``eval_K`` and ``rtol`` are then unused).
    Shapes:
        x: [B, D] -> Gaps of [B] tensors (nats)
    Raises:
        ValueError: x that :func:`~dgmlib.train.fit` would refuse (wrong shape or feature count, NaN or
            infinite values, values outside the likelihood's support), named by rows.
    """
    _check_inputs(model, x)
    refined = refinement
    if refined is None:
        refined = refine_posterior(model, x, steps=steps, lr=lr, K=K, eval_K=eval_K, rtol=rtol, warn=warn)
    elif refined.elbo.shape != x.shape[:1]:
        raise ValueError(f"the refinement is for {refined.elbo.shape[0]} points, x has {x.shape[0]}")
    was_training = model.training
    model.eval()
    try:
        log_px = log_marginal_given(model, x, refined.posterior, ll_K)
    finally:
        model.train(was_training)
    return Gaps(log_px, refined.start_elbo, refined.elbo, log_px - refined.elbo,
                refined.elbo - refined.start_elbo, refined.converged)
