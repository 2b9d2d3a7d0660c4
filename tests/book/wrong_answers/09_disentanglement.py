"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/09_disentanglement."""

DIP = ("def dip_vae_i_regularizer(mu, lambda_od, lambda_d):\n"
       "    centred = mu - mu.mean(0, keepdim=True)\n"
       "    cov = {cov}\n"
       "    diag = torch.diagonal(cov)\n"
       "    off = (cov ** 2).sum() - (diag ** 2).sum()\n"
       "    return {ret}\n")
COV = "centred.T @ centred / mu.shape[0]"
RET = "lambda_od * off + lambda_d * ((diag - 1) ** 2).sum()"

MIG = ("def mig(codes, factors):\n"
       "    d, k = codes.shape[1], factors.shape[1]\n"
       "    mi = torch.stack([torch.stack([mutual_info(codes[:, j], factors[:, f]) for f in range(k)]) for j in range(d)])\n"
       "    h = torch.stack([entropy(factors[:, f]) for f in range(k)])\n"
       "    hz = torch.stack([entropy(codes[:, j]) for j in range(d)])\n"
       "    top2 = torch.topk(mi, 2, dim=0)\n"
       "    return {ret}\n")

BETA = ("def beta_vae_objective(log_px_z, mu, logvar, beta):\n"
        "    kl = {kl}\n"
        "    return {ret}\n")
KL = "0.5 * (mu ** 2 + logvar.exp() - logvar - 1).sum(-1)"

WRONG = {
    "A": {"q1": ("covariance over the wrong axis (between data points)",
                 DIP.format(cov="centred @ centred.T / mu.shape[1]", ret=RET)),
          "q2": ("gap not normalized by the factor entropy",
                 MIG.format(ret="(top2.values[0] - top2.values[1]).mean()")),
          "q3": ("beta on the reconstruction term", BETA.format(kl=KL, ret="beta * log_px_z - kl"))},
    "B": {"q1": ("lambda_d and lambda_od swapped",
                 DIP.format(cov=COV, ret="lambda_d * off + lambda_od * ((diag - 1) ** 2).sum()")),
          "q2": ("gap normalized by the entropy of the top latent",
                 MIG.format(ret="((top2.values[0] - top2.values[1]) / hz[top2.indices[0]]).mean()")),
          "q3": ("KL without the 1/2", BETA.format(kl="(mu ** 2 + logvar.exp() - logvar - 1).sum(-1)",
                                                 ret="log_px_z - beta * kl"))},
    "C": {"q1": ("one lambda for both terms (no lambda_d / lambda_od split)",
                 DIP.format(cov=COV, ret="lambda_od * (off + ((diag - 1) ** 2).sum())")),
          "q2": ("gap to the least informative latent instead of the second",
                 MIG.format(ret="((mi.max(0).values - mi.min(0).values) / h).mean()")),
          "q3": ("sigma instead of sigma^2 in the KL",
                 BETA.format(kl="0.5 * (mu ** 2 + (0.5 * logvar).exp() - logvar - 1).sum(-1)",
                             ret="log_px_z - beta * kl"))},
    "D": {"q1": ("second moment instead of the covariance (means not subtracted)",
                 DIP.format(cov="mu.T @ mu / mu.shape[0]", ret=RET)),
          "q2": ("top two taken per latent instead of per factor",
                 MIG.format(ret="((mi.max(1).values - mi.topk(2, dim=1).values[:, 1]) / h.mean()).mean()")),
          "q3": ("KL averaged over latent dimensions instead of summed",
                 BETA.format(kl="0.5 * (mu ** 2 + logvar.exp() - logvar - 1).mean(-1)",
                             ret="log_px_z - beta * kl"))},
}
BROKEN = {"q1": DIP.format(cov=COV, ret="torch.tensor(float('nan'), dtype=mu.dtype)"),
          "q2": "def mig(codes, factors):\n    raise NotImplementedError('todo')\n",
          "q3": "raise RuntimeError('cell fails before defining it')\n" + BETA.format(kl=KL, ret="log_px_z - beta * kl")}
