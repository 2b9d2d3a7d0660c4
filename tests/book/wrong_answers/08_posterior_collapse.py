"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/08_posterior_collapse."""

AU = "def active_units(mu, threshold=0.01):\n    return {}\n"
FB = "def free_bits_penalty(kl, free_bits):\n    return {}\n"
CYC = "def cyclical_beta(step, period, ratio=0.5):\n    return {}\n"

WRONG = {
    "A": {"q1": ("variance over the latent dimensions instead of the data points",
                 AU.format("int((mu.var(dim=1, unbiased=False) > threshold).sum())")),
          "q2": ("max per example, then the batch mean", FB.format("torch.clamp(kl, min=free_bits).sum(1).mean()")),
          "q3": ("no cap at 1 (tau / ratio grows past 1)", CYC.format("float(((step % period) / period) / ratio)"))},
    "B": {"q1": ("standard deviation compared with the threshold",
                 AU.format("int((mu.std(dim=0, unbiased=False) > threshold).sum())")),
          "q2": ("one floor for the total KL instead of one per group", FB.format("torch.clamp(kl.sum(1).mean(), min=free_bits)")),
          "q3": ("ratio ignored: the weight rises over the whole cycle", CYC.format("float(min(1.0, (step % period) / period))"))},
    "C": {"q1": ("mean of the posterior means instead of their variance",
                 AU.format("int((mu.mean(dim=0).abs() > threshold).sum())")),
          "q2": ("groups below lambda cost nothing instead of lambda",
                 FB.format("torch.where(kl.mean(0) > free_bits, kl.mean(0), torch.zeros_like(kl.mean(0))).sum()")),
          "q3": ("no restart: a single warm-up instead of cycles", CYC.format("float(min(1.0, step / (period * ratio)))"))},
    "D": {"q2": ("min instead of max (caps the KL at lambda)", FB.format("torch.clamp(kl.mean(0), max=free_bits).sum()")),
          "q3": ("ratio multiplies instead of divides", CYC.format("float(min(1.0, (step % period) / period * ratio))"))},
}
BROKEN = {"q1": "def active_units(mu, threshold=0.01):\n    raise NotImplementedError('todo')\n",
          "q2": FB.format("torch.tensor(float('nan'), dtype=kl.dtype)"),
          "q3": "raise RuntimeError('cell fails before defining it')\n" + CYC.format("0.0")}
