r"""Encoder and decoder networks.

Encoders map x [..., D] to the Gaussian posterior's parameters (mu, logvar), each [..., d];
decoders map z [..., d] to the likelihood's parameters [..., D]. Any number of leading
dimensions is allowed, so a decoder takes the [K, batch, d] importance samples in one call.
"""
from __future__ import annotations

import contextlib
from typing import Iterator, Sequence

import torch
from torch import Tensor, nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU, "gelu": nn.GELU}

# Clamp the log-variance to keep exp(logvar) finite in float32 (sigma in [2e-4, 150]).
LOGVAR_MIN, LOGVAR_MAX = -17.0, 10.0


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Inside the block ``model`` is in eval mode; its previous mode is restored afterwards, also
    when the block raises.

    Example:
        >>> with eval_mode(model):          # doctest: +SKIP
        ...     ll = model.log_weights(x, 100)
    """
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@torch.no_grad()
def encoder_stats(encoder: nn.Module, x: Tensor, batch_size: int = 4096) -> tuple[Tensor, Tensor]:
    r"""The Gaussian posterior parameters :math:`(\mu_\phi(x_i), \log\sigma^2_\phi(x_i))` of every
    row of x, computed in batches of ``batch_size`` rows (memory bounded), without gradients.

    Shapes:
        x: [N, D] -> (mu [N, d], logvar [N, d]) (logvar None for an encoder that returns none)
    """
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    stats = [encoder(xb) for xb in torch.split(x, int(batch_size))]
    logvar = None if stats[0][1] is None else torch.cat([s[1] for s in stats])   # a means-only encoder
    return torch.cat([s[0] for s in stats]), logvar


#: Weight initializations of :func:`mlp`.
INITS = ("torch", "he")


def mlp(sizes: Sequence[int], activation: str = "relu", init: str = "torch") -> nn.Sequential:
    r"""Linear layers of the given sizes with ``activation`` between them (none after the last).

    Arguments:
        init: "torch": PyTorch's default (uniform, variance :math:`1/(3\,\mathrm{fan_{in}})`);
            "he": every layer's weights drawn from :math:`\mathcal N(0, 2/\mathrm{fan_{in}})` and
            zero biases, as in Tomczak & Welling's VampPrior code (He et al., 2015). At 784 binary
            inputs PyTorch's default leaves a tanh network nearly blind to its input at the start;
            a tanh VAE with a VampPrior then stays collapsed (measured: ``tools/probes/vampprior_init.py``),
            with "he" it does not.

    Example: ``mlp([64, 256, 256, 4])`` has two hidden layers of 256 units.
    """
    if len(sizes) < 2:
        raise ValueError(f"an MLP needs an input and an output size, got {list(sizes)}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layer = nn.Linear(a, b)
        if init == "he":
            nn.init.normal_(layer.weight, 0.0, (2.0 / a) ** 0.5)
            nn.init.zeros_(layer.bias)
        layers.append(layer)
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class GaussianEncoder(nn.Module):
    r"""Amortized diagonal Gaussian posterior :math:`q_\phi(z|x) = \mathcal N(\mu_\phi(x),
    \mathrm{diag}\,\sigma^2_\phi(x))` from any network ``net`` with 2*z_dim outputs.

    Shapes:
        x: [..., D] -> (mu: [..., d], logvar: [..., d])
    """

    def __init__(self, net: nn.Module, z_dim: int):
        super().__init__()
        self.net, self.z_dim = net, int(z_dim)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self._head(self.net(x))

    def _head(self, h: Tensor) -> tuple[Tensor, Tensor]:
        if h.shape[-1] != 2 * self.z_dim:
            raise ValueError(f"encoder net gave {h.shape[-1]} outputs, expected 2*z_dim = {2 * self.z_dim}")
        mu, logvar = h.chunk(2, dim=-1)
        return mu, logvar.clamp(LOGVAR_MIN, LOGVAR_MAX)

    @property
    def feature_dim(self) -> int:
        """Size of the last hidden layer, the context that amortized posterior flows read."""
        if not isinstance(self.net, nn.Sequential):
            raise TypeError("features need the encoder's net to be an nn.Sequential")
        return next(m for m in reversed(self.net) if isinstance(m, nn.Linear)).in_features

    def with_features(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(mu, logvar, h): the posterior parameters and the last hidden layer h [..., feature_dim]
        they are computed from, in one pass."""
        if not isinstance(self.net, nn.Sequential):
            raise TypeError("features need the encoder's net to be an nn.Sequential")
        h = self.net[:-1](x)
        return (*self._head(self.net[-1](h)), h)


def mlp_encoder(x_dim: int, hidden: Sequence[int], z_dim: int, activation: str = "relu",
                init: str = "torch") -> GaussianEncoder:
    """MLP encoder x_dim -> hidden... -> (mu, logvar) of size z_dim (``init``: see :func:`mlp`)."""
    return GaussianEncoder(mlp([x_dim, *hidden, 2 * z_dim], activation, init), z_dim)


def mlp_decoder(z_dim: int, hidden: Sequence[int], x_dim: int, activation: str = "relu",
                init: str = "torch") -> nn.Sequential:
    """MLP decoder z_dim -> hidden... -> x_dim likelihood parameters (e.g. Bernoulli logits)."""
    return mlp([z_dim, *hidden, x_dim], activation, init)


class ConvEncoder28(nn.Module):
    r"""Small convolutional encoder for flat 28x28 images: two stride-2 convolutions
    (28 -> 14 -> 7) and a linear layer to (mu, logvar).

    Shapes:
        x: [..., 784] -> (mu: [..., d], logvar: [..., d])
    """

    def __init__(self, z_dim: int, channels: int = 32):
        super().__init__()
        c = channels
        self.z_dim = int(z_dim)
        self.conv = nn.Sequential(
            nn.Conv2d(1, c, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(c, 2 * c, 4, 2, 1), nn.ReLU(), nn.Flatten(),
            nn.Linear(2 * c * 7 * 7, 2 * self.z_dim))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if x.shape[-1] != 784:
            raise ValueError(f"ConvEncoder28 takes flat 28x28 images [..., 784], got {tuple(x.shape)}")
        lead = x.shape[:-1]
        h = self.conv(x.reshape(-1, 1, 28, 28)).reshape(*lead, 2 * self.z_dim)
        mu, logvar = h.chunk(2, dim=-1)
        return mu, logvar.clamp(LOGVAR_MIN, LOGVAR_MAX)


class ConvDecoder28(nn.Module):
    r"""Mirror of :class:`ConvEncoder28`: a linear layer to 7x7 feature maps and two stride-2
    transposed convolutions (7 -> 14 -> 28) to 784 logits.

    Shapes:
        z: [..., d] -> [..., 784]
    """

    def __init__(self, z_dim: int, channels: int = 32):
        super().__init__()
        c = channels
        self.c = c
        self.fc = nn.Sequential(nn.Linear(z_dim, 2 * c * 7 * 7), nn.ReLU())
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(c, 1, 4, 2, 1))

    def forward(self, z: Tensor) -> Tensor:
        lead = z.shape[:-1]
        h = self.fc(z.reshape(-1, z.shape[-1])).reshape(-1, 2 * self.c, 7, 7)
        return self.deconv(h).reshape(*lead, 784)


class ConcatELU(nn.Module):
    r""":math:`[\mathrm{ELU}(x), \mathrm{ELU}(-x)]` along the channels: both signs of the input pass
    (PixelCNN++, Salimans et al., 2017). Shapes: [B, C, H, W] -> [B, 2C, H, W]."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([nn.functional.elu(x), nn.functional.elu(-x)], dim=1)


class LayerNormChannels(nn.Module):
    """Layer normalization over the channels of each pixel, with a learned per-channel gain and bias.
    Shapes: [B, C, H, W] -> [B, C, H, W]."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.norm = nn.LayerNorm(int(channels), eps=eps)

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class GatedConv(nn.Module):
    r"""A gated residual block (Flow++, Ho et al., 2019): :math:`h = \mathrm{conv}_{1\times1}
    (\mathrm{CELU}(\mathrm{conv}_{3\times3}(\mathrm{CELU}(x))))` split into (a, g) and
    :math:`x + a \odot \sigma(g)`, CELU being :class:`ConcatELU`. Shapes: [B, C, H, W] -> [B, C, H, W]."""

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(ConcatELU(), nn.Conv2d(2 * channels, hidden, 3, padding=1),
                                 ConcatELU(), nn.Conv2d(2 * hidden, 2 * channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        value, gate = self.net(x).chunk(2, dim=1)
        return x + value * torch.sigmoid(gate)


class GatedConvNet(nn.Module):
    r"""The network of a convolutional coupling: a 3x3 convolution to ``hidden`` maps, ``blocks``
    gated residual blocks (:class:`GatedConv`, each followed by :class:`LayerNormChannels`), and a
    3x3 convolution to ``out_channels`` whose weights and bias start at zero, so the network
    starts as the zero map (a coupling built on it starts as the identity). The architecture of
    the UvA deep-learning tutorial on image flows (Lippe, 2022), after Flow++ (Ho et al., 2019).

    Arguments:
        in_channels: input maps.
        hidden: maps inside the network.
        out_channels: output maps.
        blocks: number of gated blocks.
    Shapes:
        x: [B, in_channels, H, W] -> [B, out_channels, H, W]
    """

    def __init__(self, in_channels: int, hidden: int, out_channels: int, blocks: int = 2):
        super().__init__()
        if min(int(in_channels), int(hidden), int(out_channels)) < 1 or int(blocks) < 0:
            raise ValueError(f"GatedConvNet needs positive channel counts and blocks >= 0, got "
                             f"in_channels={in_channels}, hidden={hidden}, out_channels={out_channels}, "
                             f"blocks={blocks}")
        layers: list[nn.Module] = [nn.Conv2d(int(in_channels), int(hidden), 3, padding=1)]
        for _ in range(int(blocks)):
            layers += [GatedConv(int(hidden), int(hidden)), LayerNormChannels(int(hidden))]
        layers += [ConcatELU(), nn.Conv2d(2 * int(hidden), int(out_channels), 3, padding=1)]
        self.net = nn.Sequential(*layers)
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
