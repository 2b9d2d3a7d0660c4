r"""Latent-variable models.

The one quantity every objective and metric uses is the tensor of log importance weights

.. math:: \log w_k = \log p_\theta(x \mid z_k) + \log p(z_k) - \log q_\phi(z_k \mid x),
          \qquad z_k \sim q_\phi(z \mid x),\ k = 1..K,

of shape ``[K, batch]``: the ELBO is ``log_w.mean(0)``, the IWAE bound ``log_mean_exp(log_w, 0)``
and :math:`\log p(x)` the IWAE bound at large K.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple, Sequence

import torch
from torch import Tensor, nn

from .distributions import diagonal_normal, gaussian_log_prob, make_likelihood
from .nets import ConvDecoder28, ConvEncoder28, mlp_decoder, mlp_encoder
from .priors import StandardNormal, make_prior


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


class VAE(nn.Module):
    r"""Variational autoencoder: Gaussian encoder :math:`q_\phi(z|x)`, prior :math:`p(z)`,
    decoder :math:`p_\theta(x|z)` (Kingma & Welling, 2014; Rezende et al., 2014).

    Arguments:
        encoder: x [..., D] -> (mu, logvar), each [..., d].
        decoder: z [..., d] -> likelihood parameters [..., D] (logits for Bernoulli).
        prior: a module with ``log_prob(z)`` and ``sample(n)`` (default :class:`~dgmlib.priors.StandardNormal`).
        likelihood: "bernoulli", "gaussian" or a module with ``log_prob(x, params)``, ``mean(params)``.
        config: the keyword arguments of :func:`build_vae` that rebuild this model (set by the
            builders; needed by :func:`dgmlib.checkpoints.save`).
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
        >>> model = build_vae(x_dim=64, z_dim=2)
        >>> model.log_weights(torch.zeros(3, 64), K=5).shape
        torch.Size([5, 3])
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, prior: nn.Module | None = None,
                 likelihood: str | nn.Module = "bernoulli", z_dim: int | None = None,
                 config: dict[str, Any] | None = None, flow: nn.Module | None = None,
                 amortized_flow: bool = False):
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
        self.likelihood = make_likelihood(likelihood) if isinstance(likelihood, str) else likelihood
        self.config = config
        self.autocast: torch.dtype | None = None

    @property
    def z_dim(self) -> int:
        return self.prior.dim

    def _check(self, x: Tensor) -> None:
        if x.dim() != 2:
            raise ValueError(f"x must be a [batch, D] tensor of flattened data, got shape {tuple(x.shape)}")
        p = next(self.parameters())
        if x.device != p.device or x.dtype != p.dtype:
            raise ValueError(f"x is {x.dtype} on {x.device} but the model is {p.dtype} on {p.device}; "
                             "move one of them with .to(...)")

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
        and evaluate every term of :math:`\log w_k` (see :class:`Terms`).

        Shapes:
            x: [B, D] -> Terms with [K, B] log-densities and z [K, B, d]
        """
        self._check(x)
        if int(K) < 1:
            raise ValueError(f"K must be a positive number of samples, got {K}")
        mu, logvar, context = self._encode(x)
        q = diagonal_normal(mu, logvar)
        z = q.rsample((int(K),))                                  # [K, B, d]
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
        if getattr(self.decoder, "autoregressive", False):
            if x is None:
                raise ValueError("an autoregressive decoder needs x; draw samples with model.sample")
            return self._net(self.decoder, z, x)
        return self._net(self.decoder, z)

    def _mean_given(self, z: Tensor) -> Tensor:
        """Mean of p(x|z) (an autoregressive decoder draws x pixel by pixel instead)."""
        if getattr(self.decoder, "autoregressive", False):
            return self.decoder.sample(z)
        return self.likelihood.mean(self.decoder(z))

    def log_weights(self, x: Tensor, K: int = 1) -> Tensor:
        """Log importance weights :math:`\\log w` of shape [K, B]; see the module docstring."""
        return self.terms(x, K).log_w

    @torch.no_grad()
    def sample(self, n: int) -> Tensor:
        """n images from the model: mean of :math:`p(x|z)` at :math:`z \\sim p(z)`. Shape [n, D]."""
        return self._mean_given(self.prior.sample(n))

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        """Mean of :math:`p(x|z)` at the posterior mean :math:`z = \\mu_\\phi(x)`, pushed through
        the posterior flow if the model has one. Shape [B, D]."""
        self._check(x)
        mu, _, context = self._encode(x)
        z = mu if self.flow is None else self.flow(mu, context=context)[0]
        return self._mean_given(z)


#: Posterior flows that :func:`build_vae` knows, each amortized from the encoder's last hidden layer.
POSTERIOR_FLOWS = ("planar", "radial", "householder", "sylvester_orthogonal", "sylvester_householder",
                   "sylvester_triangular", "iaf")


def posterior_flow(name: str, length: int, z_dim: int, context_dim: int) -> nn.Module:
    """``length`` amortized layers of the posterior flow ``name`` (one of :data:`POSTERIOR_FLOWS`),
    composed. Sylvester-triangular and IAF layers alternate the variable order between layers."""
    from . import flows

    if name not in POSTERIOR_FLOWS:
        raise ValueError(f"unknown posterior flow {name!r}; choose one of {', '.join(POSTERIOR_FLOWS)}")
    if length < 1:
        raise ValueError(f"a posterior flow needs at least one layer, got length={length}")
    c = context_dim
    def layer(i: int) -> nn.Module:
        if name == "planar":
            return flows.PlanarFlow(z_dim, context_dim=c)
        if name == "radial":
            return flows.RadialFlow(z_dim, context_dim=c)
        if name == "householder":
            return flows.HouseholderFlow(z_dim, n=1, context_dim=c)
        if name.startswith("sylvester_"):
            kind = name.removeprefix("sylvester_")
            return flows.SylvesterFlow(z_dim, kind=kind, permute=(kind == "triangular" and i % 2 == 1),
                                       context_dim=c)
        order = list(range(z_dim)) if i % 2 == 0 else list(reversed(range(z_dim)))
        return flows.IAF(z_dim, hidden=(2 * z_dim * 4,), context_dim=c, order=order)
    return flows.Compose(*[layer(i) for i in range(length)])


def build_vae(x_dim: int, z_dim: int, hidden: Sequence[int] = (256, 256), arch: str = "mlp",
              activation: str = "relu", likelihood: str = "bernoulli", flow: str | None = None,
              flow_length: int = 4, prior: str = "standard", prior_components: int = 50) -> VAE:
    """A VAE (by default with a standard normal prior), rebuilt by the same call from its ``config``.

    Arguments:
        x_dim: data size D (64 for 8x8 digits, 784 for MNIST).
        z_dim: latent size d.
        hidden: hidden layer sizes of the MLP encoder (the decoder mirrors them).
        arch: "mlp", or "conv" (the small convolutional pair for 28x28 images).
        flow: None (a diagonal Gaussian posterior) or a posterior flow from :data:`POSTERIOR_FLOWS`,
            amortized from the encoder's last hidden layer (MLP encoders).
        flow_length: number of flow layers.
        prior: one of :data:`dgmlib.priors.PRIORS`: "standard", "mog" (mixture of Gaussians),
            "vampprior" (pseudo-inputs in [0, 1], through this encoder) or "flow" (MAF layers).
        prior_components: K of the mixture or the VampPrior.
    """
    config = dict(x_dim=int(x_dim), z_dim=int(z_dim), hidden=[int(h) for h in hidden], arch=arch,
                  activation=activation, likelihood=likelihood)
    if flow is not None:
        config.update(flow=flow, flow_length=int(flow_length))
    if prior != "standard":
        config.update(prior=prior, prior_components=int(prior_components))
    if arch == "mlp":
        enc = mlp_encoder(x_dim, hidden, z_dim, activation)
        dec = mlp_decoder(z_dim, list(reversed(hidden)), x_dim, activation)
    elif arch == "conv":
        if x_dim != 784:
            raise ValueError(f"arch='conv' is for 28x28 images (x_dim=784), got x_dim={x_dim}")
        enc, dec = ConvEncoder28(z_dim), ConvDecoder28(z_dim)
    else:
        raise ValueError(f"unknown arch {arch!r}; choose 'mlp' or 'conv'")
    p_z = make_prior(prior, z_dim, encoder=enc, x_dim=x_dim, components=prior_components)
    if flow is None:
        return VAE(enc, dec, p_z, likelihood, config=config)
    if arch != "mlp":
        raise ValueError("posterior flows read the MLP encoder's last hidden layer; use arch='mlp'")
    return VAE(enc, dec, p_z, likelihood, config=config,
               flow=posterior_flow(flow, flow_length, z_dim, enc.feature_dim), amortized_flow=True)


class LinearGaussian(nn.Module):
    r"""Linear-Gaussian model :math:`z \sim \mathcal N(0, I_d)`,
    :math:`x \mid z \sim \mathcal N(Wz + b, \sigma^2 I_D)` (probabilistic PCA), where everything is
    known in closed form:

    .. math:: p(x) = \mathcal N(b, WW^\top + \sigma^2 I), \qquad
              p(z \mid x) = \mathcal N\big(\Sigma W^\top (x - b)/\sigma^2,\ \Sigma\big),\quad
              \Sigma = (I + W^\top W / \sigma^2)^{-1}.

    When the columns of W are orthogonal, :math:`\Sigma` is diagonal and the exact posterior is a
    member of the VAE's diagonal Gaussian family: :meth:`as_vae` builds that VAE, whose log
    weights then all equal :math:`\log p(x)`.

    Arguments:
        W: [D, d] loadings; b: [D] offset; logvar: :math:`\log\sigma^2` (float).
    """

    def __init__(self, W: Tensor, b: Tensor, logvar: float = 0.0):
        super().__init__()
        if W.dim() != 2 or b.shape != W.shape[:1]:
            raise ValueError(f"W must be [D, d] and b [D], got {tuple(W.shape)} and {tuple(b.shape)}")
        self.register_buffer("W", W)
        self.register_buffer("b", b)
        self.register_buffer("logvar", torch.tensor(float(logvar), dtype=W.dtype, device=W.device))

    @classmethod
    def random(cls, x_dim: int, z_dim: int, logvar: float = 0.0, orthogonal: bool = True,
               generator: torch.Generator | None = None, dtype: torch.dtype | None = None,
               device: torch.device | str | None = None) -> "LinearGaussian":
        """A random model; with ``orthogonal`` W = Q diag(s) with orthonormal Q (diagonal posterior)."""
        opts = dict(dtype=dtype or torch.get_default_dtype())
        W = torch.randn(x_dim, z_dim, generator=generator, **opts)
        if orthogonal:
            Q, _ = torch.linalg.qr(W)
            W = Q * (0.5 + 2.0 * torch.rand(z_dim, generator=generator, **opts))
        b = 0.5 * torch.randn(x_dim, generator=generator, **opts)
        return cls(W, b, logvar).to(device or "cpu")

    def marginal_cov(self) -> Tensor:
        """:math:`WW^\\top + \\sigma^2 I`, shape [D, D]."""
        D = self.W.shape[0]
        return self.W @ self.W.T + self.logvar.exp() * torch.eye(D, dtype=self.W.dtype, device=self.W.device)

    def log_marginal(self, x: Tensor) -> Tensor:
        """Exact :math:`\\log p(x)`. Shapes: x [B, D] -> [B]."""
        mvn = torch.distributions.MultivariateNormal(self.b, covariance_matrix=self.marginal_cov(),
                                                     validate_args=False)
        return mvn.log_prob(x)

    def posterior(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Exact posterior mean [B, d] and covariance [d, d]."""
        d = self.W.shape[1]
        prec = torch.eye(d, dtype=x.dtype, device=x.device) + self.W.T @ self.W / self.logvar.exp()
        cov = torch.linalg.inv(prec)
        mean = (x - self.b) @ self.W @ cov.T / self.logvar.exp()
        return mean, cov

    def as_vae(self, exact_posterior: bool = True) -> VAE:
        """This model as a :class:`VAE` with a Gaussian likelihood.

        With ``exact_posterior`` the encoder returns the true posterior's mean and (diagonal of
        the) covariance: exact when W's columns are orthogonal. Otherwise the encoder returns
        the prior, :math:`q(z|x) = p(z)`.
        """
        return VAE(_LinearGaussianEncoder(self, exact_posterior), _LinearDecoder(self),
                   StandardNormal(self.W.shape[1]).to(self.W), _FixedGaussian(self))


class _LinearGaussianEncoder(nn.Module):
    def __init__(self, lg: LinearGaussian, exact: bool):
        super().__init__()
        self.lg, self.exact = lg, exact
        self.z_dim = lg.W.shape[1]
        self._dummy = nn.Parameter(torch.zeros((), dtype=lg.W.dtype, device=lg.W.device))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if not self.exact:
            zeros = x.new_zeros(*x.shape[:-1], self.z_dim)
            return zeros, zeros
        mean, cov = self.lg.posterior(x)
        return mean, torch.diagonal(cov).log().expand_as(mean)


class _LinearDecoder(nn.Module):
    def __init__(self, lg: LinearGaussian):
        super().__init__()
        self.lg = lg

    def forward(self, z: Tensor) -> Tensor:
        return z @ self.lg.W.T + self.lg.b


class _FixedGaussian(nn.Module):
    def __init__(self, lg: LinearGaussian):
        super().__init__()
        self.lg = lg

    def log_prob(self, x: Tensor, params: Tensor) -> Tensor:
        return gaussian_log_prob(x, params, self.lg.logvar)

    def mean(self, params: Tensor) -> Tensor:
        return params
