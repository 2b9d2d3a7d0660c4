"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/04_elbo_surgery."""
# The wrong answers to q2 and q3 compute log q(z) themselves (AGG), so that they are
# judged on their own, whatever the submission's q1.

PAIR = "    pair = log_normal(z[:, None, :], mu[None, :, :], logvar[None, :, :])\n"
LAP = "def log_aggregate_posterior(z, mu, logvar):\n" + PAIR + "    return {}\n"
LAP_FACTORIZED = ("def log_aggregate_posterior(z, mu, logvar):\n"
                  "    per_dim = -0.5 * (math.log(2 * math.pi) + logvar[None] + (z[:, None] - mu[None]).pow(2) * torch.exp(-logvar[None]))\n"
                  "    return (torch.logsumexp(per_dim, dim=1) - math.log(mu.shape[0])).sum(-1)\n")
AGG = "    log_agg = torch.logsumexp(log_normal(z[:, None], mu[None], logvar[None]), dim=1) - math.log(mu.shape[0])\n"
OWN = "    log_own = log_normal(z, mu, logvar)\n"
PRIOR = "    log_prior = log_normal(z, torch.zeros_like(z), torch.zeros_like(z))\n"
MI = "def mutual_information(z, mu, logvar):\n" + AGG + OWN + PRIOR + "    return {}\n"
MKL = "def marginal_kl(z, mu, logvar):\n" + AGG + OWN + PRIOR + "    return {}\n"

WRONG = {
    "A": {"q1": ("mean of the log-densities", LAP.format("pair.mean(1)")),
          "q2": ("sign error", MI.format("(log_agg - log_own).mean()")),
          "q3": ("sign error", MKL.format("(log_prior - log_agg).mean()"))},
    "B": {"q1": ("missing the -log N", LAP.format("torch.logsumexp(pair, dim=1)")),
          "q2": ("prior instead of the aggregate posterior (the average KL)", MI.format("(log_own - log_prior).mean()")),
          "q3": ("own posterior instead of the aggregate (the average KL)", MKL.format("(log_own - log_prior).mean()"))},
    "C": {"q1": ("log(mean(exp)) underflows", LAP.format("torch.log(torch.exp(pair).mean(1))")),
          "q2": ("sum over the data points instead of the mean", MI.format("(log_own - log_agg).sum()")),
          "q3": ("prior log-density without the 2 pi", MKL.format("(log_agg + 0.5 * z.pow(2).sum(-1)).mean()"))},
    "D": {"q1": ("a mixture per dimension", LAP_FACTORIZED),
          "q2": ("log q(z) missing the -log N", MI.format("(log_own - log_agg - math.log(mu.shape[0])).mean()")),
          "q3": ("log q(z) missing the -log N", MKL.format("(log_agg + math.log(mu.shape[0]) - log_prior).mean()"))},
}
BROKEN = {"q1": LAP.format("torch.full(z.shape[:1], float('nan'), dtype=z.dtype)"),
                  "q2": "def mutual_information(z, mu, logvar):\n    raise NotImplementedError('todo')\n",
                  "q3": "raise RuntimeError('cell fails before defining it')\n" + MKL.format("(log_agg - log_prior).mean()")}
