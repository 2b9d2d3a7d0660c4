r"""Observation models :math:`p(x \mid z)`: the decoder outputs their parameters. Each has
``log_prob(x, params)`` [..., D] -> [...], ``mean(params)``, ``sample(params)`` and
``check_support(x)``, a clear error for data outside the model's support (grey levels fed to a
Bernoulli likelihood would give positive "log-probabilities" of a probability mass).
"""
from __future__ import annotations


import torch
from torch import Tensor, nn
from torch.distributions import Bernoulli

from .distributions import bernoulli_log_prob, discretized_logistic_log_prob, gaussian_log_prob
from .registry import Registry


class Likelihood(nn.Module):
    """Base class of the observation models (see the module doc)."""

    def check_support(self, x: Tensor, name: str = "x") -> None:
        """A ``ValueError`` naming ``name`` unless every value of x lies in the support (default: any real)."""

    def log_prob(self, x: Tensor, params: Tensor) -> Tensor:
        raise NotImplementedError


class BernoulliLikelihood(Likelihood):
    r"""Observation model :math:`p(x \mid z) = \prod_i \mathrm{Bernoulli}(x_i; \sigma(\ell_i))`
    for binary data; the decoder outputs the logits :math:`\ell`.

    Shapes:
        params (logits): [..., D]; x: [..., D] -> log_prob [...]
    """

    def check_support(self, x: Tensor, name: str = "x") -> None:
        if not bool(((x == 0) | (x == 1)).all()):
            bad = x[(x != 0) & (x != 1)]
            raise ValueError(f"{name} must be binary (0 or 1) for a Bernoulli likelihood, found {bad.numel()} other "
                             f"values (e.g. {bad[0].item():g}); binarize the data (dgmlib.load(..., binarize=True)) "
                             "or use a likelihood for grey levels (\"discretized_logistic\" or \"gaussian\")")

    def log_prob(self, x: Tensor, params: Tensor) -> Tensor:
        return bernoulli_log_prob(x, params)

    def mean(self, params: Tensor) -> Tensor:
        """The expected image, :math:`\\sigma(\\ell)`."""
        return torch.sigmoid(params)

    def sample(self, params: Tensor) -> Tensor:
        return Bernoulli(logits=params, validate_args=False).sample()


class GaussianLikelihood(Likelihood):
    r"""Observation model :math:`p(x \mid z) = \mathcal N(x; \mu_\theta(z), \sigma^2 I)`; the
    decoder outputs the mean, the (shared) log-variance is a fixed value or a learned scalar.

    Arguments:
        logvar: initial :math:`\log\sigma^2`.
        learn: learn it (a parameter) or keep it fixed (a buffer).
    Shapes:
        params (means): [..., D]; x: [..., D] -> log_prob [...]
    """

    def __init__(self, logvar: float = 0.0, learn: bool = False):
        super().__init__()
        value = torch.tensor(float(logvar))
        if learn:
            self.logvar = nn.Parameter(value)
        else:
            self.register_buffer("logvar", value)

    def log_prob(self, x: Tensor, params: Tensor) -> Tensor:
        return gaussian_log_prob(x, params, self.logvar.to(params.dtype))

    def mean(self, params: Tensor) -> Tensor:
        return params

    def sample(self, params: Tensor) -> Tensor:
        return params + torch.exp(0.5 * self.logvar) * torch.randn_like(params)


class DiscretizedLogisticLikelihood(Likelihood):
    r"""Observation model for grey-level images: independent discretized logistics per pixel,
    :math:`p(x \mid z) = \prod_i P(x_i; \mu_i(z), s)` (see :func:`~dgmlib.distributions.discretized_logistic_log_prob`),
    as in the IAF-VAE (Kingma et al., 2016) and PixelCNN++ (Salimans et al., 2017) without the mixture.
    The decoder outputs the locations :math:`\mu` (in data units, [0, 1]); the log-scale is one
    learned number shared by all pixels, or, with ``scale="decoder"``, the decoder outputs
    ``cat([loc, log_scale], -1)`` (2D numbers) and every pixel has its own.

    Arguments:
        levels: L, the number of grey levels of the data (17 for the digits).
        log_scale: initial shared :math:`\log s` (``scale="shared"``).
        scale: "shared" (a learned scalar) or "decoder" (per pixel, from the decoder).
    Shapes:
        params: [..., D] ("shared") or [..., 2D] ("decoder"); x: [..., D] -> log_prob [...]
    Example:
        >>> lik = DiscretizedLogisticLikelihood(levels=17)
        >>> lik.log_prob(torch.zeros(3, 64), torch.zeros(3, 64)).shape
        torch.Size([3])
    """

    def __init__(self, levels: int = 17, log_scale: float = -2.0, scale: str = "shared"):
        super().__init__()
        if levels < 2:
            raise ValueError(f"a discretized likelihood needs at least 2 levels, got {levels}")
        if scale not in ("shared", "decoder"):
            raise ValueError(f"scale must be 'shared' or 'decoder', got {scale!r}")
        self.levels, self.scale = int(levels), scale
        self.log_scale = nn.Parameter(torch.tensor(float(log_scale))) if scale == "shared" else None

    def check_support(self, x: Tensor, name: str = "x") -> None:
        k = x * (self.levels - 1)
        if not bool(((x >= 0) & (x <= 1) & ((k - torch.round(k)).abs() <= 1e-3)).all()):
            raise ValueError(f"{name} must hold grey levels k/(L-1) in [0, 1] with L = {self.levels} for this "
                             "discretized likelihood (as dgmlib.load(..., binarize=False) gives them); found "
                             "values off that grid")

    def _split(self, params: Tensor) -> tuple[Tensor, Tensor]:
        if self.scale == "decoder":
            return params.chunk(2, dim=-1)
        return params, self.log_scale.to(params.dtype).expand_as(params)

    def log_prob(self, x: Tensor, params: Tensor) -> Tensor:
        loc, log_scale = self._split(params)
        return discretized_logistic_log_prob(x, loc, log_scale, self.levels)

    def probs(self, params: Tensor) -> Tensor:
        """Probabilities of all L levels per pixel, shape [..., D, L] (each row sums to 1)."""
        loc, log_scale = self._split(params)
        grid = torch.arange(self.levels, dtype=loc.dtype, device=loc.device) / (self.levels - 1)
        return discretized_logistic_log_prob(grid, loc.unsqueeze(-1), log_scale.unsqueeze(-1),
                                             self.levels, reduce=False).exp()

    def mean(self, params: Tensor) -> Tensor:
        r"""The expected image :math:`\sum_k P(x = k/(L-1))\, k/(L-1)`, shape [..., D]."""
        grid = torch.arange(self.levels, dtype=params.dtype, device=params.device) / (self.levels - 1)
        return self.probs(params) @ grid

    def sample(self, params: Tensor) -> Tensor:
        """Grey levels drawn pixel by pixel, on the grid k / (L - 1). Shape [..., D]."""
        probs = self.probs(params)
        k = torch.distributions.Categorical(probs=probs, validate_args=False).sample()
        return k.to(params.dtype) / (self.levels - 1)


def _parse_likelihood(name: str) -> tuple[str, dict] | None:
    """"discretized_logistic_<L>" -> ("discretized_logistic", {"levels": L})."""
    levels = name.removeprefix("discretized_logistic_")
    return ("discretized_logistic", {"levels": int(levels)}) if levels != name and levels.isdigit() else None


#: Observation models by name: "bernoulli", "gaussian", "discretized_logistic" (17 grey levels, the
#: digits' ``load("digits", binarize=False)``), "discretized_logistic_<L>" for L levels (e.g. 256).
LIKELIHOODS = Registry("likelihood", parse=_parse_likelihood)
LIKELIHOODS.register("bernoulli")(BernoulliLikelihood)
LIKELIHOODS.register("gaussian")(GaussianLikelihood)
LIKELIHOODS.register("discretized_logistic")(DiscretizedLogisticLikelihood)
