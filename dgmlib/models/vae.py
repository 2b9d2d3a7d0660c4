r"""The variational autoencoder (one stochastic layer, optional posterior flow), with log weights

.. math:: \log w_k = \log p_\theta(x \mid z_k) + \log p(z_k) - \log q_\phi(z_k \mid x),
          \qquad z_k \sim q_\phi(z \mid x),\ k = 1..K.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ..distributions import StandardNormal, diagonal_normal
from ..likelihoods import LIKELIHOODS
from ..validation import check_positive_int
from .base import LatentVariableModel, Terms


class VAE(LatentVariableModel):
    r"""Variational autoencoder: Gaussian encoder :math:`q_\phi(z|x)`, prior :math:`p(z)`,
    decoder :math:`p_\theta(x|z)` (Kingma & Welling, 2014; Rezende et al., 2014).

    Arguments:
        encoder: x [..., D] -> (mu, logvar), each [..., d].
        decoder: z [..., d] -> likelihood parameters [..., D] (logits for Bernoulli).
        prior: a module with ``log_prob(z)`` and ``sample(n)`` (default :class:`~dgmlib.distributions.StandardNormal`).
        likelihood: "bernoulli", "gaussian" or a module with ``log_prob(x, params)``, ``mean(params)``.
        config: the keyword arguments of :func:`dgmlib.builders.build_vae` that rebuild this model
            (set by the builders; needed by :func:`dgmlib.checkpoints.save`).
        x_dim: D, checked against every input (None: not checked).
        flow: optional normalizing flow applied to the encoder's sample (see :mod:`dgmlib.flows`):
            :math:`z_K = f(z_0)`, :math:`\\log q(z_K|x) = \\log q(z_0|x) - \\log|\\det \\partial f / \\partial z_0|`.
        amortized_flow: pass the encoder's last hidden layer as the flow's ``context``, so the
            flow's parameters are computed per data point.
    Attributes:
        autocast: None (full precision), or the low-precision dtype (``torch.bfloat16``) the
            encoder and decoder networks run in under mixed precision; their outputs are cast back
            to the parameters' dtype, so sampling, the flow, the prior and every log-density stay
            in full precision. Set by :func:`dgmlib.train.fit` with ``mixed_precision=True``.
    Shapes:
        log_weights: x [B, D], K -> [K, B]
    Example:
        >>> model = dgmlib.build_vae(x_dim=64, z_dim=2)
        >>> model.log_weights(torch.zeros(3, 64), K=5).shape
        torch.Size([5, 3])
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, prior: nn.Module | None = None,
                 likelihood: str | nn.Module = "bernoulli", z_dim: int | None = None,
                 config: dict[str, Any] | None = None, flow: nn.Module | None = None,
                 amortized_flow: bool = False, x_dim: int | None = None):
        super().__init__()
        if amortized_flow and flow is None:
            raise ValueError("amortized_flow=True needs a flow")
        self.flow, self.amortized_flow = flow, amortized_flow
        self.encoder, self.decoder = encoder, decoder
        z_dim = z_dim if z_dim is not None else getattr(encoder, "z_dim", None)
        if prior is None:
            if z_dim is None:
                raise ValueError("give a prior or z_dim")
            prior = StandardNormal(z_dim)
        self.prior = prior
        self.likelihood = LIKELIHOODS.build(likelihood) if isinstance(likelihood, str) else likelihood
        self.config = config
        self.x_dim = None if x_dim is None else int(x_dim)
        self.autocast: torch.dtype | None = None

    def _net(self, net, *args: Tensor):
        """``net(*args)``; under mixed precision (``self.autocast`` set) the network runs in that
        dtype and its outputs come back in the parameters' dtype."""
        if self.autocast is None:
            return net(*args)
        p = next(self.parameters())
        with torch.autocast(p.device.type, dtype=self.autocast):
            out = net(*args)
        return tuple(o.to(p.dtype) for o in out) if isinstance(out, tuple) else out.to(p.dtype)

    def _encode(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
        """(mu, logvar, flow context or None)."""
        if self.amortized_flow:
            return self._net(self.encoder.with_features, x)
        mu, logvar = self._net(self.encoder, x)
        return mu, logvar, None

    def terms(self, x: Tensor, K: int = 1) -> Terms:
        r"""Draw K reparameterized samples :math:`z_k = \mu + \sigma \odot \epsilon_k` per data point
        and evaluate every term of :math:`\log w_k` (see :class:`~dgmlib.models.base.Terms`).

        Shapes:
            x: [B, D] -> Terms with [K, B] log-densities and z [K, B, d]
        """
        self.check_input(x)
        K = check_positive_int(K)
        mu, logvar, context = self._encode(x)
        q = diagonal_normal(mu, logvar)
        z = q.rsample((K,))                                       # [K, B, d]
        log_qz = q.log_prob(z)                                    # [K, B]
        if self.flow is not None:                                 # z_K = f(z_0), change of variables
            z, log_det = self.flow(z, context=context)
            log_qz = log_qz - log_det
        log_pz = self.prior.log_prob(z)                           # [K, B]
        log_px_z = self.likelihood.log_prob(x, self.decode(z, x))  # [K, B]
        return Terms(log_px_z, log_pz, log_qz, z, mu, logvar)

    def log_joint(self, x: Tensor, z: Tensor) -> Tensor:
        r""":math:`\log p(x, z) = \log p(x|z) + \log p(z)` at given latent points, e.g. a grid for
        plotting the true posterior :math:`p(z|x) \propto p(x, z)`.

        Shapes:
            x: [B, D], z: [..., B, d] or [..., 1, d] (one z for every x) -> [..., B]
        """
        return self.likelihood.log_prob(x, self.decode(z, x)) + self.prior.log_prob(z)

    def decode(self, z: Tensor, x: Tensor | None = None) -> Tensor:
        r"""Parameters of :math:`p(x|z)`. An autoregressive decoder (one whose ``autoregressive``
        attribute is true) models :math:`p(x|z) = \prod_i p(x_i | x_{<i}, z)` and also reads x
        (teacher forcing: all conditionals at once, each seeing only the pixels before it).

        Shapes:
            z: [..., B, d], x: [B, D] -> [..., B, D]
        """
        if self.autoregressive:
            if x is None:
                raise ValueError("an autoregressive decoder needs x; draw samples with model.sample")
            return self._net(self.decoder, z, x)
        return self._net(self.decoder, z)

    @property
    def autoregressive(self) -> bool:
        """Whether the decoder is autoregressive (:class:`~dgmlib.models.ARDecoder`): it reads x."""
        return bool(getattr(self.decoder, "autoregressive", False))

    def decode_mean(self, z: Tensor) -> Tensor:
        r"""Mean of :math:`p(x|z)`, shape [..., D]. An autoregressive decoder has no closed-form mean:
        it draws x pixel by pixel (``decoder.sample``)."""
        if self.autoregressive:
            return self.decoder.sample(z)
        return self.likelihood.mean(self._net(self.decoder, z))

    def analytic_kl(self, mu: Tensor, logvar: Tensor) -> Tensor:
        r"""Closed-form :math:`\mathrm{KL}(q(z|x) \| p(z))` [B]: a Gaussian posterior (no flow) and a
        prior with a ``kl`` method (the standard normal)."""
        if self.flow is not None:
            raise ValueError("a posterior flow has no closed-form KL; use analytic_kl=False")
        kl = getattr(self.prior, "kl", None)
        if kl is None:
            raise ValueError(f"{type(self.prior).__name__} has no closed-form KL; use analytic_kl=False")
        return kl(mu, logvar)

    @torch.no_grad()
    def sample(self, n: int) -> Tensor:
        r"""n draws :math:`x \sim p(x)`: :math:`z \sim p(z)`, then :math:`x \sim p(x|z)`. Shape [n, D].
        (Figures of samples show ``sample_means(n)`` instead.)"""
        z = self.prior.sample(n)
        if self.autoregressive:
            return self.decoder.sample(z)
        return self.likelihood.sample(self._net(self.decoder, z))

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        r"""Mean of :math:`p(x|z)` at the posterior mean :math:`z = \mu_\phi(x)`, pushed through
        the posterior flow if the model has one. Shape [B, D]."""
        self.check_input(x, support=False)
        mu, _, context = self._encode(x)
        z = mu if self.flow is None else self.flow(mu, context=context)[0]
        return self.decode_mean(z)
