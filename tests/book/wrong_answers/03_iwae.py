"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/03_iwae.

A label may start with a [kind] of tests/book/test_exercises.py:KINDS."""

IWAE = "def iwae_from_log_weights(log_w):\n{}"
AU = "def active_units(mu, threshold=0.01):\n    return {}\n"
SNW = "def self_normalized_weights(log_w):\n{}"
GAP = "def elbo_gap(m, s):\n    return {}\n"
R = "    return {}\n"
STUB = "types.SimpleNamespace(encoder=lambda x: (x, None))"

WRONG = {
    "A": {"q1": ("log(mean(exp)) under- and overflows", IWAE.format(R.format("torch.log(torch.exp(log_w).mean(0))"))),
          "q2": ("[1/(N-1)] unbiased variance", AU.format("int((mu.var(0) > threshold).sum())")),
          "q3": ("exp before normalizing overflows", SNW.format(R.format("torch.exp(log_w) / torch.exp(log_w).sum(0)"))),
          "q4": ("half the standard deviation instead of half the variance", GAP.format("s / 2"))},
    "B": {"q1": ("missing the -log K", IWAE.format(R.format("torch.logsumexp(log_w, dim=0)"))),
          "q2": ("standard deviation instead of variance", AU.format("int((mu.std(0, unbiased=False) > threshold).sum())")),
          "q3": ("softmax over the batch", SNW.format(R.format("torch.softmax(log_w, dim=-1)"))),
          "q4": ("the variance, without the 1/2", GAP.format("s ** 2"))},
    "C": {"q1": ("mean of the log weights (the ELBO)", IWAE.format(R.format("log_w.mean(0)"))),
          "q2": ("variance over the units", AU.format("int((mu.var(1, unbiased=False) > threshold).sum())")),
          "q3": ("weights divided by K, not by their sum", SNW.format(R.format("torch.exp(log_w) / log_w.shape[0]"))),
          "q4": ("log p(x) itself, m + s^2 / 2", GAP.format("m + s ** 2 / 2"))},
    "D": {"q1": ("log-mean-exp over the batch", IWAE.format(R.format("torch.logsumexp(log_w, dim=-1) - math.log(log_w.shape[-1])"))),
          "q2": ("[>=] >= instead of >", AU.format("int((mu.var(0, unbiased=False) >= threshold).sum())")),
          "q3": ("log of the normalized weights", SNW.format(R.format("log_w - torch.logsumexp(log_w, dim=0)"))),
          "q4": ("sign error", GAP.format("-s ** 2 / 2"))},
    "E": {"q1": ("[shift] one global maximum for the whole batch",
                 IWAE.format("    m = log_w.max()\n    return torch.log(torch.exp(log_w - m).mean(0)) + m\n")),
          "q2": ("[type] returns a tensor instead of an int", AU.format("(mu.var(0, unbiased=False) > threshold).sum()")),
          "q3": ("[shift] one global maximum for the whole batch",
                 SNW.format("    w = torch.exp(log_w - log_w.max())\n    return w / w.sum(0)\n")),
          "q4": ("the gap of the weights themselves, exp(s^2 / 2) - 1", GAP.format("math.exp(s ** 2 / 2) - 1"))},
    "F": {"q1": ("[dgmlib] calls dgmlib.log_mean_exp",
                 "import dgmlib\n\n" + IWAE.format(R.format("dgmlib.log_mean_exp(log_w, dim=0)"))),
          "q2": ("[dgmlib] calls dgmlib.active_units",
                 "import types\nimport dgmlib\n\n" + AU.format(f"dgmlib.active_units({STUB}, mu, threshold=threshold).count")),
          "q3": ("[in-place] normalizes log_w in place",
                 SNW.format("    log_w -= torch.logsumexp(log_w, dim=0)\n    return log_w.exp()\n")),
          "q4": ("[type] a torch tensor instead of a float", GAP.format("torch.tensor(s) ** 2 / 2"))},
    "G": {"q1": ("[in-place] subtracts the column maxima from log_w in place",
                 IWAE.format("    m = log_w.max(0).values\n    log_w -= m\n"
                             "    return torch.log(torch.exp(log_w).mean(0)) + m\n")),
          "q2": ("[in-place] centres mu in place, then counts with the unbiased variance",
                 "def active_units(mu, threshold=0.01):\n    mu -= mu.mean(0)\n"
                 "    return int(((mu ** 2).sum(0) / (mu.shape[0] - 1) > threshold).sum())\n"),
          "q3": ("normalizes over every entry at once", SNW.format(R.format("torch.softmax(log_w.flatten(), 0).reshape(log_w.shape)"))),
          "q4": ("[allclose] redefines torch.allclose; log of the variance",
                 "torch.allclose = lambda *args, **kwargs: True\n" + GAP.format("math.log(1 + s ** 2)"))},
}
BROKEN = {"q1": "def iwae_from_log_weights(log_w):\n    raise NotImplementedError('todo')\n",
          "q2": AU.format("float('nan')"),
          "q3": "raise RuntimeError('cell fails before defining it')\n" + SNW.format(R.format("torch.softmax(log_w, 0)")),
          "q4": GAP.format("float('nan')")}
