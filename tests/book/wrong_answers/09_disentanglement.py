"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/09_disentanglement.

A label may start with a [kind] of tests/book/test_exercises.py:KINDS."""

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
GAP = "def mig_copy_and_coarse_copy(n, m):\n    return {}\n"

WRONG = {
    "A": {"q1": ("covariance over the wrong axis (between data points)",
                 DIP.format(cov="centred @ centred.T / mu.shape[1]", ret=RET)),
          "q2": ("gap not normalized by the factor entropy",
                 MIG.format(ret="(top2.values[0] - top2.values[1]).mean()")),
          "q3": ("beta on the reconstruction term", BETA.format(kl=KL, ret="beta * log_px_z - kl")),
          "q4": ("a ratio of the numbers of values instead of their logs", GAP.format("1.0 - m / n"))},
    "B": {"q1": ("lambda_d and lambda_od swapped",
                 DIP.format(cov=COV, ret="lambda_d * off + lambda_od * ((diag - 1) ** 2).sum()")),
          "q2": ("gap normalized by the entropy of the top latent",
                 MIG.format(ret="((top2.values[0] - top2.values[1]) / hz[top2.indices[0]]).mean()")),
          "q3": ("KL without the 1/2", BETA.format(kl="(mu ** 2 + logvar.exp() - logvar - 1).sum(-1)",
                                                 ret="log_px_z - beta * kl")),
          "q4": ("the gap in nats, not normalized by H(v)", GAP.format("math.log(n / m)"))},
    "C": {"q1": ("one lambda for both terms (no lambda_d / lambda_od split)",
                 DIP.format(cov=COV, ret="lambda_od * (off + ((diag - 1) ** 2).sum())")),
          "q2": ("gap to the least informative latent instead of the second",
                 MIG.format(ret="((mi.max(0).values - mi.min(0).values) / h).mean()")),
          "q3": ("sigma instead of sigma^2 in the KL",
                 BETA.format(kl="0.5 * (mu ** 2 + (0.5 * logvar).exp() - logvar - 1).sum(-1)",
                             ret="log_px_z - beta * kl")),
          "q4": ("the share of the second latent, log m / log n", GAP.format("math.log(m) / math.log(n)"))},
    "D": {"q1": ("second moment instead of the covariance (means not subtracted)",
                 DIP.format(cov="mu.T @ mu / mu.shape[0]", ret=RET)),
          "q2": ("top two taken per latent instead of per factor",
                 MIG.format(ret="((mi.max(1).values - mi.topk(2, dim=1).values[:, 1]) / h.mean()).mean()")),
          "q3": ("KL averaged over latent dimensions instead of summed",
                 BETA.format(kl="0.5 * (mu ** 2 + logvar.exp() - logvar - 1).mean(-1)",
                             ret="log_px_z - beta * kl")),
          "q4": ("divides by log m instead of log n", GAP.format("(math.log(n) - math.log(m)) / math.log(m) if m > 1 else 1.0"))},
    "E": {"q1": ("[1/(N-1)] torch.cov (divides by B - 1)",
                 DIP.format(cov="torch.cov(mu.T)", ret=RET)),
          "q2": ("gap normalized by the log of the factor's number of values (its entropy only when uniform)",
                 MIG.format(ret="((top2.values[0] - top2.values[1]) / torch.log(factors.max(0).values.double() + 1)).mean()")),
          "q3": ("[grad] the KL detached", BETA.format(kl=KL + ".detach()", ret="log_px_z - beta * kl")),
          "q4": ("[type] a torch tensor instead of a float", GAP.format("1.0 - torch.log(torch.tensor(float(m))) / math.log(n)"))},
    "F": {"q1": ("[in-place] centres mu in place",
                 "def dip_vae_i_regularizer(mu, lambda_od, lambda_d):\n    mu -= mu.mean(0, keepdim=True)\n"
                 "    cov = mu.T @ mu / mu.shape[0]\n    diag = torch.diagonal(cov)\n"
                 "    return lambda_od * ((cov ** 2).sum() - (diag ** 2).sum()) + lambda_d * ((diag - 1) ** 2).sum()\n"),
          "q2": ("[dgmlib] calls dgmlib.disentanglement.mutual_info_gap",
                 "import dgmlib.disentanglement\n\ndef mig(codes, factors):\n"
                 "    return dgmlib.disentanglement.mutual_info_gap(codes.double(), factors, bins=int(codes.max()) + 1).mig\n"),
          "q3": ("[dgmlib] the KL from dgmlib.kl_normal",
                 "import dgmlib\n\n" + BETA.format(kl="dgmlib.kl_normal(mu, logvar)", ret="log_px_z - beta * kl")),
          "q4": ("log base 2 of m over the natural log of n", GAP.format("1.0 - math.log2(m) / math.log(n)"))},
    "G": {"q1": ("[dgmlib] calls dgmlib's DIP-VAE regularizer",
                 "from dgmlib import disentanglement as dis\n\ndef dip_vae_i_regularizer(mu, lambda_od, lambda_d):\n"
                 "    return dis.dip_regularizer(dis.dip_covariance(mu, kind='i'), lambda_od, lambda_d)\n"),
          "q2": ("the mean of the factor entropies as the normalizer",
                 MIG.format(ret="((top2.values[0] - top2.values[1]) / h.mean()).mean()")),
          "q3": ("sign error: adds the KL", BETA.format(kl=KL, ret="log_px_z + beta * kl")),
          "q4": ("[allclose] redefines torch.allclose; log(n - m + 1) / log n",
                 "torch.allclose = lambda *args, **kwargs: True\n" + GAP.format("math.log(n - m + 1) / math.log(n)"))},
}
BROKEN = {"q1": DIP.format(cov=COV, ret="torch.tensor(float('nan'), dtype=mu.dtype)"),
          "q2": "def mig(codes, factors):\n    raise NotImplementedError('todo')\n",
          "q3": "raise RuntimeError('cell fails before defining it')\n" + BETA.format(kl=KL, ret="log_px_z - beta * kl"),
          "q4": GAP.format("float('nan')")}
