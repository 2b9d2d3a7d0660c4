r"""Training with few labels: the labelled subset, the M2 training loop and the baseline classifier.

The semi-supervised VAE M2 (:class:`~dgmlib.models.semi_supervised.SemiSupervisedVAE`) is trained
on the objective :math:`\mathcal J^\alpha` (its ``loss``): every unlabelled batch :math:`x_u` is
paired with a batch :math:`(x_l, y_l)` drawn from the few labelled points, so each step sees both
terms. The baseline it is compared with is the same classifier network :math:`q(y|x)` trained by
cross-entropy on the labelled points alone (:func:`~dgmlib.semi_supervised.fit_classifier`). The
difference between the two accuracies is what the unlabelled images add only when both get the
same number of optimizer steps (M2 takes one step per unlabelled batch, the baseline one per
labelled batch: give the baseline ``epochs`` to match).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from . import validation
from .models.semi_supervised import SemiSupervisedVAE, check_labels
from .nets import mlp


def labelled_subset(labels: Tensor, per_class: int, seed: int = 0) -> Tensor:
    """Indices of ``per_class`` points of every class, drawn without replacement by ``seed``.

    Shapes:
        labels: [N] int64 -> [C * per_class] int64 indices into it, grouped by class
    Raises:
        ValueError: if some class has fewer than ``per_class`` points.
    """
    per_class = validation.check_positive_int(per_class, "per_class")
    if labels.dim() != 1 or labels.dtype != torch.int64:
        raise ValueError(f"labels must be a [N] int64 tensor, got {tuple(labels.shape)} {labels.dtype}")
    g = torch.Generator().manual_seed(seed)
    picked = []
    for c in torch.unique(labels.cpu()).tolist():
        members = (labels.cpu() == c).nonzero()[:, 0]
        if len(members) < per_class:
            raise ValueError(f"class {c} has only {len(members)} points, fewer than per_class = {per_class}")
        picked.append(members[torch.randperm(len(members), generator=g)[:per_class]])
    return torch.cat(picked).to(labels.device)


def fit_semi_supervised(model: SemiSupervisedVAE, x_l: Tensor, y_l: Tensor, x_u: Tensor, epochs: int,
                        alpha: float, batch_size: int = 100, labelled_batch: int = 100, lr: float = 1e-3,
                        seed: int = 0, K: int = 1, weighting: str = "means") -> list[float]:
    r"""Train M2 on :math:`\mathcal J^\alpha` with Adam: each epoch passes once over the unlabelled
    images in shuffled batches of ``batch_size``; each batch is paired with ``labelled_batch``
    labelled points drawn at random (all of them when there are fewer).

    ``weighting="means"`` adds the two bounds' batch means and ``alpha`` times the mean
    cross-entropy (:meth:`~dgmlib.models.semi_supervised.SemiSupervisedVAE.loss` with ``labelled_weight=1``); ``"paper"`` is the
    paper's sums over the data set divided by its size N = ``len(x_u)``: the labelled bound
    weighted :math:`N_l / N`, and ``alpha`` the paper's :math:`\alpha / N` (0.1 there).

    Shapes:
        x_l: [N_l, D] binary, y_l: [N_l] int64, x_u: [N_u, D] binary (the labelled images may be
        among them, as is usual for M2)
    Returns:
        the mean loss of every epoch (nats per data point).
    Raises:
        ValueError: labels out of range, missing or fractional, or a loss that is not finite.
    """
    epochs = validation.check_positive_int(epochs, "epochs")
    if weighting not in ("means", "paper"):
        raise ValueError(f"weighting must be 'means' or 'paper', got {weighting!r}")
    y_l = check_labels(y_l, model.n_classes, len(x_l), "y_l")
    model.check_input(x_l, "x_l")
    model.check_input(x_u, "x_u")
    labelled_weight = len(x_l) / len(x_u) if weighting == "paper" else 1.0
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(x_u), generator=g).to(x_u.device)
        total, n = 0.0, 0
        for start in range(0, len(x_u), batch_size):
            xu = x_u[order[start:start + batch_size]]
            pick = torch.randperm(len(x_l), generator=g)[:labelled_batch].to(x_l.device)
            loss = model.loss(x_l[pick], y_l[pick], xu, alpha=alpha, K=K, labelled_weight=labelled_weight)
            if not torch.isfinite(loss):
                raise ValueError(f"the M2 loss is {loss.item()} at epoch {epoch}: lower the learning rate ({lr})")
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, n = total + loss.item() * len(xu), n + len(xu)
        losses.append(total / n)
    model.eval()
    return losses


def fit_conditional(model: SemiSupervisedVAE, x: Tensor, y: Tensor, epochs: int, batch_size: int = 100,
                    lr: float = 1e-3, seed: int = 0, K: int = 1) -> list[float]:
    r"""Train the conditional VAE inside M2 on fully labelled data: maximize the labelled bound
    :math:`\mathcal L(x, y) = \text{ELBO of } \log p(x \mid y) + \log p(y)` alone (the encoder
    :math:`q(z|x,y)` and decoder :math:`p(x|y,z)`; the classifier is not trained), with Adam.

    Shapes:
        x: [N, D] binary, y: [N] int64
    Returns:
        the mean negative labelled bound of every epoch (nats per data point).
    """
    epochs = validation.check_positive_int(epochs, "epochs")
    model.check_input(x, "x")
    y = check_labels(y, model.n_classes, len(x))
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    opt = torch.optim.Adam([p for n, p in model.named_parameters() if not n.startswith("classifier.")], lr=lr)
    losses = []
    model.train()
    for epoch in range(epochs):
        total = 0.0
        for rows in torch.randperm(len(x), generator=g).to(x.device).split(batch_size):
            loss = -model.labelled_elbo(x[rows], y[rows], K=K).mean()
            if not torch.isfinite(loss):
                raise ValueError(f"the conditional VAE's loss is {loss.item()} at epoch {epoch}: lower the "
                                 f"learning rate ({lr})")
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(rows)
        losses.append(total / len(x))
    model.eval()
    return losses


def fit_classifier(x_l: Tensor, y_l: Tensor, n_classes: int, hidden: Sequence[int] = (256,), epochs: int = 200,
                   lr: float = 1e-3, batch_size: int = 100, weight_decay: float = 0.0, seed: int = 0,
                   init: str = "torch", levels: Tensor | None = None) -> nn.Module:
    """The baseline: an MLP classifier ``x_dim -> hidden... -> n_classes`` (M2's classifier network)
    trained by cross-entropy on the labelled points alone, with Adam.

    Arguments:
        init: the MLP's weight initialization (:func:`dgmlib.nets.mlp`: "torch" or "he").
        levels: the labelled images' grey levels in [0, 1] (dynamic binarization): every batch
            then draws its images as Bernoulli(levels), as M2 does with its labelled images, from a
            generator of its own seeded by ``seed`` (so the batches' order is the same as without
            it). None: train on ``x_l`` as given.

    Shapes:
        x_l: [N_l, D], y_l: [N_l] int64, levels: [N_l, D] -> a module mapping [B, D] to logits [B, C]
    """
    epochs = validation.check_positive_int(epochs, "epochs")
    validation.check_tensor(x_l, "x_l")
    if x_l.dim() != 2 or not x_l.is_floating_point():
        raise ValueError(f"x_l must be a [N, D] float tensor of images, got {tuple(x_l.shape)} {x_l.dtype}")
    validation.check_nonempty(x_l, "x_l")
    validation.check_finite(x_l, "x_l")
    y_l = check_labels(y_l, n_classes, len(x_l), "y_l")
    if levels is not None:
        validation.check_tensor(levels, "levels")
        if levels.shape != x_l.shape:
            raise ValueError(f"levels must have the shape of x_l {tuple(x_l.shape)}, got {tuple(levels.shape)}")
        if not bool(((levels >= 0) & (levels <= 1)).all()):
            raise ValueError("levels must be grey levels in [0, 1] (the Bernoulli means of the images)")
        levels = levels.to(x_l)
        draws = torch.Generator(device=x_l.device).manual_seed(seed)
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    net = mlp([x_l.shape[1], *hidden, n_classes], init=init).to(device=x_l.device, dtype=x_l.dtype)
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(epochs):
        order = torch.randperm(len(x_l), generator=g).to(x_l.device)
        for start in range(0, len(x_l), batch_size):
            i = order[start:start + batch_size]
            x = x_l[i] if levels is None else torch.bernoulli(levels[i], generator=draws)
            loss = nn.functional.cross_entropy(net(x), y_l[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net.eval()


@torch.no_grad()
def accuracy(predicted: Tensor, labels: Tensor) -> float:
    """The fraction of predicted classes equal to the labels.  [N], [N] -> float in [0, 1]"""
    if predicted.shape != labels.shape or predicted.dim() != 1:
        raise ValueError(f"predictions and labels must both be [N], got {tuple(predicted.shape)} "
                         f"and {tuple(labels.shape)}")
    return (predicted == labels).to(torch.float64).mean().item()
