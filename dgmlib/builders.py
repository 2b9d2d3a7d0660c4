"""Everything dgmlib can build by name, in one place, and :func:`from_config`, which checkpoint
loading uses to rebuild any saved model.

``REGISTRIES`` maps a kind to its :class:`~dgmlib.registry.Registry`:

* ``likelihood``: bernoulli, gaussian, discretized_logistic[_<levels>] (:mod:`dgmlib.likelihoods`);
* ``prior``: standard, mog, vampprior, flow (:mod:`dgmlib.priors`);
* ``network``: the architectures mlp, conv (encoder/decoder pairs; ``build_vae(decoder="autoregressive")``
  swaps in an autoregressive decoder);
* ``posterior_flow``: planar, radial, householder, sylvester_orthogonal / _householder / _triangular,
  iaf (amortized layers);
* ``model``: vae, hierarchical_vae, dequantized_flow, dequantized_image_flow, deep_hierarchical_vae,
  semi_supervised_vae, cross_modal_vae.

A model's ``config`` holds its registered ``"model"`` name and the keyword arguments of that
builder, so ``from_config(model.config)`` builds the same architecture (fresh weights).
"""
from __future__ import annotations

from typing import Any, Sequence

from torch import nn

from . import flows
from .dequantization import build_dequantized_flow, build_dequantized_image_flow
from .likelihoods import LIKELIHOODS
from .models import ARDecoder, HierarchicalVAE, Model, VAE
from .models.cross_modal_vae import CrossModalVAE
from .models.deep_hierarchical import DeepHierarchicalVAE
from .models.pixelcnn import PixelCNNDecoder, image_shape
from .models.semi_supervised import SemiSupervisedVAE
from .nets import ConvDecoder28, ConvEncoder28, mlp_decoder, mlp_encoder
from .priors import PRIORS
from .registry import Registry

#: Encoder/decoder pairs by architecture name: factory(x_dim, z_dim, hidden, activation) -> (encoder, decoder).
NETWORKS = Registry("arch")


@NETWORKS.register("mlp")
def _mlp(x_dim: int, z_dim: int, hidden: Sequence[int], activation: str, init: str = "torch",
         **_) -> tuple[nn.Module, nn.Module]:
    return (mlp_encoder(x_dim, hidden, z_dim, activation, init),
            mlp_decoder(z_dim, list(reversed(hidden)), x_dim, activation, init))


@NETWORKS.register("conv")
def _conv(x_dim: int, z_dim: int, **_) -> tuple[nn.Module, nn.Module]:
    if x_dim != 784:
        raise ValueError(f"arch='conv' is for 28x28 images (x_dim=784), got x_dim={x_dim}")
    return ConvEncoder28(z_dim), ConvDecoder28(z_dim)


#: Posterior flow layers by name: factory(z_dim, context_dim, index) -> one amortized layer; Sylvester-
#: triangular and IAF layers alternate the variable order between layers.
POSTERIOR_FLOWS = Registry("posterior flow")
POSTERIOR_FLOWS.register("planar")(lambda z_dim, context_dim, index: flows.PlanarFlow(z_dim, context_dim=context_dim))
POSTERIOR_FLOWS.register("radial")(lambda z_dim, context_dim, index: flows.RadialFlow(z_dim, context_dim=context_dim))
POSTERIOR_FLOWS.register("householder")(
    lambda z_dim, context_dim, index: flows.HouseholderFlow(z_dim, n=1, context_dim=context_dim))
for _kind in ("orthogonal", "householder", "triangular"):
    POSTERIOR_FLOWS.register(f"sylvester_{_kind}")(
        lambda z_dim, context_dim, index, kind=_kind: flows.SylvesterFlow(
            z_dim, kind=kind, permute=(kind == "triangular" and index % 2 == 1), context_dim=context_dim))


@POSTERIOR_FLOWS.register("iaf")
def _iaf(z_dim: int, context_dim: int, index: int) -> nn.Module:
    order = list(range(z_dim)) if index % 2 == 0 else list(reversed(range(z_dim)))
    return flows.IAF(z_dim, hidden=(2 * z_dim * 4,), context_dim=context_dim, order=order)


def posterior_flow(name: str, length: int, z_dim: int, context_dim: int) -> flows.Compose:
    """``length`` amortized layers of the posterior flow ``name`` (one of :data:`POSTERIOR_FLOWS`), composed."""
    factory, _ = POSTERIOR_FLOWS.resolve(name)
    if int(length) < 1:
        raise ValueError(f"a posterior flow needs at least one layer, got length={length}")
    return flows.Compose(*[factory(z_dim, context_dim, i) for i in range(int(length))])


#: Whole models by name; ``config["model"]`` names one of these.
MODELS = Registry("model")


@MODELS.register("vae")
def build_vae(x_dim: int, z_dim: int, hidden: Sequence[int] = (256, 256), arch: str = "mlp",
              activation: str = "relu", likelihood: str = "bernoulli", flow: str | None = None,
              flow_length: int = 4, prior: str = "standard", prior_components: int = 50,
              decoder: str = "factorized", ar_hidden: int = 32, window: int | None = None,
              pixelcnn_layers: int = 3, pixelcnn_channels: int = 32, init: str = "torch") -> VAE:
    """A VAE (by default with a standard normal prior), rebuilt by the same call from its ``config``.

    Arguments:
        x_dim: data size D (64 for 8x8 digits, 784 for MNIST).
        z_dim: latent size d.
        hidden: hidden layer sizes of the encoder (the factorized decoder mirrors them).
        arch: a :data:`NETWORKS` name: "mlp", or "conv" (the small convolutional pair for 28x28 images).
        likelihood: a :data:`~dgmlib.likelihoods.LIKELIHOODS` name.
        flow: None (a diagonal Gaussian posterior) or a :data:`POSTERIOR_FLOWS` name, amortized
            from the encoder's last hidden layer (MLP encoders).
        flow_length: number of flow layers.
        prior: a :data:`~dgmlib.priors.PRIORS` name: "standard", "mog" (mixture of Gaussians),
            "vampprior" (pseudo-inputs in [0, 1], through this encoder) or "flow" (MAF layers).
        prior_components: K of the mixture or the VampPrior.
        decoder: "factorized" (the architecture's decoder), "autoregressive"
            (:class:`~dgmlib.models.ARDecoder` with ``ar_hidden`` units per pixel and ``window``)
            or "pixelcnn" (:class:`~dgmlib.models.pixelcnn.PixelCNNDecoder` on square images, with
            ``pixelcnn_layers`` masked layers of ``pixelcnn_channels`` maps).
        init: the MLP weights' initialization, "torch" or "he" (:func:`dgmlib.nets.mlp`; use
            "he" for tanh networks on 784 pixels).
    Example:
        >>> build_vae(64, 2, hidden=(32,), prior="mog", prior_components=5).config["prior"]
        'mog'
    """
    config = dict(model="vae", x_dim=int(x_dim), z_dim=int(z_dim), hidden=[int(h) for h in hidden], arch=arch,
                  activation=activation, likelihood=likelihood)
    if flow is not None:
        config.update(flow=flow, flow_length=int(flow_length))
    if prior != "standard":
        config.update(prior=prior, prior_components=int(prior_components))
    if init != "torch":
        if arch != "mlp":
            raise ValueError(f"init={init!r} sets the MLP networks' weights; arch={arch!r} has its own")
        config.update(init=init)
    if decoder == "autoregressive":
        config.update(decoder=decoder, ar_hidden=int(ar_hidden), window=window)
    elif decoder == "pixelcnn":
        config.update(decoder=decoder, pixelcnn_layers=int(pixelcnn_layers), pixelcnn_channels=int(pixelcnn_channels))
    enc, dec = NETWORKS.build(arch, x_dim=x_dim, z_dim=z_dim, hidden=hidden, activation=activation, init=init)
    if decoder == "autoregressive":
        if likelihood != "bernoulli":
            raise ValueError("the autoregressive decoder models binary pixels: use likelihood='bernoulli'")
        dec = ARDecoder(x_dim, z_dim, hidden=ar_hidden, window=window)
    elif decoder == "pixelcnn":
        if likelihood != "bernoulli":
            raise ValueError("the PixelCNN decoder models binary pixels: use likelihood='bernoulli'")
        dec = PixelCNNDecoder(image_shape(x_dim), z_dim, channels=pixelcnn_channels, layers=pixelcnn_layers)
    elif decoder != "factorized":
        raise ValueError(f"unknown decoder {decoder!r}; choose 'factorized', 'autoregressive' or 'pixelcnn'")
    p_z = PRIORS.build(prior, z_dim=z_dim, encoder=enc, x_dim=x_dim, components=prior_components)
    if flow is None:
        return VAE(enc, dec, p_z, likelihood, config=config, x_dim=x_dim)
    if arch != "mlp":
        raise ValueError("posterior flows read the MLP encoder's last hidden layer; use arch='mlp'")
    return VAE(enc, dec, p_z, likelihood, config=config, x_dim=x_dim,
               flow=posterior_flow(flow, flow_length, z_dim, enc.feature_dim), amortized_flow=True)


MODELS.register("hierarchical_vae")(HierarchicalVAE)
MODELS.register("dequantized_flow")(build_dequantized_flow)
MODELS.register("dequantized_image_flow")(build_dequantized_image_flow)
MODELS.register("deep_hierarchical_vae")(DeepHierarchicalVAE)
MODELS.register("semi_supervised_vae")(SemiSupervisedVAE)
MODELS.register("cross_modal_vae")(CrossModalVAE)

#: Every registry, by kind.
REGISTRIES: dict[str, Registry] = {"likelihood": LIKELIHOODS, "prior": PRIORS, "network": NETWORKS,
                                   "posterior_flow": POSTERIOR_FLOWS, "model": MODELS}


def build(kind: str, name: str, **kwargs: Any) -> Any:
    """``REGISTRIES[kind].build(name, **kwargs)``, e.g. ``build("prior", "mog", z_dim=2, components=10)``."""
    if kind not in REGISTRIES:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(REGISTRIES)}")
    return REGISTRIES[kind].build(name, **kwargs)


def from_config(config: dict[str, Any]) -> Model | CrossModalVAE:
    """A fresh model of the architecture that ``config`` (a model's ``config``) describes: the
    builder ``MODELS[config["model"]]`` (a config without "model" is a VAE's, as checkpoints of
    dgmlib 0.1 wrote them, or, with "modalities", a CrossModalVAE's from before it was registered)
    called with the other entries."""
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict, got {type(config).__name__}")
    kwargs = dict(config)
    name = kwargs.pop("model", "cross_modal_vae" if "modalities" in kwargs else "vae")
    try:
        return MODELS.build(name, **kwargs)
    except TypeError as err:
        raise ValueError(f"config does not fit the {name!r} builder: {err}") from err
