"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/02_elbo."""

KL = "def kl_standard_normal(mu, logvar):\n    return {}\n"
REPARAM = "def reparameterize(mu, logvar, eps):\n    return {}\n"
ELBO_HEAD = ("def mc_elbo(x, logits, mu, logvar, z):\n"
             "    log_px = -F.binary_cross_entropy_with_logits(logits, x, reduction='none').sum(-1)\n"
             "    log_pz = -0.5 * (math.log(2 * math.pi) + z.pow(2)).sum(-1)\n"
             "    log_qz = -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).pow(2) / logvar.exp()).sum(-1)\n")
LOG_SIGMOID = ("def mc_elbo(x, logits, mu, logvar, z):\n"
               "    p = torch.sigmoid(logits)\n"
               "    log_px = (x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(-1)\n"
               "    log_pz = -0.5 * (math.log(2 * math.pi) + z.pow(2)).sum(-1)\n"
               "    log_qz = -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).pow(2) / logvar.exp()).sum(-1)\n"
               "    return log_px + log_pz - log_qz\n")

WRONG = {
    "A": {"q1": ("KL missing the 1/2", KL.format("(mu.pow(2) + logvar.exp() - logvar - 1.0).sum(-1)")),
          "q2": ("exp(logvar) instead of exp(logvar/2)", REPARAM.format("mu + torch.exp(logvar) * eps")),
          "q3": ("log(sigmoid) is unstable", LOG_SIGMOID)},
    "B": {"q1": ("log-variance used as std", KL.format("0.5 * (mu.pow(2) + logvar.pow(2) - logvar - 1.0).sum(-1)")),
          "q2": ("draws fresh noise instead of eps", REPARAM.format("mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)")),
          "q3": ("missing the prior term", ELBO_HEAD + "    return log_px - log_qz\n")},
    "C": {"q1": ("KL missing the -1", KL.format("0.5 * (mu.pow(2) + logvar.exp() - logvar).sum(-1)")),
          "q2": ("log-variance used as std", REPARAM.format("mu + logvar * eps")),
          "q3": ("sign error on log q", ELBO_HEAD + "    return log_px + log_pz + log_qz\n")},
    "D": {"q1": ("mean over dims instead of sum", KL.format("0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).mean(-1)")),
          "q3": ("sums over the batch", ELBO_HEAD + "    return (log_px + log_pz - log_qz).sum()\n")},
}
BROKEN = {"q1": "def kl_standard_normal(mu, logvar):\n    raise NotImplementedError('todo')\n",
               "q2": REPARAM.format("torch.full_like(mu, float('nan'))"),
               "q3": "raise RuntimeError('cell fails before defining mc_elbo')\n" + ELBO_HEAD + "    return log_px\n"}
