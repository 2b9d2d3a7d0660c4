"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/06_dequantization."""

BOUND = "def dequantization_bound(log_density, k, u, levels):\n    return {}\n"
BPD = "def bits_per_dim(log_density, D, levels):\n    return {}\n"
DLOG = ("def discretized_logistic_log_prob(x, loc, log_scale, levels):\n"
        "    F = torch.nn.functional\n"
        "    h = {h}\n"
        "    inv_s = {inv_s}\n"
        "    a, b = (x + h - loc) * inv_s, (x - h - loc) * inv_s\n"
        "    middle = {middle}\n"
        "    k = torch.round(x * (levels - 1))\n"
        "    return {ret}\n")
STABLE = "a + torch.log(-torch.expm1(b - a)) - F.softplus(a) - F.softplus(b)"
EDGES = "torch.where(k == 0, F.logsigmoid(a), torch.where(k == levels - 1, F.logsigmoid(-b), middle))"


def dlog(h="0.5 / (levels - 1)", inv_s="torch.exp(-log_scale)", middle=STABLE, ret=EDGES):
    return DLOG.format(h=h, inv_s=inv_s, middle=middle, ret=ret)


WRONG = {
    "A": {"q1": ("forgets the -D log L of the rescaling", BOUND.format("log_density((k + u) / levels).mean(0)")),
          "q2": ("natural log: nats per dimension", BPD.format("-(log_density - D * math.log(levels)) / D")),
          "q3": ("no edge bins: the mass below 0 and above 1 is lost", dlog(ret="middle"))},
    "B": {"q1": ("log of the averaged densities instead of the average log-density",
                 BOUND.format("torch.logsumexp(log_density((k + u) / levels), 0) - math.log(u.shape[0]) "
                              "- k.shape[-1] * math.log(levels)")),
          "q2": ("forgets the scaling offset D log L", BPD.format("-log_density / (D * math.log(2))")),
          "q3": ("naive log(sigmoid(a) - sigmoid(b)): -inf in the tails",
                 dlog(middle="torch.log(torch.sigmoid(a) - torch.sigmoid(b))"))},
    "C": {"q1": ("rescales by L - 1 instead of L", BOUND.format("log_density((k + u) / (levels - 1)).mean(0) "
                                                               "- k.shape[-1] * math.log(levels - 1)")),
          "q2": ("adds the offset with the wrong sign", BPD.format("-(log_density + D * math.log(levels)) / (D * math.log(2))")),
          "q3": ("density times bin width instead of the integral over the bin",
                 dlog(ret="-(x - loc) * inv_s - 2 * F.softplus(-(x - loc) * inv_s) + torch.log(inv_s) + math.log(2 * h)"))},
    "D": {"q1": ("offset in bits (log2 L) while the density is in nats",
                 BOUND.format("log_density((k + u) / levels).mean(0) - k.shape[-1] * math.log2(levels)")),
          "q2": ("divides by D ln L instead of D ln 2", BPD.format("-(log_density - D * math.log(levels)) / (D * math.log(levels))")),
          "q3": ("uses the log-scale as the scale", dlog(inv_s="1.0 / log_scale"))},
    "E": {"q3": ("a full bin width on each side (overlapping bins)", dlog(h="1.0 / (levels - 1)"))},
}
BROKEN = {"q1": "def dequantization_bound(log_density, k, u, levels):\n    raise NotImplementedError('todo')\n",
          "q2": BPD.format("torch.full_like(torch.as_tensor(log_density, dtype=torch.float64), float('nan'))"),
          "q3": "raise RuntimeError('cell fails before defining it')\n" + dlog()}
