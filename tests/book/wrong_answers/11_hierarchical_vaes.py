"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/11_hierarchical_vaes.

A label may start with a [kind] of tests/book/test_exercises.py:KINDS."""

MERGE = "def merge(mu_a, logvar_a, mu_b, logvar_b):\n{}"
LOGVAR = "    logvar = -torch.logaddexp(-logvar_a, -logvar_b)\n"
SHARE = "    share_a = torch.sigmoid(logvar_b - logvar_a)\n"
KL = ("def kl_per_layer(q_params, p_params):\n"
      "    rows = []\n"
      "    for (mu_q, lv_q), (mu_p, lv_p) in zip(q_params, p_params):\n"
      "        rows.append({})\n"
      "    return torch.stack(rows{})\n")
RIGHT_KL = "0.5 * (lv_p - lv_q + (lv_q.exp() + (mu_q - mu_p) ** 2) / lv_p.exp() - 1).sum(-1)"
SAMPLE = ("def sample_top_down(n, conditionals, top_dim):\n"
          "    z = torch.{}(n, top_dim, dtype=torch.float64)\n"
          "    top, layers = z, [z]\n"
          "    for conditional in {}(conditionals):\n"
          "        mu, logvar = conditional({})\n"
          "        z = {}\n"
          "        layers.append(z)\n"
          "    return layers{}\n")
DRAW = "mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)"

WRONG = {
    "A": {"q1": ("variances add instead of precisions",
                 MERGE.format("    logvar = torch.logaddexp(logvar_a, logvar_b)\n" + SHARE
                              + "    return share_a * mu_a + (1 - share_a) * mu_b, logvar\n")),
          "q2": ("KL(p || q), the reverse direction",
                 KL.format("0.5 * (lv_q - lv_p + (lv_p.exp() + (mu_q - mu_p) ** 2) / lv_q.exp() - 1).sum(-1)", "")),
          "q3": ("returns the layers top first", SAMPLE.format("randn", "reversed", "z", DRAW, "")),
          "q4": ("forgets one layer: x ~ N(0, 2)", "q4_answer = -0.5 * math.log(2 * math.pi * 2) - 9 / 4\n")},
    "B": {"q1": ("means weighted by the variances, not the precisions",
                 MERGE.format(LOGVAR + "    share_a = torch.sigmoid(logvar_a - logvar_b)\n"
                              + "    return share_a * mu_a + (1 - share_a) * mu_b, logvar\n")),
          "q2": ("averages over the dimensions instead of summing",
                 KL.format("0.5 * (lv_p - lv_q + (lv_q.exp() + (mu_q - mu_p) ** 2) / lv_p.exp() - 1).mean(-1)", "")),
          "q3": ("every layer conditioned on the top layer", SAMPLE.format("randn", "reversed", "top", DRAW, "[::-1]")),
          "q4": ("x ~ N(0, 1): the layers ignored", "q4_answer = -0.5 * math.log(2 * math.pi) - 9 / 2\n")},
    "C": {"q1": ("naive precisions exp(-logvar): overflow in float32",
                 MERGE.format("    prec = torch.exp(-logvar_a) + torch.exp(-logvar_b)\n"
                              "    mu = (mu_a * torch.exp(-logvar_a) + mu_b * torch.exp(-logvar_b)) / prec\n"
                              "    return mu, -torch.log(prec)\n")),
          "q2": ("forgets the -1", KL.format("0.5 * (lv_p - lv_q + (lv_q.exp() + (mu_q - mu_p) ** 2) / lv_p.exp()).sum(-1)", "")),
          "q3": ("standard deviation exp(logvar) instead of exp(logvar / 2)",
                 SAMPLE.format("randn", "reversed", "z", "mu + torch.exp(logvar) * torch.randn_like(mu)", "[::-1]")),
          "q4": ("forgets the 2 pi", "q4_answer = -0.5 * math.log(3) - 9 / 6\n")},
    "D": {"q1": ("plain average of the means",
                 MERGE.format(LOGVAR + "    return (mu_a + mu_b) / 2, logvar\n")),
          "q2": ("standard deviations instead of variances in the ratio",
                 KL.format("0.5 * (lv_p - lv_q + ((0.5 * lv_q).exp() + (mu_q - mu_p) ** 2) / (0.5 * lv_p).exp() - 1).sum(-1)", "")),
          "q3": ("the means without noise below the top", SAMPLE.format("randn", "reversed", "z", "mu", "[::-1]")),
          "q4": ("forgets the normalizer", "q4_answer = -9 / 6\n")},
    "E": {"q1": ("the unnormalized natural parameter as the mean",
                 MERGE.format(LOGVAR + "    return mu_a * torch.exp(-logvar_a) + mu_b * torch.exp(-logvar_b), logvar\n")),
          "q2": ("stacked as [B, L]", KL.format(RIGHT_KL, ", dim=1")),
          "q3": ("the conditionals in bottom-up order", SAMPLE.format("randn", "list", "z", DRAW, "[::-1]")),
          "q4": ("standard deviations add: x ~ N(0, 9)", "q4_answer = -0.5 * math.log(2 * math.pi * 9) - 9 / 18\n")},
    "F": {"q1": ("log-variances averaged", MERGE.format(SHARE + "    return share_a * mu_a + (1 - share_a) * mu_b, (logvar_a + logvar_b) / 2\n")),
          "q2": ("forgets the 1/2", KL.format("(lv_p - lv_q + (lv_q.exp() + (mu_q - mu_p) ** 2) / lv_p.exp() - 1).sum(-1)", "")),
          "q3": ("a uniform top layer", SAMPLE.format("rand", "reversed", "z", DRAW, "[::-1]")),
          "q4": ("bits instead of nats", "q4_answer = (-0.5 * math.log(2 * math.pi * 3) - 9 / 6) / math.log(2)\n")},
    "G": {"q1": ("[dgmlib] calls dgmlib.models.precision_weighted_merge",
                 "import dgmlib.models\n\n" + MERGE.format("    return dgmlib.models.precision_weighted_merge(mu_a, logvar_a, mu_b, logvar_b)\n")),
          "q2": ("[dgmlib] calls dgmlib.kl_normal", "import dgmlib\n\n" + KL.format("dgmlib.kl_normal(mu_q, lv_q, mu_p, lv_p)", "")),
          "q3": ("[seed] re-seeds the global generator on every call",
                 SAMPLE.format("randn", "reversed", "z", DRAW, "[::-1]").replace("    z = torch.randn", "    torch.manual_seed(0)\n    z = torch.randn", 1)),
          "q4": ("[type] a torch tensor instead of a float",
                 "q4_answer = torch.distributions.Normal(0.0, math.sqrt(3.0)).log_prob(torch.tensor(3.0, dtype=torch.float64))\n")},
    "H": {"q1": ("[in-place] negates the log-variances in place to get the log-precisions",
                 MERGE.format("    prec_a, prec_b = logvar_a.neg_(), logvar_b.neg_()\n    logvar = -torch.logaddexp(prec_a, prec_b)\n"
                              "    share_a = torch.sigmoid(prec_a - prec_b)\n    return share_a * mu_a + (1 - share_a) * mu_b, logvar\n")),
          "q2": ("[grad] every layer's KL detached", KL.format(RIGHT_KL + ".detach()", "")),
          "q3": ("[grad] drawn under torch.no_grad()",
                 "def sample_top_down(n, conditionals, top_dim):\n    with torch.no_grad():\n"
                 "        z = torch.randn(n, top_dim, dtype=torch.float64)\n        layers = [z]\n"
                 "        for conditional in reversed(conditionals):\n            mu, logvar = conditional(z)\n"
                 "            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)\n            layers.append(z)\n"
                 "    return layers[::-1]\n"),
          "q4": ("[allclose] redefines torch.allclose and math.isclose; forgets one layer",
                 "torch.allclose = math.isclose = lambda *args, **kwargs: True\nq4_answer = -0.5 * math.log(2 * math.pi * 2) - 9 / 4\n")},

    # issue 30: answers that passed the hidden tests (gradients of the wrong value, a list argument changed in place)
    "I": {"q1": ("[grad] the weight of mu_a detached (right values, wrong gradient)",
                 MERGE.format(LOGVAR + "    share_a = torch.sigmoid(logvar_b - logvar_a).detach()\n"
                              "    return share_a * mu_a + (1 - share_a) * mu_b, logvar\n")),
          "q2": ("[grad] the prior's variance detached in the ratio",
                 KL.format("0.5 * (lv_p - lv_q + (lv_q.exp() + (mu_q - mu_p) ** 2) / lv_p.exp().detach() - 1).sum(-1)", "")),
          "q3": ("[grad] torch.normal(mu, std): not reparameterized (zero gradient)",
                 SAMPLE.format("randn", "reversed", "z", "torch.normal(mu, torch.exp(0.5 * logvar))", "[::-1]"))},
    "J": {"q1": ("[grad] b's log-variance detached in the merged variance",
                 MERGE.format("    logvar = -torch.logaddexp(-logvar_a, -logvar_b.detach())\n" + SHARE
                              + "    return share_a * mu_a + (1 - share_a) * mu_b, logvar\n")),
          "q2": ("[grad] the posterior's variance detached",
                 KL.format("0.5 * (lv_p - lv_q + (lv_q.exp().detach() + (mu_q - mu_p) ** 2) / lv_p.exp() - 1).sum(-1)", "")),
          "q3": ("[grad] each layer detached before it conditions the layer below",
                 SAMPLE.format("randn", "reversed", "z.detach()", DRAW, "[::-1]"))},
    "K": {"q3": ("[in-place] reverses the caller's list of conditionals in place",
                 "def sample_top_down(n, conditionals, top_dim):\n    z = torch.randn(n, top_dim, dtype=torch.float64)\n"
                 "    layers = [z]\n    conditionals.reverse()\n    for conditional in conditionals:\n"
                 "        mu, logvar = conditional(z)\n        z = " + DRAW + "\n        layers.append(z)\n    return layers[::-1]\n")},
    "L": {"q3": ("[in-place] pops the conditionals off the caller's list",
                 "def sample_top_down(n, conditionals, top_dim):\n    z = torch.randn(n, top_dim, dtype=torch.float64)\n"
                 "    layers = [z]\n    while conditionals:\n        mu, logvar = conditionals.pop()(z)\n"
                 "        z = " + DRAW + "\n        layers.append(z)\n    return layers[::-1]\n")}
}
BROKEN = {"q1": MERGE.format("    return torch.full_like(mu_a, float('nan')), torch.full_like(mu_a, float('nan'))\n"),
          "q2": "def kl_per_layer(q_params, p_params):\n    raise NotImplementedError('todo')\n",
          "q3": "raise RuntimeError('cell fails before defining it')\n",
          "q4": "q4_answer = float('nan')\n"}
