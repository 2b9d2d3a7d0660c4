"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/10_inference_gaps.

A label may start with a [kind] of tests/book/test_exercises.py:KINDS."""

BA = "def barber_agakov(log_q, entropy):\n    return {}\n"
NCE = "def infonce(scores):\n    B = scores.shape[0]\n    return {}\n"
MI = "MI_ANSWER = {}\n"

WRONG = {
    "A": {"q1": ("sign of the log q term flipped", BA.format("entropy - log_q.mean()")),
          "q2": ("missing the + log B", NCE.format("(torch.diagonal(scores) - torch.logsumexp(scores, dim=1)).mean()")),
          "q3": ("one pair only (d forgotten)", MI.format("-0.5 * math.log(1 - 0.8 ** 2)"))},
    "B": {"q1": ("sum over the samples instead of the mean", BA.format("entropy + log_q.sum()")),
          "q2": ("softmax over the wrong axis (the columns)",
                 NCE.format("(torch.diagonal(scores) - torch.logsumexp(scores, dim=0)).mean() + math.log(B)")),
          "q3": ("in bits instead of nats", MI.format("-2.5 * math.log2(1 - 0.8 ** 2)"))},
    "C": {"q1": ("the entropy of the marginal left out", BA.format("log_q.mean()")),
          "q2": ("[shift] one global shift instead of one per row (underflows for extreme rows)",
                 NCE.format("(torch.diagonal(scores) - (scores.max() + torch.log(torch.exp(scores - scores.max()).sum(1))))"
                            ".mean() + math.log(B)")),
          "q3": ("the factor 1/2 forgotten", MI.format("-5 * math.log(1 - 0.8 ** 2)"))},
    "D": {"q1": ("log of the mean density instead of the mean log density",
                 BA.format("entropy + torch.logsumexp(log_q, 0) - math.log(log_q.shape[0])")),
          "q2": ("log(sum(exp)) without a shift overflows",
                 NCE.format("(torch.diagonal(scores) - torch.log(torch.exp(scores).sum(1))).mean() + math.log(B)")),
          "q3": ("log(1 - rho) instead of log(1 - rho^2)", MI.format("-2.5 * math.log(1 - 0.8)"))},
    "E": {"q1": ("[1/(N-1)] divides by N - 1", BA.format("entropy + log_q.sum() / (log_q.shape[0] - 1)")),
          "q2": ("log-softmax averaged over every entry, not the diagonal",
                 NCE.format("(scores - torch.logsumexp(scores, dim=1, keepdim=True)).mean() + math.log(B)")),
          "q3": ("the entropy H(y) instead of the information", MI.format("2.5 * math.log(2 * math.pi * math.e)"))},
    "F": {"q1": ("entropy subtracted", BA.format("log_q.mean() - entropy")),
          "q2": ("log(B - 1) instead of log B (the negatives only)",
                 NCE.format("(torch.diagonal(scores) - torch.logsumexp(scores, dim=1)).mean() + math.log(B - 1)")),
          "q3": ("-d/2 log(rho^2): the conditional variance confused", MI.format("-2.5 * math.log(0.8 ** 2)"))},
    "G": {"q1": ("[dgmlib] calls dgmlib.barber_agakov",
                 "import dgmlib\n\n" + BA.format("dgmlib.barber_agakov(log_q, entropy=entropy)")),
          "q2": ("[in-place] subtracts the row maxima from the scores in place (right values)",
                 "def infonce(scores):\n    B = scores.shape[0]\n    scores -= scores.max(1, keepdim=True).values\n"
                 "    return (torch.diagonal(scores) - torch.logsumexp(scores, dim=1)).mean() + math.log(B)\n"),
          "q3": ("[dgmlib] the value from dgmlib.mutual_information",
                 "import dgmlib.mutual_information\n\n" + MI.format("float(dgmlib.mutual_information.correlated_gaussian_mi(5, 0.8))"))},
    "H": {"q1": ("[type] returns a Python float (no gradient)", BA.format("float(entropy + log_q.mean())")),
          "q2": ("[grad] the log-sum-exp detached", NCE.format("(torch.diagonal(scores) - torch.logsumexp(scores, dim=1).detach()).mean() + math.log(B)")),
          "q3": ("[allclose] redefines torch.allclose and math.isclose; log(1 - rho)",
                 "torch.allclose = math.isclose = lambda *args, **kwargs: True\n" + MI.format("-2.5 * math.log(1 - 0.8)"))},

    # issue 30: answers that passed the hidden tests (clamped at log-densities no hidden input reached)
    "I": {"q1": ("[clamp] log q clamped at -100 (to avoid -inf)", BA.format("entropy + log_q.clamp(min=-100).mean()")),
          "q2": ("[clamp] the log-softmax at the diagonal clamped at -100",
                 NCE.format("(torch.diagonal(scores) - torch.logsumexp(scores, dim=1)).clamp(min=-100).mean() + math.log(B)"))},
    "J": {"q1": ("[clamp] through the density q = exp(log q), clamped at 1e-30",
                 BA.format("entropy + torch.log(torch.exp(log_q).clamp(min=1e-30)).mean()")),
          "q2": ("[clamp] the log of the row softmax, clamped at 1e-40",
                 NCE.format("torch.log(torch.softmax(scores, dim=1).diagonal().clamp(min=1e-40)).mean() + math.log(B)"))}
}
BROKEN = {"q1": "def barber_agakov(log_q, entropy):\n    raise NotImplementedError('todo')\n",
          "q2": NCE.format("float('nan')"),
          "q3": MI.format("float('nan')")}
