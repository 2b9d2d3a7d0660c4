"""dgmlib: the tested PyTorch library behind the dgm-book course book.

The public names; see each module for the equations.
"""
__version__ = "0.1.0"

from .config import budget, device, is_quick, seed_everything
from .nets import encoder_stats, eval_mode
from .data import Dataset, batches, load
from .dequantization import (DequantizedFlow, VariationalDequantizer, build_dequantized_flow,
                             build_dequantized_image_flow, dequantize, image_dequantizer, quantize,
                             uniform_dequantization_bound)
from .disentanglement import MIG, dip_covariance, dip_regularizer, dip_vae, mutual_info_gap
from .distributions import (bernoulli_log_prob, diagonal_normal, discretized_logistic_log_prob, gaussian_log_prob,
                            kl_normal, log_mean_exp, log_mean_normal, log_sigmoid_difference)
from .likelihoods import (LIKELIHOODS, BernoulliLikelihood, DiscretizedLogisticLikelihood, GaussianLikelihood,
                          Likelihood)
from .importance import importance_resample
from .metrics import (Surgery, active_units, active_units_per_level, aggregate_posterior_log_prob, bits_per_dim,
                      discrete_log_likelihood, elbo_surgery, log_marginal_likelihood, marginal_kl,
                      independent_pixels, independent_pixels_log_prob, nats_from_bits_per_dim,
                      unit_cube_log_density)
from .models import (VAE, ARDecoder, HierarchicalVAE, LatentVariableModel, LinearGaussian, Model, Terms,
                     flow_prior_as_posterior_flow)
from .builders import REGISTRIES, build, build_vae, from_config
from .objectives import AnnealedELBO, beta_elbo, elbo, free_bits_elbo, iwae_bound, kl_per_group
from .priors import PRIORS, AggregatePosterior, FlowPrior, MixtureOfGaussians, StandardNormal, VampPrior
from .report import format_table, markdown_table, show_table
from .schedules import Constant, Cyclical, LinearWarmup, make_schedule
from .shapes import Shapes, load_shapes
from .checkpoints import load as load_checkpoint, save as save_checkpoint
from .train import History, evaluate, fit
# (the function inference_gaps stays in its module: a top-level name would hide the module dgmlib.inference_gaps)
from .inference_gaps import Gaps, Refinement, refine_posterior
from .mutual_information import barber_agakov, infonce, nwj
from .models import DeepHierarchicalVAE, layerwise_elbo, precision_weighted_merge

__all__ = [
    "__version__", "budget", "device", "is_quick", "seed_everything", "encoder_stats", "eval_mode",
    "ARDecoder",
    "Dataset", "batches", "load",
    "DequantizedFlow", "VariationalDequantizer", "build_dequantized_flow", "build_dequantized_image_flow",
    "image_dequantizer", "dequantize", "quantize",
    "uniform_dequantization_bound",
    "MIG", "dip_covariance", "dip_regularizer", "dip_vae", "mutual_info_gap",
    "LIKELIHOODS", "Likelihood", "BernoulliLikelihood", "DiscretizedLogisticLikelihood", "GaussianLikelihood", "bernoulli_log_prob",
    "diagonal_normal", "discretized_logistic_log_prob", "gaussian_log_prob", "kl_normal", "log_mean_exp",
    "log_mean_normal", "log_sigmoid_difference",
    "importance_resample",
    "Surgery", "active_units", "aggregate_posterior_log_prob", "bits_per_dim", "discrete_log_likelihood", "independent_pixels",
    "independent_pixels_log_prob",
    "elbo_surgery", "log_marginal_likelihood", "nats_from_bits_per_dim", "unit_cube_log_density",
    "Model", "LatentVariableModel", "VAE", "LinearGaussian", "Terms", "flow_prior_as_posterior_flow",
    "REGISTRIES", "build", "build_vae", "from_config",
    "AnnealedELBO", "beta_elbo", "elbo", "free_bits_elbo", "iwae_bound", "kl_per_group",
    "Constant", "Cyclical", "LinearWarmup", "make_schedule",
    "HierarchicalVAE",
    "PRIORS", "AggregatePosterior", "FlowPrior", "MixtureOfGaussians", "StandardNormal", "VampPrior",
    "marginal_kl", "active_units_per_level",
    "format_table", "markdown_table", "show_table",
    "Shapes", "load_shapes",
    "History", "evaluate", "fit", "load_checkpoint", "save_checkpoint",
    "Gaps", "Refinement", "refine_posterior", "barber_agakov", "infonce", "nwj",
    "DeepHierarchicalVAE", "layerwise_elbo", "precision_weighted_merge",
]
