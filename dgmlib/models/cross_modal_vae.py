r"""A cross-modal VAE (Spurr, Song, Park & Hilliges, CVPR 2018): one latent space, one encoder and
one decoder per modality, trained to predict every modality from every other.

Each modality m has an encoder :math:`q_m(z \mid x_m)` (diagonal Gaussian) and a decoder
:math:`p_m(x_m \mid z)`; all share the prior :math:`p(z) = \mathcal N(0, I)`. For a source i and a
target t the training signal is the cross-modal bound of :mod:`dgmlib.cross_modal`,

.. math:: \log p(x_t) \ge \mathbb E_{q_i(z|x_i)}[\log p_t(x_t \mid z)] - \mathrm{KL}(q_i(z \mid x_i) \,\|\, p(z)),

and :func:`~dgmlib.models.cross_modal_vae.fit_cross_modal` alternates the pairs:
consecutive batches alternate between the (source, target) pairs, so one batch trains :math:`i \to t`, the next :math:`t \to i`, then the
two self pairs (ordinary ELBOs), and so on. Because every encoder must serve every decoder, the
encoders learn to place the two views of one data point at the same z.

Likelihoods: ``"bernoulli"`` (binary vectors, logits), ``"gaussian"`` (real vectors, a learned
standard deviation per dimension) and ``"categorical"`` (integer class indices [B] of any integer
dtype, converted to int64; floats are refused; the encoder
reads them one-hot).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from .. import validation
from ..cross_modal import cross_modal_bound
from ..distributions import bernoulli_log_prob
from ..nets import mlp, mlp_encoder

#: The likelihoods a modality can have.
LIKELIHOODS = ("bernoulli", "gaussian", "categorical")


class CrossModalVAE(nn.Module):
    r"""Encoders and decoders of several modalities around one latent z.

    Arguments:
        modalities: name -> (size, likelihood): the number of features (of classes, for
            ``"categorical"``) and one of :data:`~dgmlib.models.cross_modal_vae.LIKELIHOODS`.
        z_dim: size of the shared latent z.
        hidden: hidden layer sizes of every encoder and decoder MLP.
    Shapes:
        a modality's data: [B, size] floats of the model's dtype, or [B] integers (any integer
        dtype) for a categorical one; z: [K, B, z_dim].
    """

    def __init__(self, modalities: Mapping[str, tuple[int, str]], z_dim: int = 2, hidden: Sequence[int] = (128,)):
        super().__init__()
        if len(modalities) < 2:
            raise ValueError(f"a cross-modal VAE needs at least two modalities, got {list(modalities)}")
        for name, (size, likelihood) in modalities.items():
            if likelihood not in LIKELIHOODS:
                raise ValueError(f"modality {name!r}: unknown likelihood {likelihood!r}; choose one of "
                                 f"{', '.join(LIKELIHOODS)}")
            validation.check_positive_int(size, f"the size of modality {name!r}")
        self.modalities = {name: (int(size), likelihood) for name, (size, likelihood) in modalities.items()}
        self.z_dim = int(z_dim)
        self.encoders = nn.ModuleDict({m: mlp_encoder(size, hidden, z_dim) for m, (size, _) in self.modalities.items()})
        self.decoders = nn.ModuleDict({m: mlp([z_dim, *hidden, size]) for m, (size, _) in self.modalities.items()})
        self.log_sigma = nn.ParameterDict({m: nn.Parameter(torch.zeros(size))
                                           for m, (size, kind) in self.modalities.items() if kind == "gaussian"})
        self.config = {"model": "cross_modal_vae", "modalities": {m: list(v) for m, v in self.modalities.items()},
                       "z_dim": self.z_dim, "hidden": [int(h) for h in hidden]}

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """Every (source, target) pair, the cross pairs first, then the self pairs (the schedule)."""
        names = list(self.modalities)
        cross = [(i, t) for i in names for t in names if i != t]
        return cross + [(m, m) for m in names]

    # ---- inputs -------------------------------------------------------------------------------
    def check(self, name: str, x: Tensor) -> Tensor:
        """``x`` as data of modality ``name``, or a clear error (unknown modality, wrong shape,
        labels out of range, non-finite values)."""
        if name not in self.modalities:
            raise ValueError(f"unknown modality {name!r}; this model has {', '.join(self.modalities)}")
        size, kind = self.modalities[name]
        validation.check_tensor(x, name)
        if kind == "categorical":
            if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
                raise TypeError(f"modality {name!r} holds class indices: give an integer tensor (int64, "
                                f"int32, uint8, ...), got {x.dtype}; whole numbers stored as floats "
                                "must be converted on purpose, e.g. with .long()")
            if x.dim() != 1:
                raise ValueError(f"modality {name!r} holds class indices: a [batch] tensor, "
                                 f"got shape {tuple(x.shape)}")
            validation.check_nonempty(x, name)
            x = x.long()
            if ((x < 0) | (x >= size)).any():
                raise ValueError(f"modality {name!r}: labels must lie in 0..{size - 1}, "
                                 f"found e.g. {x[(x < 0) | (x >= size)][0].item()}")
            return x
        if x.dim() != 2 or x.shape[1] != size:
            raise ValueError(f"modality {name!r} must be [batch, {size}], got shape {tuple(x.shape)}")
        p = next(self.parameters())
        if x.device != p.device or x.dtype != p.dtype:
            raise ValueError(f"modality {name!r} is {x.dtype} on {x.device} but the model is {p.dtype} on "
                             f"{p.device}; move one of them with .to(...)")
        validation.check_nonempty(x, name)
        validation.check_finite(x, name)
        if kind == "bernoulli" and validation.enabled() and ((x != 0) & (x != 1)).any():
            raise ValueError(f"modality {name!r} has a Bernoulli decoder: its values must be 0 or 1")
        return x

    def _features(self, name: str, x: Tensor) -> Tensor:
        size, kind = self.modalities[name]
        if kind == "categorical":
            p = next(self.parameters())
            return nn.functional.one_hot(x, size).to(dtype=p.dtype)
        return x

    # ---- the model ----------------------------------------------------------------------------
    def encode(self, name: str, x: Tensor) -> tuple[Tensor, Tensor]:
        r"""Mean and log-variance of :math:`q_m(z \mid x_m)`.  -> ([B, z_dim], [B, z_dim])"""
        x = self.check(name, x)
        return self.encoders[name](self._features(name, x))

    def log_likelihood(self, name: str, x: Tensor, z: Tensor) -> Tensor:
        r""":math:`\log p_m(x_m \mid z_k)`.  x: [B, size] (or [B]), z: [K, B, z_dim] -> [K, B]"""
        x = self.check(name, x)
        if z.dim() != 3 or z.shape[1] != len(x) or z.shape[2] != self.z_dim:
            raise ValueError(f"z must be [K, {len(x)}, {self.z_dim}] for the {len(x)} rows of modality "
                             f"{name!r}, got shape {tuple(z.shape)}")
        out = self.decoders[name](z)
        kind = self.modalities[name][1]
        if kind == "bernoulli":
            return bernoulli_log_prob(x, out)
        if kind == "gaussian":
            s = self.log_sigma[name]
            return (-0.5 * ((x - out) / s.exp()) ** 2 - s - 0.5 * math.log(2 * math.pi)).sum(-1)
        return torch.log_softmax(out, -1).gather(-1, x.expand(len(z), -1)[..., None])[..., 0]

    def bound(self, source: str, target: str, x_source: Tensor, x_target: Tensor, K: int = 1) -> Tensor:
        r"""The cross-modal bound :math:`\mathbb E_{q_i(z|x_i)}[\log p_t(x_t|z)] - \mathrm{KL}(q_i \| p)`
        with K reparameterized draws; source = target gives the ELBO.  -> [B]"""
        K = validation.check_positive_int(K)
        if len(x_source) != len(x_target):
            raise ValueError(f"the {source!r} and {target!r} batches must be paired row by row, got "
                             f"{len(x_source)} and {len(x_target)} rows")
        mu, logvar = self.encode(source, x_source)
        z = mu + (0.5 * logvar).exp() * torch.randn(K, *mu.shape, dtype=mu.dtype, device=mu.device)
        return cross_modal_bound(self.log_likelihood(target, x_target, z), mu, logvar)

    @torch.no_grad()
    def predict(self, source: str, target: str, x_source: Tensor) -> Tensor:
        """The target's decoder mean at the source's posterior mean z = mu_i(x_i): probabilities for
        Bernoulli and categorical targets ([B, size]), the mean for Gaussian ones."""
        mu, _ = self.encode(source, x_source)
        if target not in self.modalities:
            raise ValueError(f"unknown modality {target!r}; this model has {', '.join(self.modalities)}")
        out = self.decoders[target](mu)
        kind = self.modalities[target][1]
        return torch.sigmoid(out) if kind == "bernoulli" else torch.softmax(out, -1) if kind == "categorical" else out


def fit_cross_modal(model: CrossModalVAE, data: Mapping[str, Tensor], epochs: int, batch_size: int = 100,
                    lr: float = 1e-3, seed: int = 0, pairs: Sequence[tuple[str, str]] | None = None) -> dict:
    """Train with Adam on the negative cross-modal bound, alternating the (source, target) pairs
    batch by batch (``pairs``, default
    :attr:`~dgmlib.models.cross_modal_vae.CrossModalVAE.pairs`; only the self pairs train separate
    VAEs that share nothing but the prior).

    Arguments:
        data: modality name -> its training data; the rows are paired (row n of every modality
            is the same data point).
    Returns:
        pair "i->t" -> the mean bound of each epoch on the batches that trained that pair.
    """
    epochs = validation.check_positive_int(epochs, "epochs")
    names = list(data)
    if set(names) != set(model.modalities):
        raise ValueError(f"data must hold every modality of the model ({', '.join(model.modalities)}), "
                         f"got {', '.join(names)}")
    sizes = {m: len(data[m]) for m in names}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"the modalities must be paired row by row, got {sizes} rows")
    for m in names:
        model.check(m, data[m])                # every value once; the batches below skip the value checks
    pairs = list(model.pairs if pairs is None else pairs)
    for i, t in pairs:
        if i not in model.modalities or t not in model.modalities:
            raise ValueError(f"unknown modality in the pair ({i!r}, {t!r}); this model has "
                             f"{', '.join(model.modalities)}")
    n = sizes[names[0]]
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history: dict[str, list[float]] = {f"{i}->{t}": [] for i, t in pairs}
    step = 0
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(n, generator=g)
        sums = {key: [0.0, 0] for key in history}
        for start in range(0, n, batch_size):
            i, t = pairs[step % len(pairs)]
            step += 1
            rows = order[start:start + batch_size]
            with validation.off():
                bound = model.bound(i, t, data[i][rows.to(data[i].device)], data[t][rows.to(data[t].device)]).mean()
            if not torch.isfinite(bound):
                raise ValueError(f"the cross-modal bound {i}->{t} is {bound.item()} at epoch {epoch}: "
                                 f"lower the learning rate ({lr})")
            opt.zero_grad()
            (-bound).backward()
            opt.step()
            sums[f"{i}->{t}"][0] += bound.item()
            sums[f"{i}->{t}"][1] += 1
        for key, (total, count) in sums.items():
            history[key].append(total / count if count else float("nan"))
    model.eval()
    return history


def _check_rows(x: Tensor, name: str, likelihood: str) -> Tensor:
    """Data of a likelihood without a model: [N] integer labels (as int64) for ``"categorical"``,
    else a [N, D] float tensor of finite values (binary for ``"bernoulli"``); never empty."""
    validation.check_tensor(x, name)
    if likelihood == "categorical":
        if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool or x.dim() != 1:
            raise TypeError(f"{name} holds class indices: give a [N] integer tensor, got "
                            f"{tuple(x.shape)} {x.dtype}")
        validation.check_nonempty(x, name)
        if (x < 0).any():
            raise ValueError(f"{name}: class indices must be >= 0, found {int(x.min())}")
        return x.long()
    if x.dim() != 2 or not x.is_floating_point():
        raise ValueError(f"{name} must be a [N, D] float tensor, got {tuple(x.shape)} {x.dtype}")
    validation.check_nonempty(x, name)
    validation.check_finite(x, name)
    if likelihood == "bernoulli" and validation.enabled() and ((x != 0) & (x != 1)).any():
        raise ValueError(f"{name} is the target of a Bernoulli likelihood: its values must be 0 or 1")
    return x


def fit_direct(x_source: Tensor, x_target: Tensor, likelihood: str, hidden: Sequence[int] = (128,),
               epochs: int = 100, batch_size: int = 100, lr: float = 1e-3, seed: int = 0) -> nn.Module:
    """The baseline of the cross-modal model: an MLP from source to target trained directly on
    the target's negative log-likelihood (cross-entropy for ``"bernoulli"`` and
    ``"categorical"`` targets, squared error for ``"gaussian"``), with Adam.

    Shapes:
        x_source: [N, D_i] floats, x_target: [N, D_t] floats (or [N] integers for a categorical
        target) -> a module mapping [B, D_i] to predictions in the format of
        :meth:`~dgmlib.models.cross_modal_vae.CrossModalVAE.predict` (probabilities, or the mean)
    """
    epochs = validation.check_positive_int(epochs, "epochs")
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"unknown likelihood {likelihood!r}; choose one of {', '.join(LIKELIHOODS)}")
    if len(x_source) != len(x_target):
        raise ValueError(f"source and target must be paired row by row, got {len(x_source)} and "
                         f"{len(x_target)} rows")
    x_source = _check_rows(x_source, "x_source", "gaussian")
    x_target = _check_rows(x_target, "x_target", likelihood)
    out = int(x_target.max()) + 1 if likelihood == "categorical" else x_target.shape[1]
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    net = mlp([x_source.shape[1], *hidden, out]).to(device=x_source.device, dtype=x_source.dtype)
    loss_of = {"bernoulli": nn.functional.binary_cross_entropy_with_logits,
               "gaussian": nn.functional.mse_loss, "categorical": nn.functional.cross_entropy}[likelihood]
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    for _ in range(epochs):
        for rows in torch.randperm(len(x_source), generator=g).to(x_source.device).split(batch_size):
            loss = loss_of(net(x_source[rows]), x_target[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
    head = {"bernoulli": nn.Sigmoid(), "gaussian": nn.Identity(), "categorical": nn.Softmax(-1)}[likelihood]
    return nn.Sequential(net, head).eval()


@torch.no_grad()
def prediction_error(likelihood: str, predicted: Tensor, target: Tensor) -> Tensor:
    """How far predictions are from the truth, per data point: cross-entropy in nats (summed over
    the features) for ``"bernoulli"`` probabilities, the root mean squared error over the
    features for ``"gaussian"`` means, 0/1 error for ``"categorical"`` probabilities.

    Shapes:
        predicted: [N, D] (probabilities or means), target: [N, D] (or [N] int64) -> [N]
    """
    if likelihood == "categorical":
        return (predicted.argmax(-1) != target).to(predicted.dtype)
    if predicted.shape != target.shape:
        raise ValueError(f"predictions and targets must have the same shape, got {tuple(predicted.shape)} "
                         f"and {tuple(target.shape)}")
    if likelihood == "gaussian":
        return ((predicted - target) ** 2).mean(-1).sqrt()
    if likelihood == "bernoulli":
        p = predicted.clamp(1e-6, 1 - 1e-6)
        return -(target * p.log() + (1 - target) * (1 - p).log()).sum(-1)
    raise ValueError(f"unknown likelihood {likelihood!r}; choose one of {', '.join(LIKELIHOODS)}")
