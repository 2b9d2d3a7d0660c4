r"""Priors :math:`p(z)` over the latent space: each has ``log_prob(z)``, ``rsample(n)`` (reparameterized
draws, gradients reach the prior's parameters) and ``sample(n)`` (the same draws without gradients).

:class:`~dgmlib.distributions.StandardNormal`, :class:`MixtureOfGaussians`, :class:`VampPrior` (Tomczak & Welling, 2018),
:class:`FlowPrior` (MAF layers) and :class:`AggregatePosterior` (the optimal, memorizing prior).
Mixtures take a chunked log-sum-exp over their components (memory bounded in K).

A prior may also offer ``kl(mu, logvar)``, the closed-form
:math:`\mathrm{KL}(\mathcal N(\mu, \sigma^2) \| p)`; objectives fall back to a Monte Carlo
estimate where it has none.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .distributions import StandardNormal, log_mean_normal
from .flows import MAF, Compose, FlowDistribution
from .registry import Registry


class Prior(nn.Module):
    """Base class of the priors: ``log_prob(z)`` and ``rsample(n)``; ``sample(n)`` is ``rsample``
    without gradients (the convention of ``torch.distributions``)."""

    dim: int

    def _check(self, z: Tensor) -> None:
        if z.dim() == 0 or z.shape[-1] != self.dim:
            raise ValueError(f"z must be [..., {self.dim}] ({self.dim} dimensions) for this {type(self).__name__}, "
                             f"got shape {tuple(z.shape)}")

    def log_prob(self, z: Tensor) -> Tensor:
        raise NotImplementedError

    def rsample(self, n: int) -> Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, n: int) -> Tensor:
        return self.rsample(n)


def _anchor(module: nn.Module) -> dict:
    """dtype and device of a module's first parameter (or buffer), for tensors made beside it."""
    t = next(module.parameters(), None)
    t = next(module.buffers(), None) if t is None else t
    return {} if t is None else {"dtype": t.dtype, "device": t.device}


class AggregatePosterior(Prior):
    r"""The aggregated posterior as a prior, :math:`p(z) = q(z) = \frac1N \sum_{i=1}^N q(z|x_i)`:
    the prior that maximizes the ELBO for a given encoder (Hoffman & Johnson, 2016; Tomczak &
    Welling, 2018). It costs O(N) per evaluation and memorizes the training set.

    Arguments:
        encoder: x [..., D] -> (mu, logvar) [..., d], shared with the VAE (gradients reach it).
        x: the data points [N, D] (stored as a buffer).
        chunk: memory bound of the log-sum-exp over N.
    Shapes:
        log_prob: z [..., d] -> [...];  rsample(n), sample(n) -> [n, d]
    """

    def __init__(self, encoder: nn.Module, x: Tensor, chunk: int = 512):
        super().__init__()
        self.encoder, self.chunk = encoder, int(chunk)
        self.register_buffer("x", x)
        with torch.no_grad():
            self.dim = int(encoder(x[:1])[0].shape[-1])

    def log_prob(self, z: Tensor) -> Tensor:
        self._check(z)
        mu, logvar = self.encoder(self.x)
        return log_mean_normal(z.reshape(-1, self.dim), mu, logvar, self.chunk).reshape(z.shape[:-1])

    def rsample(self, n: int) -> Tensor:
        """Pick a data point uniformly, then draw z ~ q(z|x_i)."""
        mu, logvar = self.encoder(self.x[torch.randint(len(self.x), (n,), device=self.x.device)])
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def _sample_components(mu: Tensor, logvar: Tensor, n: int) -> Tensor:
    """n draws from the equally weighted mixture of the diagonal Gaussians (mu_k, logvar_k) [K, d]:
    a component uniformly at random, then a reparameterized Gaussian draw."""
    k = torch.randint(mu.shape[0], (int(n),), device=mu.device)
    m, lv = mu[k], logvar[k]
    return m + torch.exp(0.5 * lv) * torch.randn_like(m)


class MixtureOfGaussians(Prior):
    r"""A mixture of K diagonal Gaussians with learned means and variances and equal weights,

    .. math:: p_\lambda(z) = \frac1K \sum_{k=1}^K \mathcal N\big(z; \mu_k, \mathrm{diag}\,\sigma_k^2\big),
              \qquad \lambda = \{\mu_k, \log\sigma_k^2\}_{k=1}^K,

    evaluated with a chunked log-sum-exp (memory bounded in K). The KL to it has no closed form:
    objectives use the Monte Carlo estimate :math:`\log q(z|x) - \log p(z)`.

    Arguments:
        dim: size of z.
        components: K.
        init_scale: the means start at ``init_scale * N(0, I)``, the variances at 1.
        chunk: memory bound of the log-sum-exp over the components.
    Shapes:
        log_prob: z [..., dim] -> [...];  rsample(n), sample(n) -> [n, dim]
    Example:
        >>> prior = MixtureOfGaussians(2, components=10)
        >>> prior.log_prob(torch.zeros(5, 2)).shape
        torch.Size([5])
    """

    def __init__(self, dim: int, components: int = 10, init_scale: float = 1.0, chunk: int = 512):
        super().__init__()
        if int(components) < 1 or int(dim) < 1:
            raise ValueError(f"a mixture needs dim >= 1 and components >= 1, got {dim} and {components}")
        self.dim, self.components, self.chunk = int(dim), int(components), int(chunk)
        self.means = nn.Parameter(init_scale * torch.randn(self.components, self.dim))
        self.logvars = nn.Parameter(torch.zeros(self.components, self.dim))

    def log_prob(self, z: Tensor) -> Tensor:
        self._check(z)
        flat = z.reshape(-1, self.dim)
        return log_mean_normal(flat, self.means, self.logvars, self.chunk).reshape(z.shape[:-1])

    def rsample(self, n: int) -> Tensor:
        return _sample_components(self.means, self.logvars, n)


class VampPrior(Prior):
    r"""The variational mixture of posteriors (Tomczak & Welling, 2018):

    .. math:: p_\lambda(z) = \frac1K \sum_{k=1}^K q_\phi(z \mid u_k),

    the encoder's posteriors at K trainable pseudo-inputs :math:`u_k`. With the N training
    images as pseudo-inputs it is the aggregated posterior :math:`q(z)`, the prior that maximizes
    the ELBO (see :class:`AggregatePosterior`); with :math:`K \ll N` learned ones it approximates
    it at a fraction of the cost and cannot give every training image its own component.

    The pseudo-inputs stay in the data range: they are stored unconstrained and clamped to
    ``data_range`` when used (the paper's hard-tanh). Initialized from data they are exact data points.

    Arguments:
        encoder: x [..., D] -> (mu, logvar) [..., d], shared with the model (gradients reach it).
        pseudo_inputs: K, the number of pseudo-inputs (drawn uniformly in the middle half of the
            data range), or a tensor [K, D] of initial values (e.g. K training images).
        x_dim: D (needed when ``pseudo_inputs`` is a number).
        learn: train the pseudo-inputs (a parameter) or keep them fixed (a buffer).
        data_range: (low, high) of the data; (0, 1) for binarized or scaled images.
        chunk: memory bound of the log-sum-exp over the K components.
    Shapes:
        log_prob: z [..., d] -> [...];  rsample(n), sample(n) -> [n, d];  pseudo_inputs: [K, D]
    Example:
        >>> enc = dgmlib.nets.mlp_encoder(64, [32], 2)
        >>> prior = VampPrior(enc, 50, x_dim=64)
        >>> prior.log_prob(torch.zeros(5, 2)).shape
        torch.Size([5])
    """

    def __init__(self, encoder: nn.Module, pseudo_inputs: int | Tensor, x_dim: int | None = None,
                 learn: bool = True, data_range: tuple[float, float] = (0.0, 1.0), chunk: int = 512):
        super().__init__()
        low, high = (float(v) for v in data_range)
        if not low < high:
            raise ValueError(f"data_range must be (low, high) with low < high, got {data_range}")
        self.encoder, self.data_range, self.chunk = encoder, (low, high), int(chunk)
        if isinstance(pseudo_inputs, Tensor):
            if pseudo_inputs.dim() != 2 or len(pseudo_inputs) < 1:
                raise ValueError(f"pseudo_inputs must be a [K, D] tensor, got shape {tuple(pseudo_inputs.shape)}")
            if not torch.isfinite(pseudo_inputs).all():
                raise ValueError("pseudo_inputs contain NaN or infinite values")
            init = pseudo_inputs.detach().clone().to(**_anchor(encoder))
        else:
            if x_dim is None or int(pseudo_inputs) < 1:
                raise ValueError("give the number K >= 1 of pseudo-inputs and x_dim, or a [K, D] tensor")
            # drawn on the CPU in the default dtype (a seed gives the same values on every device), then
            # placed beside the encoder
            u = torch.rand(int(pseudo_inputs), int(x_dim))
            init = (low + (high - low) * (0.25 + 0.5 * u)).to(**_anchor(encoder))
        if learn:
            self.raw = nn.Parameter(init)
        else:
            self.register_buffer("raw", init)
        with torch.no_grad():
            self.dim = int(encoder(self.pseudo_inputs[:1])[0].shape[-1])

    @property
    def components(self) -> int:
        return self.raw.shape[0]

    @property
    def pseudo_inputs(self) -> Tensor:
        """The pseudo-inputs :math:`u_k` in the data range, [K, D]."""
        return self.raw.clamp(*self.data_range)

    def components_params(self) -> tuple[Tensor, Tensor]:
        """(mu, logvar) of the K components :math:`q(z|u_k)`, each [K, d]."""
        return self.encoder(self.pseudo_inputs)

    def log_prob(self, z: Tensor) -> Tensor:
        self._check(z)
        mu, logvar = self.components_params()
        return log_mean_normal(z.reshape(-1, self.dim), mu, logvar, self.chunk).reshape(z.shape[:-1])

    def rsample(self, n: int) -> Tensor:
        """Pick a pseudo-input uniformly, then draw z ~ q(z|u_k)."""
        return _sample_components(*self.components_params(), n)


class FlowPrior(Prior):
    r"""An autoregressive flow prior: :math:`z = g(\epsilon)`, :math:`\epsilon \sim \mathcal N(0, I)`,
    with :math:`f = g^{-1}` a stack of MAF layers (Papamakarios et al., 2017) in alternating orders,

    .. math:: \log p_\lambda(z) = \log \mathcal N\big(f(z); 0, I\big)
              + \log\left|\det \frac{\partial f(z)}{\partial z}\right| .

    The density direction :math:`f` takes one MADE pass per layer (what training needs);
    sampling runs d sequential passes per layer. A VAE with this prior on z is the same model as
    a VAE with an IAF-type posterior on :math:`\epsilon` (Chen et al., 2017): see
    :func:`dgmlib.models.flow_prior_as_posterior_flow`.

    Arguments:
        dim: size of z.
        layers: number of MAF layers.
        hidden: MADE hidden sizes.
        activation: MADE activation.
    Shapes:
        log_prob: z [..., dim] -> [...];  rsample(n), sample(n) -> [n, dim];  to_noise: z -> (eps, log|det df/dz|)
    Example:
        >>> prior = FlowPrior(2, layers=2, hidden=(16,))
        >>> prior.log_prob(prior.sample(5)).shape
        torch.Size([5])
    """

    def __init__(self, dim: int, layers: int = 2, hidden: tuple[int, ...] = (64, 64), activation: str = "elu"):
        super().__init__()
        if int(layers) < 1:
            raise ValueError(f"a flow prior needs at least one layer, got layers={layers}")
        self.dim = int(dim)
        orders = [list(range(self.dim)) if i % 2 == 0 else list(reversed(range(self.dim))) for i in range(layers)]
        # forward of the composition = sampling direction, eps -> z
        self.density = FlowDistribution(
            Compose(*[MAF(self.dim, tuple(hidden), order=o, activation=activation) for o in orders]), self.dim)

    @property
    def flow(self) -> Compose:
        r"""The MAF stack g (sampling direction :math:`\epsilon \to z`; its inverse f is one pass)."""
        return self.density.flow

    def to_noise(self, z: Tensor) -> tuple[Tensor, Tensor]:
        r""":math:`(\epsilon, \log|\det \partial\epsilon/\partial z|) = (f(z), \ldots)`, one pass per layer."""
        self._check(z)
        return self.flow.inverse(z)

    def log_prob(self, z: Tensor) -> Tensor:
        self._check(z)
        return self.density.log_prob(z)

    def rsample(self, n: int) -> Tensor:
        return self.density.rsample(n)


#: Priors by name, for ``build_vae(prior=...)`` and configs. Every factory takes ``z_dim`` and the
#: keyword arguments ``encoder``, ``x_dim``, ``components``, ``flow_layers``, ``flow_hidden`` (and
#: ignores those it does not use); a VampPrior's components use ``encoder`` on inputs of size ``x_dim``.
PRIORS = Registry("prior")


@PRIORS.register("standard")
def _standard(z_dim: int, **_) -> StandardNormal:
    return StandardNormal(z_dim)


@PRIORS.register("mog")
def _mog(z_dim: int, components: int = 50, **_) -> MixtureOfGaussians:
    return MixtureOfGaussians(z_dim, components)


@PRIORS.register("vampprior")
def _vampprior(z_dim: int, encoder: nn.Module | None = None, x_dim: int | None = None, components: int = 50,
               **_) -> VampPrior:
    if encoder is None or x_dim is None:
        raise ValueError("a VampPrior needs the encoder and x_dim")
    return VampPrior(encoder, components, x_dim=x_dim)


@PRIORS.register("flow")
def _flow(z_dim: int, flow_layers: int = 2, flow_hidden: tuple[int, ...] = (64, 64), **_) -> FlowPrior:
    return FlowPrior(z_dim, flow_layers, flow_hidden)
