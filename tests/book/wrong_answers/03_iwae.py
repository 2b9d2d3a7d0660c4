"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/03_iwae."""

IWAE = "def iwae_from_log_weights(log_w):\n    return {}\n"
AU = "def active_units(mu, threshold=0.01):\n    return {}\n"
SNW = "def self_normalized_weights(log_w):\n    return {}\n"

WRONG = {
    "A": {"q1": ("log(mean(exp)) under- and overflows", IWAE.format("torch.log(torch.exp(log_w).mean(0))")),
          "q2": ("unbiased variance (divides by N - 1)", AU.format("int((mu.var(0) > threshold).sum())")),
          "q3": ("exp before normalizing overflows", SNW.format("torch.exp(log_w) / torch.exp(log_w).sum(0)"))},
    "B": {"q1": ("missing the -log K", IWAE.format("torch.logsumexp(log_w, dim=0)")),
          "q2": ("standard deviation instead of variance", AU.format("int((mu.std(0, unbiased=False) > threshold).sum())")),
          "q3": ("softmax over the batch", SNW.format("torch.softmax(log_w, dim=-1)"))},
    "C": {"q1": ("mean of the log weights (the ELBO)", IWAE.format("log_w.mean(0)")),
          "q2": ("variance over the units", AU.format("int((mu.var(1, unbiased=False) > threshold).sum())")),
          "q3": ("weights divided by K, not by their sum", SNW.format("torch.exp(log_w) / log_w.shape[0]"))},
    "D": {"q1": ("log-mean-exp over the batch", IWAE.format("torch.logsumexp(log_w, dim=-1) - math.log(log_w.shape[-1])")),
          "q2": ("counts the inactive units", AU.format("int((mu.var(0, unbiased=False) <= threshold).sum())")),
          "q3": ("log of the normalized weights", SNW.format("log_w - torch.logsumexp(log_w, dim=0)"))},
}
BROKEN = {"q1": "def iwae_from_log_weights(log_w):\n    raise NotImplementedError('todo')\n",
               "q2": AU.format("float('nan')"),
               "q3": "raise RuntimeError('cell fails before defining it')\n" + SNW.format("torch.softmax(log_w, 0)")}
