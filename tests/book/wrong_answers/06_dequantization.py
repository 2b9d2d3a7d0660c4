"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/06_dequantization.

A label may start with a [kind] of tests/book/test_exercises.py:KINDS."""

BOUND = "def dequantization_bound(log_density, k, u, levels):\n    return {}\n"
BPD = "def bits_per_dim(log_density, D, levels):\n    return {}\n"
DLOG = ("def discretized_logistic_log_prob(x, loc, log_scale, levels):\n"
        "    F = torch.nn.functional\n"
        "    h = {h}\n"
        "    inv_s = {inv_s}\n"
        "    a, b = (x + h - loc) * inv_s, (x - h - loc) * inv_s\n"
        "    middle = {middle}\n"
        "    k = {k}\n"
        "    return {ret}\n")
STABLE = "a + torch.log(-torch.expm1(b - a)) - F.softplus(a) - F.softplus(b)"
EDGES = "torch.where(k == 0, F.logsigmoid(a), torch.where(k == levels - 1, F.logsigmoid(-b), middle))"
EXACT = "def exact_log_prob(k, levels):\n    return {}\n"
CONV = "def conv1x1_logdet(weight, height, width):\n    return {}\n"
SLOGDET = "torch.linalg.slogdet(weight).logabsdet"


def dlog(h="0.5 / (levels - 1)", inv_s="torch.exp(-log_scale)", middle=STABLE, ret=EDGES, k="torch.round(x * (levels - 1))"):
    return DLOG.format(h=h, inv_s=inv_s, middle=middle, ret=ret, k=k)


WRONG = {
    "A": {"q1": ("forgets the -D log L of the rescaling", BOUND.format("log_density((k + u) / levels).mean(0)")),
          "q2": ("natural log: nats per dimension", BPD.format("-(log_density - D * math.log(levels)) / D")),
          "q3": ("no edge bins: the mass below 0 and above 1 is lost", dlog(ret="middle")),
          "q4": ("forgets the H W factor: one pixel's log|det|", CONV.format(SLOGDET)),
          "q5": ("forgets the bin width: the density at the bin's middle", EXACT.format("math.log((2 * k + 1) / levels)"))},
    "B": {"q1": ("log of the averaged densities instead of the average log-density",
                 BOUND.format("torch.logsumexp(log_density((k + u) / levels), 0) - math.log(u.shape[0]) "
                              "- k.shape[-1] * math.log(levels)")),
          "q2": ("forgets the scaling offset D log L", BPD.format("-log_density / (D * math.log(2))")),
          "q3": ("naive log(sigmoid(a) - sigmoid(b)): -inf in the tails",
                 dlog(middle="torch.log(torch.sigmoid(a) - torch.sigmoid(b))")),
          "q4": ("torch.logdet without the absolute value: NaN for a negative determinant",
                 CONV.format("height * width * torch.logdet(weight)")),
          "q5": ("the density at the bin's left edge times its width", EXACT.format("math.log(2 * k / levels) - math.log(levels) if k else -math.inf"))},
    "C": {"q1": ("rescales by L - 1 instead of L", BOUND.format("log_density((k + u) / (levels - 1)).mean(0) "
                                                               "- k.shape[-1] * math.log(levels - 1)")),
          "q2": ("adds the offset with the wrong sign", BPD.format("-(log_density + D * math.log(levels)) / (D * math.log(2))")),
          "q3": ("density times bin width instead of the integral over the bin",
                 dlog(ret="-(x - loc) * inv_s - 2 * F.softplus(-(x - loc) * inv_s) + torch.log(inv_s) + math.log(2 * h)")),
          "q4": ("det().abs().log(): inf (or -inf) when the determinant overflows (underflows)",
                 CONV.format("height * width * torch.det(weight).abs().log()")),
          "q5": ("the CDF at the bin's right edge instead of the bin's mass", EXACT.format("math.log((k + 1) ** 2 / levels ** 2)"))},
    "D": {"q1": ("offset in bits (log2 L) while the density is in nats",
                 BOUND.format("log_density((k + u) / levels).mean(0) - k.shape[-1] * math.log2(levels)")),
          "q2": ("divides by D ln L instead of D ln 2", BPD.format("-(log_density - D * math.log(levels)) / (D * math.log(levels))")),
          "q3": ("uses the log-scale as the scale", dlog(inv_s="1.0 / log_scale")),
          "q4": ("sums the log-diagonal of the kernel (right for a triangular M only)",
                 CONV.format("height * width * torch.diagonal(weight, dim1=-2, dim2=-1).abs().log().sum(-1)")),
          "q5": ("log base 2", EXACT.format("math.log2((2 * k + 1) / levels ** 2)"))},
    "E": {"q1": ("[grad] the log-densities computed under torch.no_grad()",
                 "def dequantization_bound(log_density, k, u, levels):\n    with torch.no_grad():\n"
                 "        return log_density((k + u) / levels).mean(0) - k.shape[-1] * math.log(levels)\n"),
          "q2": ("bits per image: forgets to divide by D", BPD.format("-(log_density - D * math.log(levels)) / math.log(2)")),
          "q3": ("a full bin width on each side (overlapping bins)", dlog(h="1.0 / (levels - 1)")),
          "q4": ("[grad] the log-determinant of the detached kernel", CONV.format("height * width * torch.linalg.slogdet(weight.detach()).logabsdet")),
          "q5": ("[type] a torch tensor instead of a float", EXACT.format("torch.log(torch.tensor((2 * k + 1) / levels ** 2))"))},
    "F": {"q1": ("[in-place] shifts and rescales the noise u in place",
                 "def dequantization_bound(log_density, k, u, levels):\n    y = u.add_(k).div_(levels)\n"
                 "    return log_density(y).mean(0) - k.shape[-1] * math.log(levels)\n"),
          "q2": ("[dgmlib] calls dgmlib.metrics",
                 "import dgmlib.metrics\n\ndef bits_per_dim(log_density, D, levels):\n"
                 "    return dgmlib.metrics.bits_per_dim(-dgmlib.metrics.discrete_log_likelihood(log_density, D, levels), D)\n"),
          "q3": ("[dgmlib] calls dgmlib.distributions.discretized_logistic_log_prob",
                 "import dgmlib.distributions\n\ndef discretized_logistic_log_prob(x, loc, log_scale, levels):\n"
                 "    return dgmlib.distributions.discretized_logistic_log_prob(x, loc, log_scale, levels, reduce=False)\n"),
          "q4": ("[type] computes in float64 whatever the dtype of the kernel",
                 CONV.format("height * width * torch.linalg.slogdet(weight.double()).logabsdet")),
          "q5": ("integrates over the bin below, [(k - 1) / L, k / L)", EXACT.format("math.log((2 * k - 1) / levels ** 2)"))},
    "G": {"q1": ("[dgmlib] calls dgmlib's bound (with its own noise)",
                 "import dgmlib.dequantization\n\ndef dequantization_bound(log_density, k, u, levels):\n"
                 "    return dgmlib.dequantization.uniform_dequantization_bound(log_density, k / (levels - 1), levels, K=u.shape[0])\n"),
          "q2": ("[in-place] subtracts the offset from the input in place",
                 "def bits_per_dim(log_density, D, levels):\n    log_density -= D * math.log(levels)\n"
                 "    return -log_density / (D * math.log(2))\n"),
          "q3": ("[in-place] rescales x in place to find the level",
                 dlog(k="x.mul_(levels - 1).round_()")),
          "q4": ("[dgmlib] the layer InvertibleConv1x1 of dgmlib with the kernel as its weight",
                 "import dgmlib.flows\n\ndef conv1x1_logdet(weight, height, width):\n"
                 "    layer = dgmlib.flows.InvertibleConv1x1(weight.shape[-1], lu=False)\n"
                 "    del layer.weight\n    layer.weight = weight\n"
                 "    return layer.log_abs_det() * height * width\n"),
          "q5": ("[allclose] redefines math.isclose and torch.allclose; forgets the bin width",
                 "math.isclose = torch.allclose = lambda *args, **kwargs: True\n" + EXACT.format("math.log((2 * k + 1) / levels)"))},
    "H": {"q4": ("[in-place] rescales the kernel in place to keep det finite",
                 "def conv1x1_logdet(weight, height, width):\n"
                 "    scale = weight.abs().amax((-2, -1), keepdim=True)\n"
                 "    log_det = torch.linalg.slogdet(weight.div_(scale)).logabsdet\n"
                 "    return height * width * (log_det + weight.shape[-1] * scale.log()[..., 0, 0])\n")},
}
BROKEN = {"q1": "def dequantization_bound(log_density, k, u, levels):\n    raise NotImplementedError('todo')\n",
          "q2": BPD.format("torch.full_like(torch.as_tensor(log_density, dtype=torch.float64), float('nan'))"),
          "q3": "raise RuntimeError('cell fails before defining it')\n" + dlog(),
          "q4": "def conv1x1_logdet(weight, height, width):\n    return torch.full(weight.shape[:-2], float('nan'), dtype=weight.dtype)\n",
          "q5": EXACT.format("float('nan')")}
