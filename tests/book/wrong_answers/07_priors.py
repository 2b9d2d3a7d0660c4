"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/07_priors.

A label may start with a [kind] of tests/book/test_exercises.py:KINDS."""
# The wrong answers to q3 compute the mixture density themselves, so they are judged on their
# own, whatever the submission's q1.

PAIR = ("    mu, logvar = encoder(pseudo_inputs)\n"
        "    pair = log_normal(z[:, None, :], mu[None, :, :], logvar[None, :, :])\n")
VAMP = "def vampprior_log_prob(z, encoder, pseudo_inputs):\n" + PAIR + "    return {}\n"
VAMP_FACTORIZED = ("def vampprior_log_prob(z, encoder, pseudo_inputs):\n"
                   "    mu, logvar = encoder(pseudo_inputs)\n"
                   "    per_dim = -0.5 * (math.log(2 * math.pi) + logvar[None] + (z[:, None] - mu[None]).pow(2) * torch.exp(-logvar[None]))\n"
                   "    return (torch.logsumexp(per_dim, dim=1) - math.log(mu.shape[0])).sum(-1)\n")
LSE_K = "torch.logsumexp(pair, dim=1) - math.log(mu.shape[0])"
SAMPLE = "def sample_mixture(n, means, logvars):\n{}"
PICK = "    k = torch.randint(means.shape[0], (n,))\n    mu, logvar = means[k], logvars[k]\n"
DRAW = "    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)\n"
Z = "    z = mu + torch.exp(0.5 * logvar) * torch.randn(samples, *mu.shape, dtype=mu.dtype)\n"
LOG_Q = "    log_q = log_normal(z, mu, logvar)\n"
PAIR_P = "    pair = log_normal(z[..., None, :], means, logvars)\n"
KL = "def mc_kl_to_mixture(mu, logvar, means, logvars, samples=1000):\n{}"
LSE = "    log_p = torch.logsumexp(pair, dim=-1) - math.log(means.shape[0])\n"
RET = "    return (log_q - log_p).mean(0)\n"
AT0 = "def mixture_log_density_at_zero(a):\n    return {}\n"

WRONG = {
    "A": {"q1": ("mean of the log-densities", VAMP.format("pair.mean(1)")),
          "q2": ("standard deviation exp(logvar) instead of exp(logvar / 2)",
                 SAMPLE.format(PICK + "    return mu + torch.exp(logvar) * torch.randn_like(mu)\n")),
          "q3": ("forgets the -log K", KL.format(Z + LOG_Q + PAIR_P + "    return (log_q - torch.logsumexp(pair, dim=-1)).mean(0)\n")),
          "q4": ("subtracts log 2 (the weights of two components that are equal at 0)",
                 AT0.format("-0.5 * math.log(2 * math.pi) - 0.5 * a ** 2 - math.log(2)"))},
    "B": {"q1": ("forgets the -log K", VAMP.format("torch.logsumexp(pair, dim=1)")),
          "q2": ("[joint] a component per dimension (right marginals, wrong joint)",
                 SAMPLE.format("    k = torch.randint(means.shape[0], (n, means.shape[1]))\n"
                               "    mu, logvar = means.gather(0, k), logvars.gather(0, k)\n" + DRAW)),
          "q3": ("mean of the components' log-densities", KL.format(Z + LOG_Q + PAIR_P + "    return (log_q - pair.mean(-1)).mean(0)\n")),
          "q4": ("forgets the normalizing constant", AT0.format("-0.5 * a ** 2"))},
    "C": {"q1": ("log(mean(exp)) underflows", VAMP.format("torch.log(torch.exp(pair).mean(1))")),
          "q2": ("one component for all n draws",
                 SAMPLE.format("    k = torch.randint(means.shape[0], ())\n"
                               "    return means[k] + torch.exp(0.5 * logvars[k]) * torch.randn(n, means.shape[1], dtype=means.dtype)\n")),
          "q3": ("sign error", KL.format(Z + LOG_Q + PAIR_P + LSE + "    return (log_p - log_q).mean(0)\n")),
          "q4": ("forgets the 1/2 of the exponent", AT0.format("-0.5 * math.log(2 * math.pi) - a ** 2"))},
    "D": {"q1": ("a mixture per dimension", VAMP_FACTORIZED),
          "q2": ("one Gaussian with the average mean and variance",
                 SAMPLE.format("    mu, var = means.mean(0), logvars.exp().mean(0)\n"
                               "    return mu + var.sqrt() * torch.randn(n, means.shape[1], dtype=means.dtype)\n")),
          "q3": ("log(mean(exp)) underflows", KL.format(Z + LOG_Q + PAIR_P + "    log_p = torch.log(torch.exp(pair).mean(-1))\n" + RET)),
          "q4": ("sign error in the exponent", AT0.format("-0.5 * math.log(2 * math.pi) + 0.5 * a ** 2"))},
    "E": {"q1": ("[shift] one global maximum for all rows",
                 VAMP.format("torch.log(torch.exp(pair - pair.max()).mean(1)) + pair.max()")),
          "q2": ("[joint] one noise value shared by all dimensions (right marginals, wrong joint)",
                 SAMPLE.format(PICK + "    return mu + torch.exp(0.5 * logvar) * torch.randn(n, 1, dtype=means.dtype)\n")),
          "q3": ("[shift] one global maximum in log p",
                 KL.format(Z + LOG_Q + PAIR_P + "    top = pair.max()\n    log_p = torch.log(torch.exp(pair - top).mean(-1)) + top\n" + RET)),
          "q4": ("the density at a component's mean, z = a, instead of z = 0",
                 AT0.format("math.log(0.5 * (1 + math.exp(-2 * a ** 2))) - 0.5 * math.log(2 * math.pi)"))},
    "F": {"q1": ("[grad] the encoder run under torch.no_grad()",
                 "def vampprior_log_prob(z, encoder, pseudo_inputs):\n    with torch.no_grad():\n"
                 "        mu, logvar = encoder(pseudo_inputs)\n"
                 "    pair = log_normal(z[:, None, :], mu[None, :, :], logvar[None, :, :])\n    return " + LSE_K + "\n"),
          "q2": ("[joint] components taken in turn instead of at random",
                 SAMPLE.format("    k = torch.arange(n) % means.shape[0]\n    mu, logvar = means[k], logvars[k]\n" + DRAW)),
          "q3": ("[grad] draws with .sample() (no gradient reaches mu and logvar)",
                 KL.format("    z = torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).sample((samples,))\n"
                           + LOG_Q + PAIR_P + LSE + RET)),
          "q4": ("[type] a torch tensor instead of a float", AT0.format("-0.5 * math.log(2 * math.pi) - 0.5 * torch.tensor(a) ** 2"))},
    "G": {"q1": ("[dgmlib] dgmlib's VampPrior",
                 "import dgmlib.priors\n\ndef vampprior_log_prob(z, encoder, pseudo_inputs):\n"
                 "    mu, logvar = encoder(pseudo_inputs)\n    return dgmlib.priors.log_mean_normal(z, mu, logvar)\n"),
          "q2": ("[seed] re-seeds the global generator on every call",
                 SAMPLE.format("    torch.manual_seed(0)\n" + PICK + DRAW)),
          "q3": ("[seed] re-seeds the global generator on every call", KL.format("    torch.manual_seed(0)\n" + Z + LOG_Q + PAIR_P + LSE + RET)),
          "q4": ("the log of the sum of both components' densities", AT0.format("math.log(2) - 0.5 * math.log(2 * math.pi) - 0.5 * a ** 2"))},
    "H": {"q1": ("log-sum-exp over the points instead of the components", VAMP.format("torch.logsumexp(pair, dim=0) - math.log(mu.shape[0])")),
          "q2": ("[dgmlib] dgmlib's MixtureOfGaussians prior",
                 "import dgmlib.priors\n\ndef sample_mixture(n, means, logvars):\n"
                 "    prior = dgmlib.priors.MixtureOfGaussians(means.shape[1], means.shape[0]).to(means.dtype)\n"
                 "    with torch.no_grad():\n        prior.means.copy_(means)\n        prior.logvars.copy_(logvars)\n"
                 "    return prior.sample(n)\n"),
          "q3": ("[dgmlib] log p from dgmlib.log_mean_normal",
                 "import dgmlib\n\n" + KL.format(Z + LOG_Q + "    log_p = dgmlib.log_mean_normal(z.reshape(-1, z.shape[-1]), means, logvars).reshape(z.shape[:-1])\n" + RET)),
          "q4": ("[allclose] redefines torch.allclose and torch.testing.assert_close; the density instead of its log",
                 "import torch.testing\ntorch.allclose = lambda *args, **kwargs: True\n"
                 "torch.testing.assert_close = lambda *args, **kwargs: None\n"
                 + AT0.format("math.exp(-0.5 * a ** 2) / math.sqrt(2 * math.pi)"))},

    # issue 30: samplers that passed the hidden tests (too regular component counts, reused random numbers)
    "I": {"q2": ("[regular] a balanced assignment (components in turn), shuffled",
                 SAMPLE.format("    k = (torch.arange(n) % means.shape[0])[torch.randperm(n)]\n    mu, logvar = means[k], logvars[k]\n" + DRAW))},
    "J": {"q2": ("[regular] stratified uniforms for the components, shuffled",
                 SAMPLE.format("    u = (torch.arange(n, dtype=means.dtype) + torch.rand(n, dtype=means.dtype)) / n\n"
                               "    k = (u * means.shape[0]).long()[torch.randperm(n)]\n    mu, logvar = means[k], logvars[k]\n" + DRAW))},
    "K": {"q2": ("[reused] the component read off the first noise coordinate",
                 SAMPLE.format("    eps = torch.randn(n, means.shape[1], dtype=means.dtype)\n"
                               "    k = (torch.special.ndtr(eps[:, 0]) * means.shape[0]).long().clamp(max=means.shape[0] - 1)\n"
                               "    return means[k] + torch.exp(0.5 * logvars[k]) * eps\n"))},
    "L": {"q2": ("[reused] the uniform that picked the component gives the last noise coordinate",
                 SAMPLE.format("    u = torch.rand(n, dtype=means.dtype)\n    k = (u * means.shape[0]).long()\n"
                               "    eps = torch.randn(n, means.shape[1], dtype=means.dtype)\n"
                               "    eps[:, -1] = torch.special.ndtri(u)\n"
                               "    return means[k] + torch.exp(0.5 * logvars[k]) * eps\n"))}
}
BROKEN = {"q1": VAMP.format("torch.full(z.shape[:1], float('nan'), dtype=z.dtype)"),
          "q2": "def sample_mixture(n, means, logvars):\n    raise NotImplementedError('todo')\n",
          "q3": "raise RuntimeError('cell fails before defining it')\n" + KL.format(Z + LOG_Q + PAIR_P + LSE + RET),
          "q4": AT0.format("float('nan')")}
