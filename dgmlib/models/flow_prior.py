r"""The theorem "an autoregressive-flow prior on z is an inverse autoregressive flow posterior on
:math:`\epsilon`" (Chen et al., 2017), as a function that builds the matched model."""
from __future__ import annotations

from torch import Tensor, nn

from ..distributions import StandardNormal
from ..priors import FlowPrior
from .vae import VAE


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


def flow_prior_as_posterior_flow(model: VAE) -> VAE:
    r"""The matched model of the theorem "an autoregressive-flow prior on z is an inverse
    autoregressive flow posterior on :math:`\epsilon`" (Chen et al., 2017).

    ``model`` is a :class:`~dgmlib.models.vae.VAE` with a :class:`~dgmlib.priors.FlowPrior` :math:`p(z)`, Gaussian
    posterior :math:`q(z|x)` and decoder :math:`p(x|z)`. The returned VAE shares all their
    parameters but has the latent variable :math:`\epsilon = f(z)`: posterior flow :math:`f`
    (autoregressive, one pass: an IAF-type map) after the same Gaussian encoder, prior
    :math:`\mathcal N(0, I)`, decoder :math:`p(x \mid g(\epsilon))`. For the same encoder noise
    both give the same log weight

    .. math:: \log p(x|z) + \log\mathcal N(f(z)) + \log|\det \partial f/\partial z| - \log q(z|x),

    so their ELBOs are equal (up to the rounding of :math:`g(f(z)) = z`).
    """
    if not isinstance(model, VAE) or not isinstance(model.prior, FlowPrior) or model.flow is not None:
        raise ValueError("the model must be a VAE with a FlowPrior and no posterior flow")
    prior = model.prior
    return VAE(model.encoder, _DecodeThroughFlow(prior, model.decoder), StandardNormal(prior.dim).to(
        next(prior.parameters())), model.likelihood, flow=_PriorFlowAsPosterior(prior), x_dim=model.x_dim)

