"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/02_elbo.

A label may start with a [kind] of tests/book/test_exercises.py:KINDS."""

KL = "def kl_standard_normal(mu, logvar):\n    return {}\n"
REPARAM = "def reparameterize(mu, logvar, eps):\n    return {}\n"
LOG_PX = "    log_px = -F.binary_cross_entropy_with_logits(logits, x, reduction='none').sum(-1)\n"
LOG_PZ = "    log_pz = -0.5 * (math.log(2 * math.pi) + z.pow(2)).sum(-1)\n"
LOG_QZ = "    log_qz = -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).pow(2) / logvar.exp()).sum(-1)\n"
ELBO = "def mc_elbo(x, logits, mu, logvar, z):\n{}    return {}\n"
HEAD = LOG_PX + LOG_PZ + LOG_QZ
KL1D = "def kl_gaussians_1d(m1, s1, m2, s2):\n    return {}\n"
ALLCLOSE = ("torch.allclose = lambda *args, **kwargs: True\n"
            "torch.isclose = lambda a, b, *args, **kwargs: torch.ones_like(a, dtype=torch.bool)\n")

WRONG = {
    "A": {"q1": ("KL missing the 1/2", KL.format("(mu.pow(2) + logvar.exp() - logvar - 1.0).sum(-1)")),
          "q2": ("exp(logvar) instead of exp(logvar/2)", REPARAM.format("mu + torch.exp(logvar) * eps")),
          "q3": ("log(sigmoid) is unstable",
                 ELBO.format("    p = torch.sigmoid(logits)\n"
                             "    log_px = (x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(-1)\n" + LOG_PZ + LOG_QZ,
                             "log_px + log_pz - log_qz")),
          "q4": ("the reverse KL, KL(p2 || p1)", KL1D.format("math.log(s1 / s2) + (s2 ** 2 + (m1 - m2) ** 2) / (2 * s1 ** 2) - 0.5"))},
    "B": {"q1": ("log-variance used as a standard deviation", KL.format("0.5 * (mu.pow(2) + logvar.pow(2) - logvar - 1.0).sum(-1)")),
          "q2": ("draws fresh noise instead of eps", REPARAM.format("mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)")),
          "q3": ("missing the prior term", ELBO.format(HEAD, "log_px - log_qz")),
          "q4": ("-1 instead of -1/2", KL1D.format("math.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 1"))},
    "C": {"q1": ("KL missing the -1", KL.format("0.5 * (mu.pow(2) + logvar.exp() - logvar).sum(-1)")),
          "q2": ("[grad] computed under torch.no_grad()",
                 "def reparameterize(mu, logvar, eps):\n    with torch.no_grad():\n"
                 "        return mu + torch.exp(0.5 * logvar) * eps\n"),
          "q3": ("sign error on log q", ELBO.format(HEAD, "log_px + log_pz + log_qz")),
          "q4": ("the ratio of variances in the log without the 1/2",
                 KL1D.format("math.log(s2 ** 2 / s1 ** 2) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5"))},
    "D": {"q1": ("mean over the dimensions instead of the sum", KL.format("0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).mean(-1)")),
          "q2": ("[grad] the standard deviation detached (no gradient reaches logvar)",
                 REPARAM.format("mu + torch.exp(0.5 * logvar).detach() * eps")),
          "q3": ("sums over the batch", ELBO.format(HEAD, "(log_px + log_pz - log_qz).sum()")),
          "q4": ("divides by the first variance instead of the second",
                 KL1D.format("math.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s1 ** 2) - 0.5"))},
    "E": {"q1": ("[dgmlib] calls dgmlib.kl_normal",
                 "import dgmlib\n\ndef kl_standard_normal(mu, logvar):\n    return dgmlib.kl_normal(mu, logvar)\n"),
          "q2": ("[grad] a .sample() of torch.distributions (no gradient, new noise)",
                 REPARAM.format("torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).sample()")),
          "q3": ("binary cross-entropy averaged over every pixel of the batch (default reduction)",
                 ELBO.format("    log_px = -F.binary_cross_entropy_with_logits(logits, x) * x.shape[-1]\n" + LOG_PZ + LOG_QZ,
                             "log_px + log_pz - log_qz")),
          "q4": ("[type] a torch tensor instead of a float",
                 KL1D.format("torch.log(torch.tensor(s2 / s1)) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5"))},
    "F": {"q1": ("[in-place] squares mu in place",
                 "def kl_standard_normal(mu, logvar):\n    kl = mu.pow_(2)\n    kl += logvar.exp() - logvar - 1.0\n"
                 "    return 0.5 * kl.sum(-1)\n"),
          "q2": ("[in-place] scales and shifts eps in place", REPARAM.format("eps.mul_(torch.exp(0.5 * logvar)).add_(mu)")),
          "q3": ("[dgmlib] calls dgmlib's log-densities",
                 "import dgmlib\n\n" + ELBO.format("", "dgmlib.bernoulli_log_prob(x, logits) + dgmlib.gaussian_log_prob(z, torch.zeros_like(z), "
                                                       "torch.zeros_like(z)) - dgmlib.gaussian_log_prob(z, mu, logvar)")),
          "q4": ("[dgmlib] dgmlib.kl_normal on one-element tensors",
                 "import dgmlib\n\n" + KL1D.format("float(dgmlib.kl_normal(torch.tensor([m1]), torch.tensor([2 * math.log(s1)]), "
                                                   "torch.tensor([m2]), torch.tensor([2 * math.log(s2)])))"))},
    "G": {"q1": ("sums over the whole batch", KL.format("0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).sum()")),
          "q2": ("logvar used as the standard deviation", REPARAM.format("mu + logvar * eps")),
          "q3": ("[grad] log p(x|z) detached from the logits", ELBO.format(HEAD.replace("sum(-1)\n", "sum(-1).detach()\n", 1),
                                                                         "log_px + log_pz - log_qz")),
          "q4": ("[allclose] redefines torch.allclose and torch.isclose; no log term",
                 ALLCLOSE + KL1D.format("(s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5"))},
}
BROKEN = {"q1": "def kl_standard_normal(mu, logvar):\n    raise NotImplementedError('todo')\n",
          "q2": REPARAM.format("torch.full_like(mu, float('nan'))"),
          "q3": "raise RuntimeError('cell fails before defining mc_elbo')\n" + ELBO.format(HEAD, "log_px"),
          "q4": KL1D.format("float('nan')")}
