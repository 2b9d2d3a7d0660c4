r"""Priors :math:`p(z)` over the latent space: each has ``log_prob(z)`` and ``sample(n)``.

:class:`StandardNormal`, :class:`MixtureOfGaussians`, :class:`VampPrior` (Tomczak & Welling, 2018),
:class:`FlowPrior` (MAF layers) and :class:`AggregatePosterior` (the optimal, memorizing prior).
Mixtures take a chunked log-sum-exp over their components (memory bounded in K).

A prior may also offer ``kl(mu, logvar)``, the closed-form
:math:`\mathrm{KL}(\mathcal N(\mu, \sigma^2) \| p)`; objectives fall back to a Monte Carlo
estimate where it has none.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .distributions import kl_normal, log_mean_normal


class StandardNormal(nn.Module):
    r"""The standard normal prior :math:`p(z) = \mathcal N(0, I_d)`.

    Arguments:
        dim: size of z.
    Shapes:
        log_prob: z [..., dim] -> [...];  sample(n) -> [n, dim]
    Example:
        >>> StandardNormal(2).log_prob(torch.zeros(2))   # -log(2 pi)
        tensor(-1.8379)
    """

    def __init__(self, dim: int):
        super().__init__()
        self.dim = int(dim)
        # a buffer only to know the device and dtype the prior lives on
        self.register_buffer("_anchor", torch.zeros(()), persistent=False)

    def log_prob(self, z: Tensor) -> Tensor:
        if z.shape[-1] != self.dim:
            raise ValueError(f"z has {z.shape[-1]} dimensions, the prior {self.dim}")
        return -0.5 * (z ** 2).sum(-1) - 0.5 * self.dim * math.log(2 * math.pi)

    def sample(self, n: int) -> Tensor:
        return torch.randn(n, self.dim, device=self._anchor.device, dtype=self._anchor.dtype)

    def kl(self, mu: Tensor, logvar: Tensor) -> Tensor:
        r"""Closed form :math:`\mathrm{KL}(\mathcal N(\mu, \sigma^2) \| \mathcal N(0, I))`, shape [...]."""
        return kl_normal(mu, logvar)


class AggregatePosterior(nn.Module):
    r"""The aggregated posterior as a prior, :math:`p(z) = q(z) = \frac1N \sum_{i=1}^N q(z|x_i)`:
    the prior that maximizes the ELBO for a given encoder (Hoffman & Johnson, 2016; Tomczak &
    Welling, 2018). It costs O(N) per evaluation and memorizes the training set.

    Arguments:
        encoder: x [..., D] -> (mu, logvar) [..., d], shared with the VAE (gradients reach it).
        x: the data points [N, D] (stored as a buffer).
        chunk: memory bound of the log-sum-exp over N.
    Shapes:
        log_prob: z [..., d] -> [...];  sample(n) -> [n, d]
    """

    def __init__(self, encoder: nn.Module, x: Tensor, chunk: int = 512):
        super().__init__()
        self.encoder, self.chunk = encoder, int(chunk)
        self.register_buffer("x", x)
        with torch.no_grad():
            self.dim = int(encoder(x[:1])[0].shape[-1])

    def log_prob(self, z: Tensor) -> Tensor:
        if z.shape[-1] != self.dim:
            raise ValueError(f"z has {z.shape[-1]} dimensions, the prior {self.dim}")
        mu, logvar = self.encoder(self.x)
        return log_mean_normal(z.reshape(-1, self.dim), mu, logvar, self.chunk).reshape(z.shape[:-1])

    def sample(self, n: int) -> Tensor:
        """Pick a data point uniformly, then draw z ~ q(z|x_i)."""
        mu, logvar = self.encoder(self.x[torch.randint(len(self.x), (n,), device=self.x.device)])
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def _check_dim(z: Tensor, dim: int) -> None:
    if z.dim() == 0 or z.shape[-1] != dim:
        raise ValueError(f"z has {z.shape[-1] if z.dim() else 0} dimensions, the prior {dim}")


def _sample_components(mu: Tensor, logvar: Tensor, n: int) -> Tensor:
    """n draws from the equally weighted mixture of the diagonal Gaussians (mu_k, logvar_k) [K, d]:
    a component uniformly at random, then a reparameterized Gaussian draw."""
    k = torch.randint(mu.shape[0], (int(n),), device=mu.device)
    m, lv = mu[k], logvar[k]
    return m + torch.exp(0.5 * lv) * torch.randn_like(m)


class MixtureOfGaussians(nn.Module):
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
        log_prob: z [..., dim] -> [...];  sample(n) -> [n, dim]
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
        _check_dim(z, self.dim)
        flat = z.reshape(-1, self.dim)
        return log_mean_normal(flat, self.means, self.logvars, self.chunk).reshape(z.shape[:-1])

    def sample(self, n: int) -> Tensor:
        return _sample_components(self.means, self.logvars, n)


class VampPrior(nn.Module):
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
        log_prob: z [..., d] -> [...];  sample(n) -> [n, d];  pseudo_inputs: [K, D]
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
            init = pseudo_inputs.detach().clone()
        else:
            if x_dim is None or int(pseudo_inputs) < 1:
                raise ValueError("give the number K >= 1 of pseudo-inputs and x_dim, or a [K, D] tensor")
            init = low + (high - low) * (0.25 + 0.5 * torch.rand(int(pseudo_inputs), int(x_dim)))
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
        _check_dim(z, self.dim)
        mu, logvar = self.components_params()
        return log_mean_normal(z.reshape(-1, self.dim), mu, logvar, self.chunk).reshape(z.shape[:-1])

    def sample(self, n: int) -> Tensor:
        """Pick a pseudo-input uniformly, then draw z ~ q(z|u_k)."""
        return _sample_components(*self.components_params(), n)


class FlowPrior(nn.Module):
    r"""An autoregressive flow prior: :math:`z = g(\epsilon)`, :math:`\epsilon \sim \mathcal N(0, I)`,
    with :math:`f = g^{-1}` a stack of MAF layers (Papamakarios et al., 2017) in alternating orders,

    .. math:: \log p_\lambda(z) = \log \mathcal N\big(f(z); 0, I\big)
              + \log\left|\det \frac{\partial f(z)}{\partial z}\right| .

    The density direction :math:`f` takes one MADE pass per layer (what training needs);
    sampling runs d sequential passes per layer. A VAE with this prior on z is the same model as
    a VAE with an IAF-type posterior on :math:`\epsilon` (Chen et al., 2017): see
    :func:`flow_prior_as_posterior_flow`.

    Arguments:
        dim: size of z.
        layers: number of MAF layers.
        hidden: MADE hidden sizes.
        activation: MADE activation.
    Shapes:
        log_prob: z [..., dim] -> [...];  sample(n) -> [n, dim];  to_noise: z -> (eps, log|det df/dz|)
    Example:
        >>> prior = FlowPrior(2, layers=2, hidden=(16,))
        >>> prior.log_prob(prior.sample(5)).shape
        torch.Size([5])
    """

    def __init__(self, dim: int, layers: int = 2, hidden: tuple[int, ...] = (64, 64), activation: str = "elu"):
        super().__init__()
        from .flows import MAF, Compose

        if int(layers) < 1:
            raise ValueError(f"a flow prior needs at least one layer, got layers={layers}")
        self.dim = int(dim)
        orders = [list(range(self.dim)) if i % 2 == 0 else list(reversed(range(self.dim))) for i in range(layers)]
        # forward of the composition = sampling direction, eps -> z
        self.flow = Compose(*[MAF(self.dim, tuple(hidden), order=o, activation=activation) for o in orders])

    def to_noise(self, z: Tensor) -> tuple[Tensor, Tensor]:
        r""":math:`(\epsilon, \log|\det \partial\epsilon/\partial z|) = (f(z), \ldots)`, one pass per layer."""
        _check_dim(z, self.dim)
        return self.flow.inverse(z)

    def log_prob(self, z: Tensor) -> Tensor:
        eps, log_det = self.to_noise(z)
        return -0.5 * (eps ** 2).sum(-1) - 0.5 * self.dim * math.log(2 * math.pi) + log_det

    def sample(self, n: int) -> Tensor:
        p = next(self.parameters())
        eps = torch.randn(int(n), self.dim, device=p.device, dtype=p.dtype)
        return self.flow(eps)[0]


class _PriorFlowAsPosterior(nn.Module):
    """The flow prior's density map f: z -> eps used as a posterior flow (forward = f)."""

    def __init__(self, prior: FlowPrior):
        super().__init__()
        self.prior = prior
        self.dim = prior.dim

    def forward(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self.prior.to_noise(z)


class _DecodeThroughFlow(nn.Module):
    """decoder(g(eps)): the original decoder after the flow prior's sampling map g = f^{-1}."""

    def __init__(self, prior: FlowPrior, decoder: nn.Module):
        super().__init__()
        self.prior, self.decoder = prior, decoder

    def forward(self, eps: Tensor) -> Tensor:
        return self.decoder(self.prior.flow(eps)[0])


def flow_prior_as_posterior_flow(model: nn.Module) -> nn.Module:
    r"""The matched model of the theorem "an autoregressive-flow prior on z is an inverse
    autoregressive flow posterior on :math:`\epsilon`" (Chen et al., 2017).

    ``model`` is a :class:`~dgmlib.models.VAE` with a :class:`FlowPrior` :math:`p(z)`, Gaussian
    posterior :math:`q(z|x)` and decoder :math:`p(x|z)`. The returned VAE shares all their
    parameters but has the latent variable :math:`\epsilon = f(z)`: posterior flow :math:`f`
    (autoregressive, one pass: an IAF-type map) after the same Gaussian encoder, prior
    :math:`\mathcal N(0, I)`, decoder :math:`p(x \mid g(\epsilon))`. For the same encoder noise
    both give the same log weight

    .. math:: \log p(x|z) + \log\mathcal N(f(z)) + \log|\det \partial f/\partial z| - \log q(z|x),

    so their ELBOs are equal (up to the rounding of :math:`g(f(z)) = z`).
    """
    from .models import VAE

    prior = getattr(model, "prior", None)
    if not isinstance(prior, FlowPrior) or getattr(model, "flow", None) is not None:
        raise ValueError("the model needs a FlowPrior and no posterior flow")
    return VAE(model.encoder, _DecodeThroughFlow(prior, model.decoder), StandardNormal(prior.dim).to(
        next(prior.parameters())), model.likelihood, flow=_PriorFlowAsPosterior(prior))


@torch.no_grad()
def marginal_kl(encoder: nn.Module, prior: nn.Module, x: Tensor, samples: int = 1, chunk: int = 512) -> float:
    r"""Monte Carlo estimate of the marginal KL of ELBO surgery (Hoffman & Johnson, 2016),

    .. math:: \mathrm{KL}\big(q(z) \,\|\, p(z)\big) \approx \frac{1}{NS} \sum_{i=1}^N \sum_{s=1}^S
              \big[\log q(z_{is}) - \log p(z_{is})\big], \qquad z_{is} \sim q(z|x_i),\quad
              q(z) = \frac1N \sum_j q(z|x_j),

    for any encoder and prior: the top level of a hierarchical VAE as well as a one-level VAE
    (where it equals ``dgmlib.elbo_surgery(...).marginal_kl`` for the same draws). Memory is
    bounded by ``chunk``.

    Shapes:
        x: [N, D] -> float (nats per data point)
    """
    stats = [encoder(xb) for xb in torch.split(x, chunk)]
    mu, logvar = torch.cat([s[0] for s in stats]), torch.cat([s[1] for s in stats])
    total = torch.zeros((), dtype=x.dtype, device=x.device)
    for start in range(0, x.shape[0], chunk):
        m, lv = mu[start:start + chunk], logvar[start:start + chunk]
        z = m + torch.exp(0.5 * lv) * torch.randn(samples, *m.shape, dtype=m.dtype, device=m.device)
        log_q = log_mean_normal(z.reshape(-1, z.shape[-1]), mu, logvar, chunk)
        total += (log_q - prior.log_prob(z).reshape(-1)).sum()
    return float(total) / (samples * x.shape[0])


#: Prior names that :func:`make_prior` (and ``build_vae(prior=...)``) know.
PRIORS = ("standard", "mog", "vampprior", "flow")


def make_prior(name: str, z_dim: int, encoder: nn.Module | None = None, x_dim: int | None = None,
               components: int = 50, flow_layers: int = 2, flow_hidden: tuple[int, ...] = (64, 64)) -> nn.Module:
    """The prior called ``name`` (one of :data:`PRIORS`): ``components`` is K of the mixture and of
    the VampPrior (whose components use ``encoder``, inputs of size ``x_dim``)."""
    if name == "standard":
        return StandardNormal(z_dim)
    if name == "mog":
        return MixtureOfGaussians(z_dim, components)
    if name == "vampprior":
        if encoder is None or x_dim is None:
            raise ValueError("a VampPrior needs the encoder and x_dim")
        return VampPrior(encoder, components, x_dim=x_dim)
    if name == "flow":
        return FlowPrior(z_dim, flow_layers, flow_hidden)
    raise ValueError(f"unknown prior {name!r}; choose one of {', '.join(PRIORS)}")
