r"""The linear-Gaussian model (probabilistic PCA): the exact oracle the VAE code is tested against."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ..distributions import StandardNormal, gaussian_log_prob
from .. import validation
from ..likelihoods import Likelihood
from .vae import VAE


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

    def _check(self, x: Tensor) -> None:
        D = self.W.shape[0]
        validation.check_tensor(x)
        if x.dim() != 2 or x.shape[-1] != D:
            raise ValueError(f"x must be [batch, {D}] for this LinearGaussian (D = {D}), got shape {tuple(x.shape)}")
        validation.check_nonempty(x)
        validation.check_finite(x)

    def log_marginal(self, x: Tensor) -> Tensor:
        """Exact :math:`\\log p(x)`. Shapes: x [B, D] -> [B]."""
        self._check(x)
        mvn = torch.distributions.MultivariateNormal(self.b, covariance_matrix=self.marginal_cov(),
                                                     validate_args=False)
        return mvn.log_prob(x)

    def posterior(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Exact posterior mean [B, d] and covariance [d, d]."""
        self._check(x)
        d = self.W.shape[1]
        prec = torch.eye(d, dtype=x.dtype, device=x.device) + self.W.T @ self.W / self.logvar.exp()
        cov = torch.linalg.inv(prec)
        mean = (x - self.b) @ self.W @ cov.T / self.logvar.exp()
        return mean, cov

    def as_vae(self, exact_posterior: bool = True) -> VAE:
        """This model as a :class:`~dgmlib.models.vae.VAE` with a Gaussian likelihood.

        With ``exact_posterior`` the encoder returns the true posterior's mean and (diagonal of
        the) covariance: exact when W's columns are orthogonal. Otherwise the encoder returns
        the prior, :math:`q(z|x) = p(z)`.
        """
        return VAE(_LinearGaussianEncoder(self, exact_posterior), _LinearDecoder(self),
                   StandardNormal(self.W.shape[1]).to(self.W), _FixedGaussian(self), x_dim=self.W.shape[0])


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


class _FixedGaussian(Likelihood):
    def __init__(self, lg: LinearGaussian):
        super().__init__()
        self.lg = lg

    def log_prob(self, x: Tensor, params: Tensor) -> Tensor:
        return gaussian_log_prob(x, params, self.lg.logvar)

    def mean(self, params: Tensor) -> Tensor:
        return params

    def sample(self, params: Tensor) -> Tensor:
        return params + torch.exp(0.5 * self.lg.logvar) * torch.randn_like(params)
