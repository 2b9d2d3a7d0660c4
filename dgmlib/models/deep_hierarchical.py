r"""A deep hierarchical VAE with L stochastic layers, bottom-up or top-down (Ladder VAE) inference.

The generative model is a Markov chain from the top layer down to the data:

.. math:: p_\theta(x, z_{1:L}) = p_\theta(x \mid z_1) \prod_{i=1}^{L-1} p_\theta(z_i \mid z_{i+1})\; p(z_L),
          \qquad p(z_L) = \mathcal N(0, I),

every conditional a diagonal Gaussian (Bernoulli for x) from an MLP cell. Two inference models:

- ``"bottom_up"``: :math:`q(z_{1:L} \mid x) = q(z_1 \mid x) \prod_{i=2}^{L} q(z_i \mid z_{i-1})`,
  sampled from the data upwards (a stacked VAE, as in Burda et al., 2016);
- ``"top_down"`` (Sonderby et al., 2016): a deterministic upward pass
  :math:`d_1 = f_1(x),\ d_i = f_i(d_{i-1})` gives each layer a Gaussian estimate
  :math:`(\hat\mu_i, \hat\sigma_i^2)`; then, sampled from the top down,
  :math:`q(z_L|x) = \mathcal N(\hat\mu_L, \hat\sigma_L^2)` and
  :math:`q(z_i | z_{i+1}, x) \propto \mathcal N(z_i; \hat\mu_i, \hat\sigma_i^2)\,
  p_\theta(z_i | z_{i+1})`, the precision-weighted merge (:func:`precision_weighted_merge`) with the
  generative model's own conditional: inference and generation share the top-down path.

Both inference models use the same generative modules (``prior_cells``, ``decoder``) under the same
names, so the same parameters give the same :math:`\log p(x, z_{1:L})`. The log weights are

.. math:: \log w = \log p(x|z_1) + \sum_{i<L} \log p(z_i|z_{i+1}) + \log p(z_L) - \log q(z_{1:L}|x),

and the KL term splits into one Monte Carlo term per layer (``Terms.kl_per_layer`` [L, B]), which sum
to the total :math:`\mathbb E_q[\log q(z_{1:L}|x) - \log p(z_{1:L})]`.

Differences from :class:`dgmlib.models.HierarchicalVAE` (two levels): that model draws its *top* level
first from x, :math:`q(z_2|x)\,q(z_1|x, z_2)`, with separate networks (no shared top-down path), and
its decoder reads :math:`[z_1, z_2]`; here the decoder reads :math:`z_1` only. The generative models
coincide when that model's decoder ignores :math:`z_2` (a test copies the weights over); the
inference models factor differently and cannot give equal log weights in general.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
from torch import Tensor, nn

from ..distributions import StandardNormal, diagonal_normal
from ..likelihoods import LIKELIHOODS
from ..nets import ACTIVATIONS, LOGVAR_MAX, LOGVAR_MIN, GaussianEncoder, mlp
from ..validation import check_positive_int
from .base import LatentVariableModel, monte_carlo_means

INFERENCE = ("bottom_up", "top_down")


def precision_weighted_merge(mu_a: Tensor, logvar_a: Tensor, mu_b: Tensor, logvar_b: Tensor) -> tuple[Tensor, Tensor]:
    r"""The normalized product of two diagonal Gaussians (Sonderby et al., 2016, eq. 17-18):

    .. math:: \mathcal N(z; \mu_a, \sigma_a^2)\, \mathcal N(z; \mu_b, \sigma_b^2) \propto \mathcal N(z; \mu, \sigma^2),
              \quad \sigma^{-2} = \sigma_a^{-2} + \sigma_b^{-2},
              \quad \mu = \sigma^2 (\mu_a \sigma_a^{-2} + \mu_b \sigma_b^{-2}).

    Computed in log-variance space: :math:`\log\sigma^2 = -\operatorname{logaddexp}(-\log\sigma_a^2,
    -\log\sigma_b^2)` and :math:`\mu = s \mu_a + (1 - s) \mu_b` with
    :math:`s = \operatorname{sigmoid}(\log\sigma_b^2 - \log\sigma_a^2)`, finite for any log-variances.

    Shapes:
        all [..., d] (broadcast) -> (mu [..., d], logvar [..., d])
    Example:
        >>> precision_weighted_merge(torch.zeros(1), torch.zeros(1), torch.full((1,), 2.), torch.zeros(1))
        (tensor([1.]), tensor([-0.6931]))
    """
    logvar = -torch.logaddexp(-logvar_a, -logvar_b)
    share_a = torch.sigmoid(logvar_b - logvar_a)
    return share_a * mu_a + (1 - share_a) * mu_b, logvar


class _BatchNorm(nn.BatchNorm1d):
    """Batch normalization over every leading dimension ([..., C]: the K samples and the batch
    together), as the Ladder VAE normalized its hidden layers."""

    def forward(self, h: Tensor) -> Tensor:
        return super().forward(h.reshape(-1, h.shape[-1])).reshape(h.shape)


def _mlp(sizes: Sequence[int], activation: str, batch_norm: bool, last_activation: bool = False,
         init: str = "torch") -> nn.Sequential:
    """:func:`~dgmlib.nets.mlp` of ``sizes`` (``init``: its weight initialization), with batch
    normalization before every activation when ``batch_norm``, and an activation (after
    normalization) on the output when ``last_activation``."""
    if not batch_norm:
        net = mlp(sizes, activation, init)
        return nn.Sequential(net, ACTIVATIONS[activation]()) if last_activation else net
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(mlp([a, b], activation, init)[0])
        if i < len(sizes) - 2 or last_activation:
            layers += [_BatchNorm(b), ACTIVATIONS[activation]()]
    return nn.Sequential(*layers)


class LayerTerms(NamedTuple):
    """The pieces of one pass of :class:`DeepHierarchicalVAE` (K samples for B data points); the
    first six fields are those of :class:`~dgmlib.models.Terms`."""
    log_px_z: Tensor   # [K, B]  log p(x | z_1)
    log_pz: Tensor     # [K, B]  log p(z_{1:L}) = sum of log_p_layers
    log_qz: Tensor     # [K, B]  log q(z_{1:L} | x) = sum of log_q_layers
    z: Tensor          # [K, B, d_1 + ... + d_L]  the layers concatenated, bottom first
    mu: Tensor         # [B, d]  mean of the layer q reads from x alone (bottom_up: z_1; top_down: z_L)
    logvar: Tensor     # [B, d]  its log-variance
    log_p_layers: Tensor  # [L, K, B]  log p(z_i | z_{i+1}) (i = L: log p(z_L))
    log_q_layers: Tensor  # [L, K, B]  log q of layer i given its parents

    @property
    def log_w(self) -> Tensor:
        """Log importance weights [K, B]."""
        return self.log_px_z + self.log_pz - self.log_qz

    @property
    def kl_per_layer(self) -> Tensor:
        r"""Monte Carlo KL term of each layer, :math:`\frac1K \sum_k [\log q(z_i^k|\cdot) - \log p(z_i^k|z_{i+1}^k)]`,
        [L, B] (row 0 is z_1); the rows sum to the total KL term ``(log_qz - log_pz).mean(0)``."""
        return (self.log_q_layers - self.log_p_layers).mean(1)


def _sizes(z_dims: Sequence[int], layers: int | None) -> list[int]:
    if isinstance(z_dims, (int, str)) or not hasattr(z_dims, "__len__"):
        raise ValueError(f"z_dims must be a list of layer sizes, bottom (z_1) first, got {z_dims!r}")
    sizes = list(z_dims)
    if not sizes:
        raise ValueError("z_dims must name at least one layer (L >= 1)")
    for i, d in enumerate(sizes):
        if isinstance(d, bool) or int(d) != d or int(d) < 1:
            raise ValueError(f"every layer size must be a whole number >= 1, got z_dims[{i}] = {d!r} in {sizes}")
    if layers is not None and int(layers) != len(sizes):
        raise ValueError(f"inconsistent layer sizes: layers (L) = {layers} but z_dims lists {len(sizes)} "
                         f"sizes {sizes}; give one size per stochastic layer")
    return [int(d) for d in sizes]


class DeepHierarchicalVAE(LatentVariableModel):
    r"""L stochastic layers :math:`z_1` (bottom, next to x) to :math:`z_L` (top, standard normal prior);
    see the module docstring for the generative and the two inference models.

    Arguments:
        x_dim: data size D.
        z_dims: layer sizes :math:`[d_1, \dots, d_L]`, bottom first; L = len(z_dims) >= 1.
        hidden: hidden sizes of every MLP cell (the decoder mirrors them); ``()`` makes every cell linear.
        inference: "bottom_up" or "top_down" (Ladder VAE).
        activation: MLP activation.
        likelihood: "bernoulli" or "gaussian".
        layers: optional L, checked against len(z_dims) (the config records it, so a checkpoint of
            another depth is refused with a message naming it).
        batch_norm: batch normalization before every hidden activation of every cell (the Ladder
            VAE's setting; statistics over the K samples and the batch in training mode, the running
            averages in eval mode).
        init: the weight initialization of every linear layer, "torch" or "he"
            (:func:`dgmlib.nets.mlp`).
    Shapes:
        log_weights: x [B, D], K -> [K, B];  terms(x, K).z: [K, B, sum(z_dims)];  kl_per_layer: [L, B]
    Example:
        >>> model = DeepHierarchicalVAE(64, [8, 4, 2], hidden=(32,), inference="top_down")
        >>> model.terms(torch.zeros(3, 64), K=5).kl_per_layer.shape
        torch.Size([3, 3])
    """

    def __init__(self, x_dim: int, z_dims: Sequence[int], hidden: Sequence[int] = (128,),
                 inference: str = "top_down", activation: str = "relu", likelihood: str = "bernoulli",
                 layers: int | None = None, batch_norm: bool = False, init: str = "torch"):
        super().__init__()
        if inference not in INFERENCE:
            raise ValueError(f"unknown inference {inference!r}; choose one of {', '.join(INFERENCE)}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
        z_dims, hidden = _sizes(z_dims, layers), [check_positive_int(h, "hidden size") for h in hidden]
        self.x_dim, self.z_dims, self.inference = check_positive_int(x_dim, "x_dim"), z_dims, inference
        L = len(z_dims)
        # the generative model (shared by both inference models, same names)
        self.prior = StandardNormal(z_dims[-1])
        bn = bool(batch_norm)
        self.prior_cells = nn.ModuleList(GaussianEncoder(_mlp([z_dims[i + 1], *hidden, 2 * z_dims[i]], activation, bn,
                                                              init=init),
                                                         z_dims[i]) for i in range(L - 1))   # p(z_i | z_{i+1})
        self.decoder = _mlp([z_dims[0], *reversed(hidden), self.x_dim], activation, bn, init=init)   # p(x | z_1)
        self.likelihood = LIKELIHOODS.build(likelihood)
        # the inference model
        if inference == "bottom_up":                                                   # q(z_1|x), q(z_i|z_{i-1})
            inputs = [self.x_dim, *z_dims[:-1]]
            self.q_cells = nn.ModuleList(GaussianEncoder(_mlp([inputs[i], *hidden, 2 * z_dims[i]], activation, bn,
                                                              init=init),
                                                         z_dims[i]) for i in range(L))
        else:                                                                          # d_i = f_i(d_{i-1}), heads
            width = hidden[-1] if hidden else self.x_dim
            self.up_cells = nn.ModuleList(
                _mlp([self.x_dim if i == 0 else width, *hidden], activation, bn, last_activation=True, init=init)
                if hidden else nn.Identity() for i in range(L))
            self.heads = nn.ModuleList(GaussianEncoder(mlp([width, 2 * d], activation, init)[0], d) for d in z_dims)
        self.config = dict(model="deep_hierarchical_vae", layers=L, x_dim=self.x_dim, z_dims=list(z_dims),
                           hidden=hidden, inference=inference, activation=activation, likelihood=likelihood,
                           **({"batch_norm": True} if bn else {}))
        if init != "torch":    # configs of models built before the option existed stay as they were
            self.config["init"] = init

    @property
    def layers(self) -> int:
        """L, the number of stochastic layers."""
        return len(self.z_dims)

    def __getattr__(self, name: str):
        if name == "encoder":             # what one-level metrics read: say what to use instead
            raise AttributeError("a DeepHierarchicalVAE has no single encoder q(z|x); use "
                                 "model.posterior_means(x) or model.active_units_per_layer(x)")
        return super().__getattr__(name)

    def split(self, z: Tensor) -> list[Tensor]:
        """The layers [z_1, ..., z_L] of a concatenated z [..., sum(z_dims)]."""
        if z.shape[-1] != sum(self.z_dims):
            raise ValueError(f"z must have {sum(self.z_dims)} = sum of z_dims {self.z_dims} entries in its "
                             f"last dimension, got shape {tuple(z.shape)}")
        return list(torch.split(z, self.z_dims, dim=-1))

    def _prior_params(self, i: int, z_above: Tensor) -> tuple[Tensor, Tensor]:
        """(mu, logvar) of p(z_i | z_{i+1}) for layer index i < L - 1 (0-based)."""
        return self.prior_cells[i](z_above)

    def log_joint_layers(self, x: Tensor, zs: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
        r"""(:math:`\log p(x|z_1)` [...], :math:`\log p(z_i|z_{i+1})` per layer [L, ...]) at given layers
        ``zs`` = [z_1 .. z_L], each [..., B, d_i]."""
        self.check_input(x)
        return self._log_joint_layers(x, zs)

    def _log_joint_layers(self, x: Tensor, zs: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
        zs = list(zs)
        log_p = [diagonal_normal(*self._prior_params(i, zs[i + 1])).log_prob(zs[i]) for i in range(self.layers - 1)]
        log_p.append(self.prior.log_prob(zs[-1]))
        return self.likelihood.log_prob(x, self.decoder(zs[0])), torch.stack(log_p)

    def log_joint(self, x: Tensor, z: Tensor) -> Tensor:
        r""":math:`\log p(x, z_{1:L})` at the concatenated layers z. Shapes: x [B, D], z [..., B, sum(z_dims)] -> [..., B]."""
        log_px, log_p = self.log_joint_layers(x, self.split(z))
        return log_px + log_p.sum(0)

    def _infer(self, x: Tensor, K: int, sample: bool = True):
        """Draws (or, ``sample=False``, the conditional means) of every layer and their log q:
        (zs [L] of [K, B, d_i], log_q [L, K, B], means [L] of [K, B, d_i], (mu, logvar) of the x-only layer)."""
        L, zs, log_q, means = self.layers, [None] * self.layers, [None] * self.layers, [None] * self.layers

        def draw(i, mu, logvar):
            q = diagonal_normal(mu, logvar)
            zs[i] = q.rsample() if sample else mu
            log_q[i], means[i] = q.log_prob(zs[i]), mu

        if self.inference == "bottom_up":
            mu0, logvar0 = self.q_cells[0](x)
            draw(0, mu0.expand(K, *mu0.shape), logvar0.expand(K, *logvar0.shape))
            for i in range(1, L):
                draw(i, *self.q_cells[i](zs[i - 1]))
        else:
            d, estimates = x, []
            for up, head in zip(self.up_cells, self.heads):
                d = up(d)
                estimates.append(head(d))                                              # (mu_hat_i, logvar_hat_i) [B, d_i]
            mu0, logvar0 = estimates[-1]
            draw(L - 1, mu0.expand(K, *mu0.shape), logvar0.expand(K, *logvar0.shape))
            for i in range(L - 2, -1, -1):
                mu, logvar = precision_weighted_merge(*estimates[i], *self._prior_params(i, zs[i + 1]))
                draw(i, mu, logvar.clamp(LOGVAR_MIN, LOGVAR_MAX))
        return zs, torch.stack(log_q), means, (mu0, logvar0)

    def terms(self, x: Tensor, K: int = 1) -> LayerTerms:
        """K reparameterized draws of z_{1:L} per data point and every term of log w, per layer.

        Shapes:
            x: [B, D] -> LayerTerms with [K, B] log-densities, [L, K, B] per layer, z [K, B, sum(z_dims)]
        """
        self.check_input(x)
        K = check_positive_int(K)
        zs, log_q, _, (mu, logvar) = self._infer(x, K)
        log_px, log_p = self._log_joint_layers(x, zs)
        return LayerTerms(log_px, log_p.sum(0), log_q.sum(0), torch.cat(zs, dim=-1), mu, logvar, log_p, log_q)

    def decode_mean(self, z: Tensor) -> Tensor:
        """Mean of p(x|z_1) at the concatenated layers z. Shapes: [..., sum(z_dims)] -> [..., D]."""
        return self.likelihood.mean(self.decoder(self.split(z)[0]))

    def prior_draw(self, n: int, above: Tensor | None = None, level: int | None = None) -> Tensor:
        r"""n draws of the concatenated layers [z_1, ..., z_L] [n, sum(z_dims)] from the generative model,
        top down: :math:`z_L \sim p(z_L)`, :math:`z_i \sim p(z_i|z_{i+1})`. With ``above`` (concatenated
        layers [n, sum(z_dims)]) and ``level`` = l, the layers above l are kept from ``above`` and only
        :math:`z_l, \dots, z_1` are drawn: the samples that vary layer l and below."""
        n = check_positive_int(n, "n")
        p = next(self.parameters())
        if above is None:
            level, kept = self.layers, []
        else:
            level = check_positive_int(level, "level")
            if level > self.layers:
                raise ValueError(f"level must be between 1 and L = {self.layers}, got {level}")
            kept = self.split(above.to(p))[level:]
            if kept and kept[0].shape[0] != n:
                raise ValueError(f"above must have n = {n} rows, got {kept[0].shape[0]}")
        zs = [None] * (level - 1) + [None] + kept
        zs[level - 1] = (self.prior.sample(n).to(p) if level == self.layers else
                         diagonal_normal(*self._prior_params(level - 1, zs[level])).sample())
        for i in range(level - 2, -1, -1):
            zs[i] = diagonal_normal(*self._prior_params(i, zs[i + 1])).sample()
        return torch.cat(zs, dim=-1)

    @torch.no_grad()
    def sample(self, n: int) -> Tensor:
        """n draws x ~ p(x), ancestral from z_L down. Shape [n, D]. (Figures show ``sample_means(n)``.)"""
        return self.likelihood.sample(self.decoder(self.split(self.prior_draw(n))[0]))

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        """Mean of p(x|z_1) with every layer at its conditional posterior mean. Shape [B, D]."""
        self.check_input(x, support=False)
        zs = self._infer(x, 1, sample=False)[0]
        return self.likelihood.mean(self.decoder(zs[0][0]))

    @torch.no_grad()
    def posterior_means(self, x: Tensor, samples: int | None = None, noise: float = 1e-3,
                        max_samples: int = 100_000) -> list[Tensor]:
        r""":math:`\mathbb E_q[z_i|x]` of every layer, [L] of [B, d_i]: the conditional means of q (exact
        for the layer that reads x alone) averaged over S draws of the layers they condition on.

        With ``samples=None`` S is chosen so that the Monte Carlo variance of every estimated entry,
        :math:`\widehat{\mathrm{Var}}(\text{conditional mean})/S`, is at most ``noise`` (at most
        ``max_samples`` draws); an int fixes S. Shapes: x [B, D] -> [L] of [B, d_i].
        """
        return self._posterior_mean_stats(x, samples, noise, max_samples)[0]

    def _posterior_mean_stats(self, x: Tensor, samples: int | None, noise: float,
                              max_samples: int) -> tuple[list[Tensor], list[Tensor]]:
        """(posterior means [L] of [B, d_i], the Monte Carlo variance of each [L] of [B, d_i])."""
        self.check_input(x, support=False)
        return monte_carlo_means(lambda k: self._infer(x, k)[2], x.shape[0], samples, noise, max_samples)

    @torch.no_grad()
    def active_units_per_layer(self, x: Tensor, threshold: float = 0.01, samples: int | None = None) -> list[int]:
        r"""Active units of every layer (Burda et al., 2016): unit u of layer i is active when
        :math:`A_{i,u} = \mathrm{Cov}_x(\mathbb E_q[z_{i,u}|x]) > 0.01`.

        :math:`\mathbb E_q[z_{i,u}|x]` is exact for the layer that reads x alone and a Monte Carlo
        mean for the others (:meth:`posterior_means`, by default with enough draws that its variance
        is at most ``threshold / 10`` for every entry); that variance, which a unit whose
        posterior mean is constant would otherwise show as :math:`A_{i,u}`, is subtracted (its mean
        over x), so the count estimates that of the exact means. Shapes: x [N, D] -> [L] ints, bottom first.
        """
        if not threshold > 0:
            raise ValueError(f"threshold must be a positive variance, got {threshold!r}")
        means, noise = self._posterior_mean_stats(x, samples, threshold / 10, 100_000)
        return [int((m.var(0, unbiased=False) - v.mean(0) > threshold).sum()) for m, v in zip(means, noise)]

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        cells = {int(k.split(".")[1]) for k in state_dict if k.startswith(("q_cells.", "heads."))}
        if strict and cells and max(cells) + 1 != self.layers:
            raise ValueError(f"these weights are of a DeepHierarchicalVAE with L = {max(cells) + 1} stochastic "
                             f"layers, this model has L = {self.layers}")
        return super().load_state_dict(state_dict, strict=strict, assign=assign)


def layerwise_elbo(model: DeepHierarchicalVAE, x: Tensor, beta: float = 1.0, free_bits: float = 0.0, K: int = 1) -> Tensor:
    r"""The ELBO with the two training aids of Sonderby et al. (2016) and Kingma et al. (2016), per layer:

    .. math:: \tilde{\mathcal L} = \mathbb E_q[\log p(x|z_1)] - \beta \sum_{i=1}^L
              \max\big(\lambda,\ \overline{\mathrm{KL}}_i\big),

    :math:`\overline{\mathrm{KL}}_i` the layer's Monte Carlo KL term averaged over the mini-batch,
    :math:`\beta` the KL warm-up weight and :math:`\lambda` = ``free_bits`` nats per layer (a layer
    under :math:`\lambda` costs a constant and gets no gradient from its KL). With ``beta=1`` and
    ``free_bits=0`` it is the ELBO (no clamp, even where a Monte Carlo KL term is negative). The returned [B] tensor has the objective as its mean.

    Shapes:
        x: [B, D] -> [B]
    """
    if free_bits < 0 or beta < 0:
        raise ValueError(f"beta and free_bits must be >= 0, got beta={beta}, free_bits={free_bits}")
    t = model.terms(x, K)
    kl = t.kl_per_layer                                                               # [L, B]
    if free_bits > 0:
        below = kl.detach().mean(1, keepdim=True) <= free_bits                        # [L, 1]
        kl = torch.where(below, torch.full_like(kl, float(free_bits)), kl)
    penalty = kl.sum(0)
    return t.log_px_z.mean(0) - beta * penalty
