"""Latent-variable models on one contract (:class:`~dgmlib.models.base.Model`,
:class:`~dgmlib.models.base.LatentVariableModel`): ``terms(x, K)``, ``log_weights(x, K)`` [K, B],
``sample(n)`` (draws), ``decode_mean(z)``. The modules:

* ``base``: the contract and :class:`~dgmlib.models.base.Terms`;
* ``vae``: :class:`~dgmlib.models.vae.VAE` (optional posterior flow, any prior, any decoder);
* ``hierarchical``: :class:`~dgmlib.models.hierarchical.HierarchicalVAE` (two stochastic levels);
* ``deep_hierarchical``: :class:`~dgmlib.models.deep_hierarchical.DeepHierarchicalVAE` (L layers,
  bottom-up or top-down inference);
* ``autoregressive``: :class:`~dgmlib.models.autoregressive.ARDecoder`,
  :math:`p(x|z) = \\prod_i p(x_i | x_{<i}, z)`;
* ``pixelcnn``: :class:`~dgmlib.models.pixelcnn.PixelCNNDecoder`, masked convolutions on 28x28
  images conditioned on z (PixelVAE);
* ``linear_gaussian``: :class:`~dgmlib.models.linear_gaussian.LinearGaussian`, the exact oracle;
* ``semi_supervised``: :class:`~dgmlib.models.semi_supervised.SemiSupervisedVAE` (M2: a label y
  beside z; labelled and unlabelled bounds, y summed out exactly);
* ``cross_modal_vae``: :class:`~dgmlib.models.cross_modal_vae.CrossModalVAE` (one latent space,
  an encoder and a decoder per modality, trained on alternating cross-modal bounds);
* ``flow_prior``: :func:`~dgmlib.models.flow_prior.flow_prior_as_posterior_flow` (flow prior = IAF posterior).

Builders by name (``build_vae``, ``from_config``) live in :mod:`dgmlib.builders`.
"""
from .autoregressive import ARDecoder, window_mask
from .base import LatentVariableModel, Model, Terms
from .cross_modal_vae import CrossModalVAE, fit_cross_modal, fit_direct, prediction_error
from .deep_hierarchical import DeepHierarchicalVAE, LayerTerms, layerwise_elbo, precision_weighted_merge
from .flow_prior import flow_prior_as_posterior_flow
from .hierarchical import HierarchicalVAE
from .linear_gaussian import LinearGaussian
from .pixelcnn import MaskedConv2d, PixelCNNDecoder
from .semi_supervised import SemiSupervisedVAE, marginalize_labels
from .vae import VAE

__all__ = ["Model", "LatentVariableModel", "Terms", "VAE", "HierarchicalVAE", "ARDecoder",
           "window_mask", "LinearGaussian", "flow_prior_as_posterior_flow",
           "DeepHierarchicalVAE", "LayerTerms", "layerwise_elbo", "precision_weighted_merge",
           "SemiSupervisedVAE", "marginalize_labels", "CrossModalVAE", "fit_cross_modal", "fit_direct",
           "prediction_error", "PixelCNNDecoder", "MaskedConv2d"]
