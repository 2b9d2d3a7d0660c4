"""dgmlib: the tested PyTorch library behind the dgm-book course book.

The public names; see each module for the equations.
"""
__version__ = "0.1.0"

from .config import budget, device, is_quick, seed_everything
from .data import Dataset, batches, load
from .distributions import (BernoulliLikelihood, GaussianLikelihood, bernoulli_log_prob,
                            diagonal_normal, gaussian_log_prob, kl_normal, log_mean_exp,
                            log_mean_normal)
from .importance import importance_resample
from .metrics import (Surgery, active_units, aggregate_posterior_log_prob, elbo_surgery,
                      log_marginal_likelihood)
from .models import VAE, LinearGaussian, Terms, build_vae
from .objectives import beta_elbo, elbo, iwae_bound
from .priors import AggregatePosterior, StandardNormal
from .report import format_table, show_table
from .train import History, evaluate, fit, load as load_checkpoint, save as save_checkpoint

__all__ = [
    "__version__", "budget", "device", "is_quick", "seed_everything",
    "Dataset", "batches", "load",
    "BernoulliLikelihood", "GaussianLikelihood", "bernoulli_log_prob", "diagonal_normal",
    "gaussian_log_prob", "kl_normal", "log_mean_exp", "log_mean_normal",
    "importance_resample",
    "Surgery", "active_units", "aggregate_posterior_log_prob", "elbo_surgery", "log_marginal_likelihood",
    "VAE", "LinearGaussian", "Terms", "build_vae",
    "beta_elbo", "elbo", "iwae_bound",
    "AggregatePosterior", "StandardNormal",
    "format_table", "show_table",
    "History", "evaluate", "fit", "load_checkpoint", "save_checkpoint",
]
