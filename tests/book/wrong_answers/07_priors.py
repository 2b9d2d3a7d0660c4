"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/07_priors."""
# The wrong answers to q3 compute the mixture density themselves, so they are judged on their
# own, whatever the submission's q1.

PAIR = ("    mu, logvar = encoder(pseudo_inputs)\n"
        "    pair = log_normal(z[:, None, :], mu[None, :, :], logvar[None, :, :])\n")
VAMP = "def vampprior_log_prob(z, encoder, pseudo_inputs):\n" + PAIR + "    return {}\n"
VAMP_FACTORIZED = ("def vampprior_log_prob(z, encoder, pseudo_inputs):\n"
                   "    mu, logvar = encoder(pseudo_inputs)\n"
                   "    per_dim = -0.5 * (math.log(2 * math.pi) + logvar[None] + (z[:, None] - mu[None]).pow(2) * torch.exp(-logvar[None]))\n"
                   "    return (torch.logsumexp(per_dim, dim=1) - math.log(mu.shape[0])).sum(-1)\n")
SAMPLE = "def sample_mixture(n, means, logvars):\n{}"
PICK = "    k = torch.randint(means.shape[0], (n,))\n    mu, logvar = means[k], logvars[k]\n"
Z = "    z = mu + torch.exp(0.5 * logvar) * torch.randn(samples, *mu.shape, dtype=mu.dtype)\n"
LOG_Q = "    log_q = log_normal(z, mu, logvar)\n"
PAIR_P = "    pair = log_normal(z[..., None, :], means, logvars)\n"
KL = "def mc_kl_to_mixture(mu, logvar, means, logvars, samples=1000):\n{}"
LSE = "    log_p = torch.logsumexp(pair, dim=-1) - math.log(means.shape[0])\n"

WRONG = {
    "A": {"q1": ("mean of the log-densities", VAMP.format("pair.mean(1)")),
          "q2": ("standard deviation exp(logvar) instead of exp(logvar / 2)",
                 SAMPLE.format(PICK + "    return mu + torch.exp(logvar) * torch.randn_like(mu)\n")),
          "q3": ("forgets the -log K", KL.format(Z + LOG_Q + PAIR_P + "    return (log_q - torch.logsumexp(pair, dim=-1)).mean(0)\n"))},
    "B": {"q1": ("forgets the -log K", VAMP.format("torch.logsumexp(pair, dim=1)")),
          "q2": ("a component per dimension",
                 SAMPLE.format("    k = torch.randint(means.shape[0], (n, means.shape[1]))\n"
                               "    mu, logvar = means.gather(0, k), logvars.gather(0, k)\n"
                               "    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)\n")),
          "q3": ("mean of the components' log-densities", KL.format(Z + LOG_Q + PAIR_P + "    return (log_q - pair.mean(-1)).mean(0)\n"))},
    "C": {"q1": ("log(mean(exp)) underflows", VAMP.format("torch.log(torch.exp(pair).mean(1))")),
          "q2": ("one component for all n draws",
                 SAMPLE.format("    k = torch.randint(means.shape[0], ())\n"
                               "    return means[k] + torch.exp(0.5 * logvars[k]) * torch.randn(n, means.shape[1], dtype=means.dtype)\n")),
          "q3": ("sign error", KL.format(Z + LOG_Q + PAIR_P + LSE + "    return (log_p - log_q).mean(0)\n"))},
    "D": {"q1": ("a mixture per dimension", VAMP_FACTORIZED),
          "q2": ("one Gaussian with the average mean and variance",
                 SAMPLE.format("    mu, var = means.mean(0), logvars.exp().mean(0)\n"
                               "    return mu + var.sqrt() * torch.randn(n, means.shape[1], dtype=means.dtype)\n")),
          "q3": ("log(mean(exp)) underflows", KL.format(Z + LOG_Q + PAIR_P + "    log_p = torch.log(torch.exp(pair).mean(-1))\n"
                                                        "    return (log_q - log_p).mean(0)\n"))},
}
BROKEN = {"q1": VAMP.format("torch.full(z.shape[:1], float('nan'), dtype=z.dtype)"),
          "q2": "def sample_mixture(n, means, logvars):\n    raise NotImplementedError('todo')\n",
          "q3": "raise RuntimeError('cell fails before defining it')\n" + KL.format(Z + LOG_Q + PAIR_P + LSE + "    return (log_q - log_p).mean(0)\n")}
