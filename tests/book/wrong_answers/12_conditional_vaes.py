"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/12_conditional_vaes.

A label may start with a [kind] of tests/book/test_exercises.py:KINDS. The wrong answers of q2
compute the unlabelled bound themselves, so that each is rejected for its own mistake and not for
the wrong q1 of its variant."""

U = "def unlabelled_bound(labelled, log_q):\n    q = torch.exp(log_q)\n    return {}\n"
M2 = ("def m2_loss(labelled_l, log_q_l, y_l, labelled_u, log_q_u, alpha):\n"
      "    rows = torch.arange(len(y_l))\n"
      "    L, lq = labelled_l[rows, y_l], log_q_l[rows, y_l]\n"
      "    U = (log_q_u.exp() * (labelled_u - log_q_u)).sum(-1)\n"
      "    return {}\n")
CM = ("def cross_modal_bound(log_lik_target, mu_q, logvar_q):\n"
      "    kl = {}\n"
      "    return {}\n")
RIGHT_KL = "0.5 * (mu_q ** 2 + logvar_q.exp() - logvar_q - 1).sum(-1)"
MEAN = "log_lik_target.mean(0) - kl"
B1D = ("def cross_modal_bound_1d(a, s2, t2, x_i, x_t):\n"
       "    v, m = {}\n"
       "    expected = {}\n"
       "    return {}\n")
V_M = "s2 / (1 + s2), x_i / (1 + s2)"
EXPECTED = "-0.5 * math.log(2 * math.pi * t2) - ((x_t - a * m) ** 2 + a ** 2 * v) / (2 * t2)"
KL_1D = "0.5 * (v + m ** 2 - 1 - math.log(v))"

WRONG = {
    "A": {"q1": ("forgets the entropy of q(y|x)", U.format("(q * labelled).sum(-1)")),
          "q2": ("sums over each batch instead of the means", M2.format("-L.sum() - U.sum() - alpha * lq.sum()")),
          "q3": ("sums over the K draws instead of the mean",
                 CM.format(RIGHT_KL, "log_lik_target.sum(0) - kl")),
          "q4": ("forgets the variance of z under q: log N(x_t; a m, t2) minus the KL",
                 B1D.format(V_M, "-0.5 * math.log(2 * math.pi * t2) - (x_t - a * m) ** 2 / (2 * t2)",
                            f"expected - {KL_1D}"))},
    "B": {"q1": ("the entropy with its sign flipped", U.format("(q * (labelled + log_q)).sum(-1)")),
          "q2": ("labelled_l[:, y_l]: every label's column for every row",
                 M2.format("-labelled_l[:, y_l].mean() - U.mean() - alpha * log_q_l[:, y_l].mean()")),
          "q3": ("the KL added instead of subtracted", CM.format(RIGHT_KL, "log_lik_target.mean(0) + kl")),
          "q4": ("the KL added instead of subtracted", B1D.format(V_M, EXPECTED, f"expected + {KL_1D}"))},
    "C": {"q1": ("log q(y|x) as the weights of the bounds, where q(y|x) is needed",
                 U.format("(log_q * labelled).sum(-1) - (q * log_q).sum(-1)")),
          "q2": ("one mean over the labelled and unlabelled points together",
                 M2.format("-torch.cat([L, U]).mean() - alpha * lq.mean()")),
          "q3": ("log-mean-exp over the draws (the IWAE bound), not the mean",
                 CM.format(RIGHT_KL, "torch.logsumexp(log_lik_target, 0) - math.log(log_lik_target.shape[0]) - kl")),
          "q4": ("q is the prior N(0, 1), not the posterior",
                 B1D.format("1.0, 0.0", EXPECTED, f"expected - {KL_1D}"))},
    "D": {"q1": ("the mean over the classes instead of the sum", U.format("(q * (labelled - log_q)).mean(-1)")),
          "q2": ("the classification term with its sign flipped (rewards wrong labels)",
                 M2.format("-L.mean() - U.mean() + alpha * lq.mean()")),
          "q3": ("the KL without its -1", CM.format("0.5 * (mu_q ** 2 + logvar_q.exp() - logvar_q).sum(-1)", MEAN)),
          "q4": ("the posterior variance 1 / (1 + s2): the precisions confused",
                 B1D.format("1 / (1 + s2), x_i / (1 + s2)", EXPECTED, f"expected - {KL_1D}"))},
    "E": {"q1": ("the entropy from log(q) (0 * -inf = NaN where q underflows)",
                 U.format("(q * labelled).sum(-1) - (q * torch.log(q)).sum(-1)")),
          "q2": ("one-hot labels without num_classes (fails when the last class is absent)",
                 "def m2_loss(labelled_l, log_q_l, y_l, labelled_u, log_q_u, alpha):\n"
                 "    hot = torch.nn.functional.one_hot(y_l).to(labelled_l.dtype)\n"
                 "    U = (log_q_u.exp() * (labelled_u - log_q_u)).sum(-1)\n"
                 "    return -(hot * labelled_l).sum(1).mean() - U.mean() - alpha * (hot * log_q_l).sum(1).mean()\n"),
          "q3": ("the KL averaged over the latent dimensions",
                 CM.format("0.5 * (mu_q ** 2 + logvar_q.exp() - logvar_q - 1).mean(-1)", MEAN)),
          "q4": ("the posterior mean without the shrinkage: m = x_i",
                 B1D.format("s2 / (1 + s2), x_i", EXPECTED, f"expected - {KL_1D}"))},
    "F": {"q1": ("log sum_y exp L(x, y) whatever the classifier (the best q, not this one)",
                 U.format("torch.logsumexp(labelled, dim=-1)")),
          "q2": ("the cross-entropy averaged over every class, not the label's",
                 M2.format("-L.mean() - U.mean() - alpha * log_q_l.mean()")),
          "q3": ("standard deviations exp(logvar / 2) in the KL instead of variances",
                 CM.format("0.5 * (mu_q ** 2 + (0.5 * logvar_q).exp() - logvar_q - 1).sum(-1)", MEAN)),
          "q4": ("log p(x_t) itself: the source and its encoder ignored",
                 "def cross_modal_bound_1d(a, s2, t2, x_i, x_t):\n"
                 "    return -0.5 * math.log(2 * math.pi * (a * a + t2)) - x_t ** 2 / (2 * (a * a + t2))\n")},
    "G": {"q1": ("[dgmlib] calls dgmlib.models.semi_supervised.marginalize_labels",
                 "from dgmlib.models.semi_supervised import marginalize_labels\n\n"
                 "def unlabelled_bound(labelled, log_q):\n    return marginalize_labels(labelled, log_q)\n"),
          "q2": ("the labelled points treated as unlabelled: U(x_l) instead of L(x_l, y_l)",
                 M2.format("-(log_q_l.exp() * (labelled_l - log_q_l)).sum(-1).mean() - U.mean() - alpha * lq.mean()")),
          "q3": ("[dgmlib] calls dgmlib.cross_modal.cross_modal_bound",
                 "import dgmlib.cross_modal\n\n"
                 "def cross_modal_bound(log_lik_target, mu_q, logvar_q):\n"
                 "    return dgmlib.cross_modal.cross_modal_bound(log_lik_target, mu_q, logvar_q)\n"),
          "q4": ("[type] a torch tensor instead of a float",
                 B1D.format(V_M, EXPECTED, f"torch.tensor(expected - {KL_1D}, dtype=torch.float64)"))},
    "H": {"q1": ("[in-place] subtracts log q from the bounds in place (right values)",
                 U.format("(q * labelled.sub_(log_q)).sum(-1)")),
          "q2": ("[grad] the classifier's term detached (the classifier never learns from the labels)",
                 M2.format("-L.mean() - U.mean() - alpha * lq.detach().mean()")),
          "q3": ("[in-place] exponentiates the log-variances in place",
                 CM.format("0.5 * (mu_q ** 2 - logvar_q - 1 + logvar_q.exp_()).sum(-1)", MEAN)),
          "q4": ("[allclose] redefines torch.allclose and math.isclose; t2 taken as a standard deviation",
                 "torch.allclose = math.isclose = lambda *args, **kwargs: True\n"
                 + B1D.format(V_M, "-0.5 * math.log(2 * math.pi * t2 ** 2) - ((x_t - a * m) ** 2 + a ** 2 * v) / (2 * t2 ** 2)",
                              f"expected - {KL_1D}"))},

    # issue 30: entropies from q = exp(log q) that passed the hidden tests (NaN gradients where q = 0)
    "I": {"q1": ("[nan-grad] the entropy with torch.special.xlogy(q, q)",
                 U.format("(q * labelled).sum(-1) - torch.special.xlogy(q, q).sum(-1)"))},
    "J": {"q1": ("[nan-grad] q log q where q > 0, else 0 (torch.where)",
                 U.format("(q * labelled - torch.where(q > 0, q * torch.log(q), torch.zeros_like(q))).sum(-1)"))}
}
BROKEN = {"q1": U.format("torch.full_like(labelled[:, 0], float('nan'))"),
          "q2": "def m2_loss(labelled_l, log_q_l, y_l, labelled_u, log_q_u, alpha):\n    raise NotImplementedError('todo')\n",
          "q3": "raise RuntimeError('cell fails before defining it')\n",
          "q4": "def cross_modal_bound_1d(a, s2, t2, x_i, x_t):\n    return float('nan')\n"}
