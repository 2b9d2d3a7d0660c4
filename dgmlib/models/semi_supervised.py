r"""The semi-supervised VAE M2 (Kingma, Rezende, Mohamed & Welling, 2014).

Generative model, with a class label :math:`y \in \{0, \dots, C-1\}` beside the continuous latent z:

.. math:: p(x, y, z) = p(y)\, p(z)\, p_\theta(x \mid y, z), \qquad p(y) = 1/C, \quad
          p(z) = \mathcal N(0, I).

Inference: a classifier :math:`q_\phi(y \mid x)` and :math:`q_\phi(z \mid x, y)` (diagonal Gaussian).

Labelled bound (y observed), with the analytic Gaussian KL:

.. math:: \log p(x, y) \ge \mathcal L(x, y) = \mathbb E_{q(z|x,y)}[\log p_\theta(x \mid y, z)]
          + \log p(y) - \mathrm{KL}(q(z \mid x, y) \,\|\, p(z)).

Unlabelled bound (y marginalized exactly, a sum over the C classes, no sampling of y):

.. math:: \log p(x) = \log \sum_y p(x, y) \ge \mathcal U(x)
          = \sum_y q(y \mid x)\, \mathcal L(x, y) + \mathcal H[q(y \mid x)],

with equality in the inner step iff :math:`q(y|x) \propto \exp \mathcal L(x, y)`
(:func:`marginalize_labels`; then :math:`\mathcal U = \log\sum_y e^{\mathcal L(x,y)}`).

Training objective (to minimize), the paper's :math:`\mathcal J^\alpha`, per data point:

.. math:: -\overline{\mathcal L(x_l, y_l)} - \overline{\mathcal U(x_u)}
          + \alpha\, \overline{-\log q_\phi(y_l \mid x_l)}.

Missing labels are not marked inside a label tensor: pass the unlabelled images to
:meth:`SemiSupervisedVAE.unlabelled_elbo`; a label of -1 (a common "unknown" marker) is refused
with a message saying so.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor, nn

from .. import validation
from ..distributions import bernoulli_log_prob, kl_normal
from ..nets import mlp, mlp_encoder
from .base import Model


def marginalize_labels(labelled: Tensor, log_q: Tensor) -> Tensor:
    r""":math:`\mathcal U = \sum_y q(y|x)\,\mathcal L(x, y) + \mathcal H[q(y|x)]`.

    By Gibbs' inequality :math:`\mathcal U \le \log\sum_y \exp \mathcal L(x, y)`, with equality iff
    ``log_q`` is ``log_softmax(labelled)``.

    Shapes:
        labelled: [B, C] (the labelled bound for each class), log_q: [B, C] (log q(y|x)) -> [B]
    """
    if labelled.shape != log_q.shape or labelled.dim() != 2:
        raise ValueError(f"labelled bounds and log q(y|x) must both be [batch, classes], got "
                         f"{tuple(labelled.shape)} and {tuple(log_q.shape)}")
    q = log_q.exp()
    return (q * (labelled - log_q)).sum(-1)


def check_labels(y: Tensor, n_classes: int, batch: int, name: str = "y") -> Tensor:
    """``y`` as int64 class indices [batch] in 0..n_classes-1, or a clear error."""
    validation.check_tensor(y, name)
    if y.dim() != 1 or y.shape[0] != batch:
        raise ValueError(f"{name} must be [batch] with one label per image ({batch} images), "
                         f"got shape {tuple(y.shape)}")
    if y.is_floating_point():
        if torch.isnan(y).any():
            raise ValueError(f"{name} contains NaN: missing labels are not marked inside a label "
                             "tensor; pass unlabelled images to unlabelled_elbo instead")
        if (y != y.round()).any():
            raise ValueError(f"{name} must hold whole class indices, got e.g. "
                             f"{y[y != y.round()][0].item()}")
    elif y.dtype == torch.bool:
        raise ValueError(f"{name} must hold class indices (integers), got a bool tensor")
    y = y.long()
    bad = (y < 0) | (y >= n_classes)
    if bad.any():
        value = y[bad][0].item()
        hint = (" (-1 is not a 'missing' marker here: pass unlabelled images to unlabelled_elbo)"
                if value == -1 else "")
        raise ValueError(f"{name} must lie in 0..{n_classes - 1}, found {int(bad.sum())} labels "
                         f"outside, e.g. {value}{hint}")
    return y


class UnlabelledTerms(NamedTuple):
    r"""The per-draw terms of the unlabelled bound (``SemiSupervisedVAE.terms``): ``log_w`` [K, B]
    with :math:`\log w_k = \sum_y q(y|x)\,[\log p(x|y, z_k^y) + \log p(y) - \mathrm{KL}(q(z|x,y) \| p(z))
    - \log q(y|x)]`, :math:`z_k^y \sim q(z|x, y)`, whose mean over k is the Monte Carlo
    :math:`\mathcal U(x)` (closed-form KL). They are not importance weights: ``log_weights`` (the
    label summed out exactly) is what :func:`~dgmlib.objectives.iwae_bound` and
    :func:`~dgmlib.metrics.log_marginal_likelihood` use."""
    log_w: Tensor   # [K, B]


class SemiSupervisedVAE(Model):
    r"""M2: classifier :math:`q(y|x)`, encoder :math:`q(z|x,y)`, decoder :math:`p(x|y,z)`
    (Bernoulli), all MLPs on concatenated one-hot labels.

    The generic calls work on unlabelled images: :func:`~dgmlib.objectives.elbo` and
    :func:`~dgmlib.train.evaluate` give the unlabelled bound :math:`\mathcal U(x)`
    (``unlabelled_elbo``), :func:`~dgmlib.train.fit` maximizes it (the unsupervised M2; with labels
    use :func:`~dgmlib.semi_supervised.fit_semi_supervised`), :func:`~dgmlib.objectives.iwae_bound`
    and :func:`~dgmlib.metrics.log_marginal_likelihood` sum the label out exactly
    (``log_weights``), and :func:`~dgmlib.metrics.active_units` reads
    :math:`\mathbb E_q[z|x] = \sum_y q(y|x)\,\mu_\phi(x, y)` (``posterior_mean``).

    Arguments:
        init: the MLPs' weight initialization, "torch" or "he" (:func:`dgmlib.nets.mlp`).
    Shapes:
        x: [B, x_dim] binary; y: [B] class indices; eps (optional reparameterization noise):
        [K, B, z_dim] for the labelled bound, [K, C, B, z_dim] for the unlabelled one.
    """

    def __init__(self, x_dim: int, n_classes: int, z_dim: int = 8, hidden: Sequence[int] = (256,),
                 init: str = "torch"):
        super().__init__()
        if n_classes < 2:
            raise ValueError(f"a semi-supervised model needs at least 2 classes, got {n_classes}")
        self.x_dim, self.n_classes, self.z_dim = int(x_dim), int(n_classes), int(z_dim)
        self.classifier = mlp([x_dim, *hidden, n_classes], init=init)
        self.encoder = mlp_encoder(x_dim + n_classes, hidden, z_dim, init=init)
        self.decoder = mlp([z_dim + n_classes, *hidden, x_dim], init=init)
        self.config = {"model": "semi_supervised_vae", "x_dim": self.x_dim, "n_classes": self.n_classes,
                       "z_dim": self.z_dim, "hidden": [int(h) for h in hidden]}
        if init != "torch":    # configs of models built before the option existed stay as they were
            self.config["init"] = init

    # ---- inputs -------------------------------------------------------------------------------
    def _check_x(self, x: Tensor, name: str = "x") -> Tensor:
        self.check_input(x, name)
        return x

    def check_support(self, x: Tensor, name: str = "x") -> None:
        """Binary images only: the decoder is Bernoulli."""
        other = (x != 0) & (x != 1)
        if other.any():
            raise ValueError(f"{name} must be binary (0 or 1) for the Bernoulli decoder, found "
                             f"{int(other.sum())} other values (e.g. {x[other][0].item():.4g})")

    def _one_hot(self, y: Tensor, like: Tensor) -> Tensor:
        return nn.functional.one_hot(y, self.n_classes).to(dtype=like.dtype, device=like.device)

    # ---- the model ----------------------------------------------------------------------------
    def classifier_log_probs(self, x: Tensor) -> Tensor:
        """log q(y | x) for every class.  [B, x_dim] -> [B, C]"""
        return torch.log_softmax(self.classifier(self._check_x(x)), dim=-1)

    def log_prior_y(self) -> float:
        """log p(y) = -log C (uniform)."""
        return -math.log(self.n_classes)

    def _labelled(self, x: Tensor, y: Tensor, eps: Tensor | None, K: int) -> Tensor:
        h = self._one_hot(y, x)
        mu, logvar = self.encoder(torch.cat([x, h], -1))                         # [B, d]
        if eps is None:
            eps = torch.randn(K, *mu.shape, dtype=mu.dtype, device=mu.device)
        elif eps.shape[1:] != mu.shape:
            raise ValueError(f"eps must be [K, {mu.shape[0]}, {self.z_dim}], got {tuple(eps.shape)}")
        z = mu + (0.5 * logvar).exp() * eps                                       # [K, B, d]
        logits = self.decoder(torch.cat([z, h.expand(len(z), *h.shape)], -1))   # [K, B, D]
        recon = bernoulli_log_prob(x, logits).mean(0)                            # [B]
        return recon + self.log_prior_y() - kl_normal(mu, logvar)

    def labelled_elbo(self, x: Tensor, y: Tensor, K: int = 1, eps: Tensor | None = None) -> Tensor:
        r""":math:`\mathcal L(x, y)`, reconstruction averaged over K draws of z.  -> [B]"""
        x = self._check_x(x)
        y = check_labels(y, self.n_classes, len(x))
        return self._labelled(x, y, eps, validation.check_positive_int(K))

    def labelled_bounds(self, x: Tensor, K: int = 1, eps: Tensor | None = None) -> Tensor:
        r""":math:`\mathcal L(x, y)` for every class y, batched over classes.  -> [B, C]

        ``eps`` [K, C, B, z_dim]: the noise of class c is ``eps[:, c]``.
        """
        x = self._check_x(x)
        K = validation.check_positive_int(K)
        B, C = len(x), self.n_classes
        y = torch.arange(C, device=x.device).repeat_interleave(B)                # [C*B]
        if eps is not None:
            if eps.shape[1:3] != (C, B):
                raise ValueError(f"eps must be [K, {C}, {B}, {self.z_dim}], got {tuple(eps.shape)}")
            eps = eps.reshape(eps.shape[0], C * B, -1)
        return self._labelled(x.repeat(C, 1), y, eps, K).view(C, B).T

    def unlabelled_elbo(self, x: Tensor, K: int = 1, eps: Tensor | None = None) -> Tensor:
        r""":math:`\mathcal U(x) = \sum_y q(y|x)\mathcal L(x, y) + \mathcal H[q(y|x)]`.  -> [B]"""
        return marginalize_labels(self.labelled_bounds(x, K, eps), self.classifier_log_probs(x))

    def terms(self, x: Tensor, K: int = 1) -> UnlabelledTerms:
        r"""The per-draw terms of :math:`\mathcal U(x)` (see :class:`~dgmlib.models.semi_supervised.UnlabelledTerms`): what
        :func:`~dgmlib.objectives.elbo`, :func:`~dgmlib.train.evaluate` and :func:`~dgmlib.train.fit` read, so that
        ``elbo(model, x, K)`` is ``unlabelled_elbo(x, K)`` at the same noise.  [B, x_dim] -> log_w [K, B]"""
        x = self._check_x(x)
        K = validation.check_positive_int(K)
        B, C = len(x), self.n_classes
        y = torch.arange(C, device=x.device).repeat_interleave(B)                # [C*B]
        h = self._one_hot(y, x)
        xs = x.repeat(C, 1)
        mu, logvar = self.encoder(torch.cat([xs, h], -1))                        # [C*B, d]
        z = mu + (0.5 * logvar).exp() * torch.randn(K, *mu.shape, dtype=mu.dtype, device=mu.device)
        logits = self.decoder(torch.cat([z, h.expand(K, *h.shape)], -1))
        labelled = (bernoulli_log_prob(xs, logits) + self.log_prior_y() - kl_normal(mu, logvar)).view(K, C, B)
        log_q = torch.log_softmax(self.classifier(x), dim=-1).T                   # [C, B]
        return UnlabelledTerms((log_q.exp() * (labelled - log_q)).sum(1))

    def analytic_kl(self, mu: Tensor, logvar: Tensor) -> Tensor:
        raise ValueError("the unlabelled bound of a SemiSupervisedVAE has its closed-form KL inside "
                         "already: call dgmlib.elbo(model, x) with analytic_kl=False (the default), or "
                         "model.unlabelled_elbo(x)")

    @torch.no_grad()
    def posterior_mean(self, x: Tensor) -> Tensor:
        r""":math:`\mathbb E_{q(z|x)}[z] = \sum_y q(y|x)\, \mu_\phi(x, y)`, the mean of the encoder's
        mixture :math:`q(z|x) = \sum_y q(y|x)\, q(z|x, y)` (what :func:`~dgmlib.metrics.active_units`
        reads).  [B, x_dim] -> [B, z_dim]"""
        self.check_input(x, support=False)
        B, C = len(x), self.n_classes
        y = torch.arange(C, device=x.device).repeat_interleave(B)
        mu, _ = self.encoder(torch.cat([x.repeat(C, 1), self._one_hot(y, x)], -1))   # [C*B, d]
        q = torch.softmax(self.classifier(x), -1).T                                  # [C, B]
        return (q[..., None] * mu.view(C, B, -1)).sum(0)

    def loss(self, x_l: Tensor, y_l: Tensor, x_u: Tensor, alpha: float = 0.1, K: int = 1,
             labelled_weight: float = 1.0) -> Tensor:
        r"""The paper's :math:`\mathcal J^\alpha`, as means over the labelled and unlabelled batches
        (a scalar to minimize):
        :math:`-w_l\,\overline{\mathcal L(x_l, y_l)} - \overline{\mathcal U(x_u)} + \alpha\,\overline{-\log q(y_l|x_l)}`
        with :math:`w_l` = ``labelled_weight``. The paper's sums divided by the N images are
        :math:`w_l = N_l / N` and :math:`\alpha = 0.1` (its :math:`\alpha = 0.1 N`). The labelled
        batch and its labels must have the same length."""
        x_l, x_u = self._check_x(x_l, "x_l"), self._check_x(x_u, "x_u")
        y_l = check_labels(y_l, self.n_classes, len(x_l), "y_l")
        log_q = self.classifier_log_probs(x_l).gather(1, y_l[:, None])[:, 0]
        return (-labelled_weight * self._labelled(x_l, y_l, None, K).mean() - self.unlabelled_elbo(x_u, K).mean()
                - alpha * log_q.mean())

    def log_weights(self, x: Tensor, K: int = 1) -> Tensor:
        r"""Log weights of an unbiased estimate of p(x), the label summed out exactly:
        :math:`\log w_k = \log\sum_y p(x, y, z_k^y) / q(z_k^y \mid x, y)`,
        :math:`z_k^y \sim q(z \mid x, y)`, so :math:`\tfrac1K\sum_k w_k` estimates
        :math:`\sum_y p(x, y) = p(x)`.  [B, x_dim] -> [K, B]
        """
        x = self._check_x(x)
        K = validation.check_positive_int(K)
        B, C = len(x), self.n_classes
        y = torch.arange(C, device=x.device).repeat_interleave(B)                # [C*B]
        xs, h = x.repeat(C, 1), self._one_hot(y, x)
        mu, logvar = self.encoder(torch.cat([xs, h], -1))                        # [C*B, d]
        eps = torch.randn(K, *mu.shape, dtype=mu.dtype, device=mu.device)
        z = mu + (0.5 * logvar).exp() * eps                                       # [K, C*B, d]
        logits = self.decoder(torch.cat([z, h.expand(K, *h.shape)], -1))
        log_pz = -0.5 * (z ** 2 + math.log(2 * math.pi)).sum(-1)
        log_qz = -0.5 * (eps ** 2 + logvar + math.log(2 * math.pi)).sum(-1)
        log_w = bernoulli_log_prob(xs, logits) + self.log_prior_y() + log_pz - log_qz
        return torch.logsumexp(log_w.view(K, C, B), dim=1)

    def encode(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """Mean and log-variance of q(z | x, y).  [B, x_dim], [B] -> ([B, z_dim], [B, z_dim])"""
        self.check_input(x, "x", support=False)
        y = check_labels(y, self.n_classes, len(x))
        return self.encoder(torch.cat([x, self._one_hot(y, x)], -1))

    @torch.no_grad()
    def decode_means(self, z: Tensor, y: Tensor) -> Tensor:
        """The decoder's pixel probabilities sigma(logits(y, z)): with z from one image and other
        labels y, the same style drawn as other classes.  [B, z_dim], [B] -> [B, x_dim]"""
        if z.dim() != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must be [batch, {self.z_dim}], got shape {tuple(z.shape)}")
        y = check_labels(y, self.n_classes, len(z))
        return torch.sigmoid(self.decoder(torch.cat([z, self._one_hot(y.to(z.device), z)], -1)))

    @torch.no_grad()
    def predict(self, x: Tensor) -> Tensor:
        """argmax_y q(y | x).  [B, x_dim] -> [B] int64"""
        return self.classifier_log_probs(x).argmax(-1)

    @torch.no_grad()
    def sample(self, n: int, y: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        """x ~ p(x | y, z), z ~ p(z); y given [n] or drawn from p(y).  -> [n, x_dim]"""
        return torch.bernoulli(torch.sigmoid(self._logits(n, y, generator)), generator=generator)

    @torch.no_grad()
    def sample_means(self, n: int, y: Tensor | None = None,
                     generator: torch.Generator | None = None) -> Tensor:
        """Decoder means sigma(logits(y, z)), z ~ p(z): the class-conditional figures.  -> [n, x_dim]"""
        return torch.sigmoid(self._logits(n, y, generator))

    def _logits(self, n: int, y: Tensor | None, generator: torch.Generator | None) -> Tensor:
        n = validation.check_positive_int(n, "n")
        p = next(self.parameters())
        if y is None:
            y = torch.randint(self.n_classes, (n,), device=p.device, generator=generator)
        y = check_labels(y, self.n_classes, n)
        z = torch.randn(n, self.z_dim, dtype=p.dtype, device=p.device, generator=generator)
        return self.decoder(torch.cat([z, self._one_hot(y.to(p.device), z)], -1))
