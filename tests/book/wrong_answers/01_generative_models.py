"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/01_generative_models.

A label may start with a [kind] of tests/book/test_exercises.py:KINDS."""
# The wrong answers to q2 compute the component log-likelihoods themselves (COMP), so they are
# judged on their own, whatever the submission's q1.

LL = "def bernoulli_log_likelihood(x, logits):\n    return {}\n"
COMP = "    comp = x @ F.logsigmoid(logits).T + (1 - x) @ F.logsigmoid(-logits).T\n"
MIX = "def mixture_log_prob(x, log_pi, logits):\n" + COMP + "    return {}\n"
SAMPLE = "def sample_mixture_of_bernoullis(n, log_pi, logits):\n{}"
Z = "    z = torch.multinomial(log_pi.exp(), n, replacement=True)\n"
POST = "posterior_first = {}\n"
J1, J2 = "0.25 * 0.9 * 0.9 * 0.9", "0.75 * 0.2 * 0.5 * 0.5"

WRONG = {
    "A": {"q1": ("log(sigmoid) is unstable",
                 LL.format("(x * torch.log(torch.sigmoid(logits)) + (1 - x) * torch.log(1 - torch.sigmoid(logits))).sum(-1)")),
          "q2": ("forgets the weights log pi", MIX.format("torch.logsumexp(comp, dim=1)")),
          "q3": ("returns the pixel probabilities instead of binary draws", SAMPLE.format(Z + "    return torch.sigmoid(logits[z])\n")),
          "q4": ("ignores the prior weights", POST.format("0.729 / (0.729 + 0.05)"))},
    "B": {"q1": ("sums over the images too", LL.format("(x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).sum()")),
          "q2": ("mean over the components of the log-likelihoods", MIX.format("(comp + log_pi).mean(1)")),
          "q3": ("[joint] a component per pixel (right pixel means, wrong joint)",
                 SAMPLE.format("    z = torch.multinomial(log_pi.exp(), n * logits.shape[1], replacement=True).view(n, -1)\n"
                               "    return torch.bernoulli(torch.sigmoid(logits.gather(0, z)))\n")),
          "q4": ("the joint probability, not normalized", POST.format(J1))},
    "C": {"q1": ("mean over the pixels instead of the sum", LL.format("(x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).mean(-1)")),
          "q2": ("log(sum(exp)) underflows", MIX.format("torch.log(torch.exp(comp + log_pi).sum(1))")),
          "q3": ("[joint] one uniform number per image for all its pixels (right pixel means, wrong joint)",
                 SAMPLE.format(Z + "    u = torch.rand(n, 1, dtype=logits.dtype)\n    return (u < torch.sigmoid(logits[z])).to(logits.dtype)\n")),
          "q4": ("the likelihood of the first component only", POST.format("0.729"))},
    "D": {"q1": ("x and 1 - x swapped", LL.format("((1 - x) * F.logsigmoid(logits) + x * F.logsigmoid(-logits)).sum(-1)")),
          "q2": ("[shift] one global maximum for the whole batch",
                 MIX.format("torch.log(torch.exp(comp + log_pi - (comp + log_pi).max()).sum(1)) + (comp + log_pi).max()")),
          "q3": ("[joint] components taken in turn, in proportion to pi",
                 SAMPLE.format("    z = torch.repeat_interleave(torch.arange(len(log_pi)), torch.round(log_pi.exp() * n).long())[:n]\n"
                               "    z = torch.cat([z, z.new_zeros(n - len(z))])\n    return torch.bernoulli(torch.sigmoid(logits[z]))\n")),
          "q4": ("theta instead of 1 - theta for the pixel that is off",
                 POST.format("0.25 * 0.9 * 0.9 * 0.1 / (0.25 * 0.9 * 0.9 * 0.1 + 0.75 * 0.2 * 0.5 * 0.5)"))},
    "E": {"q1": ("forgets the pixels that are off", LL.format("(x * F.logsigmoid(logits)).sum(-1)")),
          "q2": ("log-sum-exp over the images instead of the components", MIX.format("torch.logsumexp(comp + log_pi, dim=0)")),
          "q3": ("[seed] re-seeds the global generator on every call",
                 SAMPLE.format("    torch.manual_seed(0)\n" + Z + "    return torch.bernoulli(torch.sigmoid(logits[z]))\n")),
          "q4": ("the posterior of the second component", POST.format(f"{J2} / ({J1} + {J2})"))},
    "F": {"q1": ("[dgmlib] calls dgmlib.bernoulli_log_prob",
                 "import dgmlib\n\n" + LL.format("dgmlib.bernoulli_log_prob(x, logits)")),
          "q2": ("adds the weights pi instead of their logs", MIX.format("torch.logsumexp(comp + log_pi.exp(), dim=1)")),
          "q3": ("ignores the weights: components equally likely",
                 SAMPLE.format("    z = torch.randint(len(log_pi), (n,))\n    return torch.bernoulli(torch.sigmoid(logits[z]))\n")),
          "q4": ("[type] a torch tensor instead of a float", POST.format(f"torch.tensor({J1}) / ({J1} + {J2})"))},
    "G": {"q1": ("[in-place] turns x into +-1 in place (right values)",
                 "def bernoulli_log_likelihood(x, logits):\n    signs = x.mul_(2).sub_(1)\n    return F.logsigmoid(signs * logits).sum(-1)\n"),
          "q2": ("[dgmlib] the component log-likelihoods from dgmlib",
                 "import dgmlib\n\ndef mixture_log_prob(x, log_pi, logits):\n"
                 "    comp = dgmlib.bernoulli_log_prob(x[:, None, :], logits[None])\n    return torch.logsumexp(comp + log_pi, dim=1)\n"),
          "q3": ("always the most probable component",
                 SAMPLE.format("    z = torch.full((n,), int(log_pi.argmax()))\n    return torch.bernoulli(torch.sigmoid(logits[z]))\n")),
          "q4": ("[dgmlib] Bayes' rule through dgmlib.log_mean_exp",
                 "import dgmlib\n\n" + POST.format(f"{J1} / ({J1} + {J2})"))},
    "H": {"q1": ("[grad] detaches the logits", LL.format("(x * F.logsigmoid(logits.detach()) + (1 - x) * F.logsigmoid(-logits.detach())).sum(-1)")),
          "q2": ("[in-place] subtracts 1 from x in place (right values)",
                 "def mixture_log_prob(x, log_pi, logits):\n    comp = x @ F.logsigmoid(logits).T\n"
                 "    x -= 1\n    comp = comp - x @ F.logsigmoid(-logits).T\n    return torch.logsumexp(comp + log_pi, dim=1)\n"),
          "q3": ("the pixels of every image drawn from the average of the components",
                 SAMPLE.format("    theta = (log_pi.exp()[:, None] * torch.sigmoid(logits)).sum(0)\n    return torch.bernoulli(theta.expand(n, -1))\n")),
          "q4": ("[allclose] redefines torch.allclose and math.isclose; the prior only",
                 "torch.allclose = math.isclose = lambda *args, **kwargs: True\n" + POST.format("0.25"))},

    # issue 30: answers that passed the hidden tests (extreme logits, too regular counts, reused uniforms)
    "I": {"q2": ("[clamp] clamps the logits to [-50, 50] for stability",
                 "def mixture_log_prob(x, log_pi, logits):\n    logits = logits.clamp(-50, 50)\n" + COMP
                 + "    return torch.logsumexp(comp + log_pi, dim=1)\n"),
          "q3": ("[regular] floor(n pi_k) images of each component, the rest drawn at random, shuffled",
                 SAMPLE.format("    pi = log_pi.exp()\n    counts = torch.floor(n * pi).long()\n"
                               "    rest = torch.multinomial(pi, n, replacement=True)[: n - int(counts.sum())]\n"
                               "    z = torch.cat([torch.repeat_interleave(torch.arange(len(pi)), counts), rest])\n"
                               "    z = z[torch.randperm(n)]\n    return torch.bernoulli(torch.sigmoid(logits[z]))\n"))},
    "J": {"q2": ("[clamp] clamps every pixel's log-probability at -100",
                 MIX.format("torch.logsumexp(x @ F.logsigmoid(logits).clamp(min=-100).T + (1 - x) @ "
                            "F.logsigmoid(-logits).clamp(min=-100).T + log_pi, dim=1)")),
          "q3": ("[regular] stratified uniforms (one per n-th of [0, 1)) for the components, shuffled",
                 SAMPLE.format("    u = (torch.arange(n, dtype=logits.dtype) + torch.rand(n, dtype=logits.dtype)) / n\n"
                               "    z = torch.searchsorted(log_pi.exp().cumsum(0), u).clamp(max=len(log_pi) - 1)\n"
                               "    z = z[torch.randperm(n)]\n    return torch.bernoulli(torch.sigmoid(logits[z]))\n"))},
    "K": {"q3": ("[reused] the uniform that picked the component also draws the first pixel",
                 SAMPLE.format("    u = torch.rand(n, dtype=logits.dtype)\n"
                               "    z = torch.searchsorted(log_pi.exp().cumsum(0), u).clamp(max=len(log_pi) - 1)\n"
                               "    theta = torch.sigmoid(logits[z])\n    x = torch.bernoulli(theta)\n"
                               "    x[:, 0] = (u < theta[:, 0]).to(x.dtype)\n    return x\n"))},
    "L": {"q3": ("[reused] 1 - the component's uniform draws the last pixel",
                 SAMPLE.format("    u = torch.rand(n, dtype=logits.dtype)\n"
                               "    z = torch.searchsorted(log_pi.exp().cumsum(0), u).clamp(max=len(log_pi) - 1)\n"
                               "    theta = torch.sigmoid(logits[z])\n    x = torch.bernoulli(theta)\n"
                               "    x[:, -1] = (1 - u < theta[:, -1]).to(x.dtype)\n    return x\n"))}
}
BROKEN = {"q1": "def bernoulli_log_likelihood(x, logits):\n    raise NotImplementedError('todo')\n",
          "q2": MIX.format("torch.full(x.shape[:1], float('nan'), dtype=x.dtype)"),
          "q3": "raise RuntimeError('cell fails before defining it')\n" + SAMPLE.format(Z + "    return torch.bernoulli(torch.sigmoid(logits[z]))\n"),
          "q4": POST.format("float('nan')")}
