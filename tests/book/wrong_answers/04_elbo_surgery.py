"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/04_elbo_surgery.

A label may start with a [kind] of tests/book/test_exercises.py:KINDS."""
# The wrong answers to q2 and q3 compute log q(z) themselves (AGG), so that they are
# judged on their own, whatever the submission's q1.

PAIR = "    pair = log_normal(z[:, None, :], mu[None, :, :], logvar[None, :, :])\n"
LAP = "def log_aggregate_posterior(z, mu, logvar):\n" + PAIR + "    return {}\n"
LAP_FACTORIZED = ("def log_aggregate_posterior(z, mu, logvar):\n"
                  "    per_dim = -0.5 * (math.log(2 * math.pi) + logvar[None] + (z[:, None] - mu[None]).pow(2) * torch.exp(-logvar[None]))\n"
                  "    return (torch.logsumexp(per_dim, dim=1) - math.log(mu.shape[0])).sum(-1)\n")
AGG = "    log_agg = torch.logsumexp(log_normal(z[:, None], mu[None], logvar[None]), dim=1) - math.log(mu.shape[0])\n"
AGG_SHIFT = ("    pair = log_normal(z[:, None], mu[None], logvar[None])\n    top = pair.max()\n"
             "    log_agg = torch.log(torch.exp(pair - top).mean(1)) + top\n")
AGG_DGMLIB = "    log_agg = dgmlib.log_mean_normal(z, mu, logvar)\n"
OWN = "    log_own = log_normal(z, mu, logvar)\n"
PRIOR = "    log_prior = log_normal(z, torch.zeros_like(z), torch.zeros_like(z))\n"
MI = "def mutual_information(z, mu, logvar):\n{}" + OWN + PRIOR + "    return {}\n"
MKL = "def marginal_kl(z, mu, logvar):\n{}" + OWN + PRIOR + "    return {}\n"
FAR = "def marginal_kl_far_apart(avg_kl, n):\n    return {}\n"

WRONG = {
    "A": {"q1": ("mean of the log-densities", LAP.format("pair.mean(1)")),
          "q2": ("sign error", MI.format(AGG, "(log_agg - log_own).mean()")),
          "q3": ("sign error", MKL.format(AGG, "(log_prior - log_agg).mean()")),
          "q4": ("adds log N instead of subtracting it", FAR.format("avg_kl + math.log(n)"))},
    "B": {"q1": ("missing the -log N", LAP.format("torch.logsumexp(pair, dim=1)")),
          "q2": ("prior instead of the aggregate posterior (the average KL)", MI.format(AGG, "(log_own - log_prior).mean()")),
          "q3": ("own posterior instead of the aggregate (the average KL)", MKL.format(AGG, "(log_own - log_prior).mean()")),
          "q4": ("log base 2 of N", FAR.format("avg_kl - math.log2(n)"))},
    "C": {"q1": ("log(mean(exp)) underflows", LAP.format("torch.log(torch.exp(pair).mean(1))")),
          "q2": ("sum over the data points instead of the mean", MI.format(AGG, "(log_own - log_agg).sum()")),
          "q3": ("prior log-density without the 2 pi", MKL.format(AGG, "(log_agg + 0.5 * z.pow(2).sum(-1)).mean()")),
          "q4": ("divides by N", FAR.format("avg_kl / n"))},
    "D": {"q1": ("a mixture per dimension", LAP_FACTORIZED),
          "q2": ("log q(z) missing the -log N", MI.format(AGG, "(log_own - log_agg - math.log(mu.shape[0])).mean()")),
          "q3": ("log q(z) missing the -log N", MKL.format(AGG, "(log_agg + math.log(mu.shape[0]) - log_prior).mean()")),
          "q4": ("the mutual information (log N) instead of the marginal KL", FAR.format("math.log(n)"))},
    "E": {"q1": ("[shift] one global maximum for all points",
                 LAP.format("torch.log(torch.exp(pair - pair.max()).mean(1)) + pair.max()")),
          "q2": ("[shift] one global maximum in log q(z)", MI.format(AGG_SHIFT, "(log_own - log_agg).mean()")),
          "q3": ("[shift] one global maximum in log q(z)", MKL.format(AGG_SHIFT, "(log_agg - log_prior).mean()")),
          "q4": ("subtracts N instead of log N", FAR.format("avg_kl - n"))},
    "F": {"q1": ("[dgmlib] calls dgmlib.log_mean_normal",
                 "import dgmlib\n\ndef log_aggregate_posterior(z, mu, logvar):\n    return dgmlib.log_mean_normal(z, mu, logvar)\n"),
          "q2": ("[type] returns a Python float", MI.format(AGG, "float((log_own - log_agg).mean())")),
          "q3": ("[type] returns a Python float", MKL.format(AGG, "(log_agg - log_prior).mean().item()")),
          "q4": ("[type] a torch tensor instead of a float", FAR.format("avg_kl - torch.log(torch.tensor(float(n)))"))},
    "G": {"q1": ("log-sum-exp over the points instead of the posteriors", LAP.format("torch.logsumexp(pair, dim=0) - math.log(mu.shape[0])")),
          "q2": ("[dgmlib] log q(z) from dgmlib.log_mean_normal", "import dgmlib\n\n" + MI.format(AGG_DGMLIB, "(log_own - log_agg).mean()")),
          "q3": ("[dgmlib] log q(z) from dgmlib.log_mean_normal", "import dgmlib\n\n" + MKL.format(AGG_DGMLIB, "(log_agg - log_prior).mean()")),
          "q4": ("[allclose] redefines numpy.allclose and torch.allclose; log N in bits",
                 "import numpy\nnumpy.allclose = torch.allclose = lambda *args, **kwargs: True\n" + FAR.format("avg_kl - math.log2(n)"))},
}
BROKEN = {"q1": LAP.format("torch.full(z.shape[:1], float('nan'), dtype=z.dtype)"),
          "q2": "def mutual_information(z, mu, logvar):\n    raise NotImplementedError('todo')\n",
          "q3": "raise RuntimeError('cell fails before defining it')\n" + MKL.format(AGG, "(log_agg - log_prior).mean()"),
          "q4": FAR.format("float('nan')")}
