"""Latent-variable models on one contract (:class:`Model`, :class:`LatentVariableModel`):
``terms(x, K)``, ``log_weights(x, K)`` [K, B], ``sample(n)`` (draws), ``decode_mean(z)``.

========================  ============================================================
module                    holds
========================  ============================================================
``base``                  the contract and :class:`Terms`
``vae``                   :class:`VAE` (optional posterior flow, any prior, any decoder)
``hierarchical``          :class:`HierarchicalVAE` (two stochastic levels)
``deep_hierarchical``     :class:`DeepHierarchicalVAE` (L layers, bottom-up or top-down inference)
``autoregressive``        :class:`ARDecoder`, p(x|z) = prod_i p(x_i | x_<i, z)
``linear_gaussian``       :class:`LinearGaussian`, the exact oracle
``flow_prior``            :func:`flow_prior_as_posterior_flow` (flow prior = IAF posterior)
========================  ============================================================

Builders by name (``build_vae``, ``from_config``) live in :mod:`dgmlib.builders`.
"""
from .autoregressive import ARDecoder, window_mask
from .base import LatentVariableModel, Model, Terms
from .deep_hierarchical import DeepHierarchicalVAE, LayerTerms, layerwise_elbo, precision_weighted_merge
from .flow_prior import flow_prior_as_posterior_flow
from .hierarchical import HierarchicalVAE
from .linear_gaussian import LinearGaussian
from .vae import VAE

__all__ = ["Model", "LatentVariableModel", "Terms", "VAE", "HierarchicalVAE", "ARDecoder",
           "window_mask", "LinearGaussian", "flow_prior_as_posterior_flow",
           "DeepHierarchicalVAE", "LayerTerms", "layerwise_elbo", "precision_weighted_merge"]
