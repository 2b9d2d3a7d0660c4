r"""Autoregressive decoders :math:`p_\theta(x \mid z) = \prod_{i=1}^D p_\theta(x_i \mid x_{<i}, z)`.

A decoder of this kind can model the correlations between pixels by itself, which makes the
VAE's likelihood more expressive and, when it can model the data alone, lets the ELBO be
maximized with :math:`q(z \mid x) = p(z)` (posterior collapse; Bowman et al., 2016; Chen et al., 2017).

:class:`ARDecoder` plugs into :class:`dgmlib.models.VAE` through its ``autoregressive`` attribute:
``decoder(z, x)`` gives all D conditionals at once by teacher forcing, ``decoder.sample(z)`` draws
x pixel by pixel. Its ``window`` (how many previous pixels each pixel sees) and ``input_dropout``
(Bowman et al.'s word dropout on the pixels it conditions on) weaken it.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ..distributions import bernoulli_log_prob
from ..flows.made import MaskedLinear
from ..nets import ACTIVATIONS


def raster_sample(logits, z: Tensor, x_dim: int, return_log_prob: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    r"""Ancestral sampling of binary pixels in raster order: ``logits(z, x_in)`` gives the logits of
    every conditional from the pixels drawn so far (``x_in`` in {-1, 1}, 0 = not yet drawn);
    pixel i is drawn from its conditional, then written into ``x_in`` (D passes).

    Shapes:
        z: [..., d] -> x [..., D] (0/1), with ``return_log_prob`` also
        :math:`\sum_i \log p(x_i \mid x_{<i}, z)` [...]
    """
    x_in = z.new_zeros(*z.shape[:-1], x_dim)
    log_prob = z.new_zeros(z.shape[:-1])
    for i in range(x_dim):
        logit = logits(z, x_in)[..., i]
        xi = torch.bernoulli(torch.sigmoid(logit))
        log_prob = log_prob + bernoulli_log_prob(xi[..., None], logit[..., None])
        x_in[..., i] = 2 * xi - 1
    x = (x_in + 1) / 2
    return (x, log_prob) if return_log_prob else x


def window_mask(dim: int, hidden: int, window: int | None = None) -> Tensor:
    r"""0/1 mask [dim * hidden, dim] of the first layer: the ``hidden`` units of pixel i (rows
    ``i*hidden .. (i+1)*hidden - 1``) see input pixel j exactly when :math:`i - w \le j < i`
    (``window`` w; None: every previous pixel, :math:`j < i`).

    Example:
        >>> window_mask(3, 1, window=1)
        tensor([[0., 0., 0.],
                [1., 0., 0.],
                [0., 1., 0.]])
    """
    if dim < 1 or hidden < 1:
        raise ValueError(f"dim and hidden must be positive, got dim={dim}, hidden={hidden}")
    if window is not None and window < 0:
        raise ValueError(f"window must be >= 0 previous pixels (or None for all), got {window}")
    i = torch.arange(dim)[:, None]
    j = torch.arange(dim)[None, :]
    mask = j < i
    if window is not None:
        mask = mask & (j >= i - window)
    return mask.to(torch.get_default_dtype()).repeat_interleave(hidden, dim=0)


class ARDecoder(nn.Module):
    r"""Autoregressive Bernoulli decoder: every pixel has its own small MLP that reads the latent
    code and the previous pixels of the raster order,

    .. math:: h_i = \mathrm{act}\big(A_i\, \tilde x_{[i-w,\, i)} + B_i z + c_i\big) \in \mathbb R^H, \qquad
              \mathrm{logit}_i = v_i^\top h_i + u_i^\top z + b_i, \qquad
              p(x \mid z) = \prod_{i=1}^D \mathrm{Bernoulli}\big(x_i;\ \sigma(\mathrm{logit}_i)\big),

    with :math:`\tilde x = 2x - 1 \in \{-1, 1\}` (0 marks a dropped input). Output i depends on
    :math:`x_j` only for :math:`i - w \le j < i`: the autoregressive property (MADE masks with one
    hidden layer; Germain et al., 2015), with a receptive field of w pixels (PixelVAE's small
    receptive field; Gulrajani et al., 2017). ``window=0`` gives a factorized decoder.

    Arguments:
        x_dim: number of pixels D.
        z_dim: size of z (0: an autoregressive model without a latent code).
        hidden: units H per pixel.
        window: previous pixels each pixel sees (None: all of them).
        input_dropout: in training mode, each conditioning pixel is replaced by 0 ("unknown")
            with this probability (word dropout; Bowman et al., 2016).
        activation: "relu" | "tanh" | "elu" | "gelu".
    Shapes:
        forward: z [..., B, d] (e.g. [K, B, d]), x [B, D] -> logits [..., B, D]
        sample: z [..., d] -> x [..., D] (0/1), with ``return_log_prob`` also log p(x|z) [...]
    Example:
        >>> from dgmlib import VAE, StandardNormal
        >>> from dgmlib.nets import mlp_encoder
        >>> vae = VAE(mlp_encoder(64, (128,), 8), ARDecoder(64, 8), StandardNormal(8))
        >>> vae.log_weights(torch.zeros(3, 64), K=5).shape
        torch.Size([5, 3])
    """

    autoregressive = True

    def __init__(self, x_dim: int, z_dim: int, hidden: int = 32, window: int | None = None,
                 input_dropout: float = 0.0, activation: str = "relu"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
        if not 0.0 <= input_dropout < 1.0:
            raise ValueError(f"input_dropout must be in [0, 1), got {input_dropout}")
        if z_dim < 0:
            raise ValueError(f"z_dim must be >= 0, got {z_dim}")
        self.x_dim, self.z_dim, self.hidden = int(x_dim), int(z_dim), int(hidden)
        self.window, self.input_dropout = window, float(input_dropout)
        self.x_in = MaskedLinear(window_mask(self.x_dim, self.hidden, window))
        self.z_in = nn.Linear(self.z_dim, self.x_dim * self.hidden, bias=False) if self.z_dim else None
        self.z_out = nn.Linear(self.z_dim, self.x_dim, bias=False) if self.z_dim else None
        self.v = nn.Parameter(torch.randn(self.x_dim, self.hidden) / self.hidden ** 0.5)
        self.b = nn.Parameter(torch.zeros(self.x_dim))
        self.act = ACTIVATIONS[activation]()

    def _check(self, z: Tensor, x: Tensor | None = None) -> None:
        if z.shape[-1] != self.z_dim:
            raise ValueError(f"z has {z.shape[-1]} dimensions, the decoder expects z_dim={self.z_dim}")
        if x is not None and x.shape[-1] != self.x_dim:
            raise ValueError(f"x has {x.shape[-1]} pixels, the decoder expects x_dim={self.x_dim}")

    def _logits(self, z: Tensor, x_in: Tensor) -> Tensor:
        h = self.x_in(x_in)                                         # [B, D*H]
        if self.z_in is not None:
            h = h + self.z_in(z)                                    # [..., B, D*H]
        h = self.act(h).reshape(*h.shape[:-1], self.x_dim, self.hidden)
        logits = (h * self.v).sum(-1) + self.b                      # [..., B, D]
        if self.z_out is not None:
            logits = logits + self.z_out(z)
        return logits

    def forward(self, z: Tensor, x: Tensor) -> Tensor:
        """Bernoulli logits of every :math:`p(x_i | x_{<i}, z)` at once (teacher forcing)."""
        self._check(z, x)
        x_in = 2 * x - 1
        if self.training and self.input_dropout > 0:
            keep = torch.rand_like(x_in) >= self.input_dropout
            x_in = x_in * keep
        return self._logits(z, x_in)

    @torch.no_grad()
    def sample(self, z: Tensor, return_log_prob: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        r"""Draw :math:`x_i \sim p(x_i \mid x_{<i}, z)` for i = 1..D in turn (D passes).

        With ``return_log_prob`` also returns :math:`\sum_i \log p(x_i \mid x_{<i}, z)`, summed
        from the conditionals used while sampling (equal to ``bernoulli_log_prob(x, self(z, x))``
        in eval mode).
        """
        self._check(z)
        return raster_sample(self._logits, z, self.x_dim, return_log_prob)
