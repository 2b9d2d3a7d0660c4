r"""A two-level hierarchical VAE, as in the VampPrior paper's HVAE (Tomczak & Welling, 2018):

.. math:: q_\phi(z_1, z_2 \mid x) = q_\phi(z_2 \mid x)\, q_\phi(z_1 \mid x, z_2), \qquad
          p_\theta(x, z_1, z_2) = p_\lambda(z_2)\, p_\theta(z_1 \mid z_2)\, p_\theta(x \mid z_1, z_2).

Any prior of :mod:`dgmlib.priors` sits on the top level :math:`z_2`; a VampPrior there uses the
top-level encoder :math:`q(z_2|x)` at its pseudo-inputs. The model speaks the same language as
:class:`dgmlib.models.VAE` (the :class:`~dgmlib.models.LatentVariableModel` contract): ``terms(x, K)`` and
``log_weights(x, K)`` ([K, B]), so
:func:`dgmlib.train.fit`, :func:`dgmlib.objectives.elbo` and
:func:`dgmlib.metrics.log_marginal_likelihood` work unchanged, and ``encoder`` is the top-level
encoder (what :func:`dgmlib.metrics.active_units` and :func:`dgmlib.metrics.marginal_kl` read).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from ..distributions import diagonal_normal
from ..likelihoods import LIKELIHOODS
from ..nets import GaussianEncoder, mlp, mlp_encoder
from ..priors import PRIORS
from ..validation import check_positive_int
from .base import LatentVariableModel, monte_carlo_means, Terms


class HierarchicalVAE(LatentVariableModel):
    r"""Two stochastic layers, top :math:`z_2` (with the prior) and bottom :math:`z_1`:

    .. math:: \log w_k = \log p(x \mid z_1^k, z_2^k) + \log p(z_1^k \mid z_2^k) + \log p(z_2^k)
              - \log q(z_1^k \mid x, z_2^k) - \log q(z_2^k \mid x),
              \quad z_2^k \sim q(z_2|x),\ z_1^k \sim q(z_1|x, z_2^k).

    Every conditional is a diagonal Gaussian from an MLP (inputs concatenated); the decoder
    reads :math:`[z_1, z_2]`.

    Arguments:
        x_dim: data size D.
        z1_dim, z2_dim: sizes of the bottom and top latent layers.
        hidden: hidden sizes of every MLP (decoders mirror them).
        activation: MLP activation.
        prior: the prior on :math:`z_2`, a name of :data:`dgmlib.priors.PRIORS`.
        prior_components: K of a mixture or VampPrior prior.
        likelihood: "bernoulli" or "gaussian".
        init: the MLPs' weight initialization, "torch" or "he" (:func:`dgmlib.nets.mlp`).
    Shapes:
        log_weights: x [B, D], K -> [K, B];  terms(x, K).z: [K, B, z1_dim + z2_dim] ([z1, z2])
    Example:
        >>> model = HierarchicalVAE(64, 4, 2, hidden=(32,), prior="vampprior", prior_components=10)
        >>> model.log_weights(torch.zeros(3, 64), K=5).shape
        torch.Size([5, 3])
    """

    def __init__(self, x_dim: int, z1_dim: int, z2_dim: int, hidden: Sequence[int] = (256, 256),
                 activation: str = "relu", prior: str = "standard", prior_components: int = 50,
                 likelihood: str = "bernoulli", init: str = "torch"):
        super().__init__()
        hidden = [int(h) for h in hidden]
        self.x_dim, self.z1_dim, self.z2_dim = int(x_dim), int(z1_dim), int(z2_dim)
        self.encoder = mlp_encoder(x_dim, hidden, z2_dim, activation, init)                          # q(z2|x)
        self.encoder_z1 = GaussianEncoder(mlp([x_dim + z2_dim, *hidden, 2 * z1_dim], activation, init), z1_dim)
        self.prior_z1 = GaussianEncoder(mlp([z2_dim, *hidden, 2 * z1_dim], activation, init), z1_dim)  # p(z1|z2)
        self.decoder = mlp([z1_dim + z2_dim, *reversed(hidden), x_dim], activation, init)            # p(x|z1,z2)
        self.prior = PRIORS.build(prior, z_dim=z2_dim, encoder=self.encoder, x_dim=x_dim,
                                  components=prior_components)
        self.likelihood = LIKELIHOODS.build(likelihood)
        self.config = dict(model="hierarchical_vae", x_dim=self.x_dim, z1_dim=self.z1_dim, z2_dim=self.z2_dim, hidden=hidden,
                           activation=activation, prior=prior, prior_components=int(prior_components),
                           likelihood=likelihood)
        if init != "torch":    # configs of models built before the option existed stay as they were
            self.config["init"] = init

    @property
    def z_dim(self) -> int:
        """Size of the top level, where the prior lives."""
        return self.z2_dim

    def _bottom_posterior(self, x: Tensor, z2: Tensor):
        """q(z1 | x, z2) for z2 [..., B, d2] -> a distribution over [..., B, d1]."""
        xz = torch.cat([x.expand(*z2.shape[:-1], x.shape[-1]), z2], dim=-1)
        return diagonal_normal(*self.encoder_z1(xz))

    def terms(self, x: Tensor, K: int = 1) -> Terms:
        """K reparameterized samples of (z2, z1) per data point and every term of log w.

        Shapes:
            x: [B, D] -> Terms with [K, B] log-densities, z [K, B, z1_dim + z2_dim], mu/logvar of q(z2|x) [B, d2]
        """
        self.check_input(x)
        K = check_positive_int(K)
        mu2, logvar2 = self.encoder(x)
        q2 = diagonal_normal(mu2, logvar2)
        z2 = q2.rsample((K,))                                          # [K, B, d2]
        q1 = self._bottom_posterior(x, z2)
        z1 = q1.rsample()                                                   # [K, B, d1]
        log_qz = q2.log_prob(z2) + q1.log_prob(z1)
        log_pz = self.prior.log_prob(z2) + diagonal_normal(*self.prior_z1(z2)).log_prob(z1)
        log_px_z = self.likelihood.log_prob(x, self.decoder(torch.cat([z1, z2], dim=-1)))
        return Terms(log_px_z, log_pz, log_qz, torch.cat([z1, z2], dim=-1), mu2, logvar2)

    def decode_mean(self, z: Tensor) -> Tensor:
        """Mean of p(x|z1, z2) at z = [z1, z2]. Shapes: [..., d1 + d2] -> [..., D]."""
        return self.likelihood.mean(self.decoder(z))

    def prior_draw(self, n: int) -> Tensor:
        """[z1, z2] [n, d1 + d2] from the generative model: z2 ~ p(z2), z1 ~ p(z1|z2)."""
        z2 = self.prior.sample(n)
        z1 = diagonal_normal(*self.prior_z1(z2)).sample()
        return torch.cat([z1, z2], dim=-1)

    @torch.no_grad()
    def sample(self, n: int) -> Tensor:
        """n draws x ~ p(x): z2 ~ p(z2), z1 ~ p(z1|z2), x ~ p(x|z1, z2). Shape [n, D].
        (Figures of samples show ``sample_means(n)``.)"""
        return self.likelihood.sample(self.decoder(self.prior_draw(n)))

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        """Mean of p(x|z1, z2) at the posterior means (z2 = mu2(x), z1 = mu1(x, z2)). Shape [B, D]."""
        self.check_input(x, support=False)
        z2 = self.encoder(x)[0]
        z1 = self.encoder_z1(torch.cat([x, z2], dim=-1))[0]
        return self.decode_mean(torch.cat([z1, z2], dim=-1))

    @torch.no_grad()
    def posterior_means(self, x: Tensor, samples: int | None = None, noise: float = 1e-3) -> tuple[Tensor, Tensor]:
        r"""(:math:`\mathbb E_q[z_1|x]`, :math:`\mathbb E_q[z_2|x]`), the first by Monte Carlo over
        :math:`z_2 \sim q(z_2|x)`: ``samples`` draws, or by default as many as make the variance of every
        estimate at most ``noise`` (:func:`~dgmlib.models.base.monte_carlo_means`).
        Shapes: x [B, D] -> ([B, d1], [B, d2])."""
        return self._posterior_mean_stats(x, samples, noise)[0]

    def _posterior_mean_stats(self, x: Tensor, samples: int | None, noise: float) -> tuple[list[Tensor], list[Tensor]]:
        """([E q(z1|x), E q(z2|x)], the Monte Carlo variance of each estimate)."""
        self.check_input(x, support=False)
        mu2, logvar2 = self.encoder(x)

        def draw(k: int) -> list[Tensor]:
            z2 = diagonal_normal(mu2, logvar2).sample((k,))
            return [self.encoder_z1(torch.cat([x.expand(k, *x.shape), z2], dim=-1))[0], mu2.expand(k, *mu2.shape)]
        return monte_carlo_means(draw, x.shape[0], samples, noise)
