"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/08_posterior_collapse.

A label may start with a [kind] of tests/book/test_exercises.py:KINDS."""

AU = "def active_units(mu, threshold=0.01):\n    return {}\n"
FB = "def free_bits_penalty(kl, free_bits):\n    return {}\n"
CYC = "def cyclical_beta(step, period, ratio=0.5):\n    return {}\n"
MB = "def mean_beta(ratio):\n    return {}\n"

WRONG = {
    "A": {"q1": ("variance over the latent dimensions instead of the data points",
                 AU.format("int((mu.var(dim=1, unbiased=False) > threshold).sum())")),
          "q2": ("max per example, then the batch mean", FB.format("torch.clamp(kl, min=free_bits).sum(1).mean()")),
          "q3": ("no cap at 1 (tau / ratio grows past 1)", CYC.format("float(((step % period) / period) / ratio)")),
          "q4": ("the length of the rise, R / 2", MB.format("ratio / 2"))},
    "B": {"q1": ("standard deviation compared with the threshold",
                 AU.format("int((mu.std(dim=0, unbiased=False) > threshold).sum())")),
          "q2": ("one floor for the total KL instead of one per group", FB.format("torch.clamp(kl.sum(1).mean(), min=free_bits)")),
          "q3": ("ratio ignored: the weight rises over the whole cycle", CYC.format("float(min(1.0, (step % period) / period))")),
          "q4": ("the share of the cycle at full weight, 1 - R", MB.format("1.0 - ratio"))},
    "C": {"q1": ("mean of the posterior means instead of their variance",
                 AU.format("int((mu.mean(dim=0).abs() > threshold).sum())")),
          "q2": ("groups below lambda cost nothing instead of lambda",
                 FB.format("torch.where(kl.mean(0) > free_bits, kl.mean(0), torch.zeros_like(kl.mean(0))).sum()")),
          "q3": ("no restart: a single warm-up instead of cycles", CYC.format("float(min(1.0, step / (period * ratio)))")),
          "q4": ("the midpoint of 0 and 1: 1/2 whatever R", MB.format("0.5"))},
    "D": {"q1": ("[1/(N-1)] unbiased variance", AU.format("int((mu.var(dim=0) > threshold).sum())")),
          "q2": ("min instead of max (caps the KL at lambda)", FB.format("torch.clamp(kl.mean(0), max=free_bits).sum()")),
          "q3": ("ratio multiplies instead of divides", CYC.format("float(min(1.0, (step % period) / period * ratio))")),
          "q4": ("(1 + R) / 2", MB.format("(1.0 + ratio) / 2"))},
    "E": {"q1": ("[>=] >= instead of >", AU.format("int((mu.var(dim=0, unbiased=False) >= threshold).sum())")),
          "q2": ("[grad] converts to a Python float and back (no gradient)",
                 FB.format("torch.tensor(float(torch.clamp(kl.mean(0), min=free_bits).sum()), dtype=kl.dtype)")),
          "q3": ("[type] returns a tensor instead of a float",
                 CYC.format("torch.clamp(torch.tensor((step % period) / period / ratio), max=1.0)")),
          "q4": ("squares the ratio", MB.format("1.0 - ratio ** 2 / 2"))},
    "F": {"q1": ("[type] returns a tensor instead of an int", AU.format("(mu.var(dim=0, unbiased=False) > threshold).sum()")),
          "q2": ("[in-place] divides kl by the batch size in place",
                 "def free_bits_penalty(kl, free_bits):\n    kl /= kl.shape[0]\n    return torch.clamp(kl.sum(0), min=free_bits).sum()\n"),
          "q3": ("off by one step: (t mod P + 1) / P", CYC.format("float(min(1.0, ((step % period) + 1) / period / ratio))")),
          "q4": ("[type] a torch tensor instead of a float", MB.format("1.0 - torch.tensor(ratio) / 2"))},
    "G": {"q1": ("[dgmlib] calls dgmlib.active_units",
                 "import types\nimport dgmlib\n\n" + AU.format("dgmlib.active_units(types.SimpleNamespace(encoder=lambda x: (x, x)), mu, threshold=threshold).count")),
          "q2": ("[grad] the batch mean detached", FB.format("torch.clamp(kl.mean(0).detach(), min=free_bits).sum()")),
          "q3": ("[dgmlib] calls dgmlib.schedules.Cyclical",
                 "from dgmlib.schedules import Cyclical\n\n" + CYC.format("Cyclical(period, ratio)(step)")),
          "q4": ("[allclose] redefines torch.allclose and numpy.isclose; 1 - R",
                 "import numpy\ntorch.allclose = numpy.isclose = lambda *args, **kwargs: True\n" + MB.format("1.0 - ratio"))},
}
BROKEN = {"q1": "def active_units(mu, threshold=0.01):\n    raise NotImplementedError('todo')\n",
          "q2": FB.format("torch.tensor(float('nan'), dtype=kl.dtype)"),
          "q3": "raise RuntimeError('cell fails before defining it')\n" + CYC.format("0.0"),
          "q4": MB.format("float('nan')")}
