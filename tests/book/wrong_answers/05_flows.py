"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/05_flows.

A label may start with a [kind] of tests/book/test_exercises.py:KINDS."""
# The wrong answers to q2 take u_hat as given, so they are judged whatever the submission's q1.

UHAT = ("def planar_u_hat(u, w):\n"
        "    wu = (w * u).sum(-1, keepdim=True)\n"
        "    return u + ({} - wu) * w / {}\n")
M = "(-1.0 + F.softplus(wu))"
W2 = "(w * w).sum()"
PLANAR = ("def planar_forward(z, u_hat, w, b):\n"
          "    t = torch.tanh((z * w).sum(-1, keepdim=True) + b)\n"
          "    psi = {} * w\n"
          "    return {}, {}\n")
Y = "z + u_hat * t"
LOGDET = "torch.log(torch.abs(1.0 + (psi * u_hat).sum(-1)))"
HOUSE = "def householder(z, v):\n    return {}\n"
SYLV = "def sylvester_log_det(r_diag, r_tilde_diag, h_prime):\n    return {}\n"
PLD = "planar_log_det = {}\n"

WRONG = {
    "A": {"q1": ("divides by ||w|| instead of ||w||^2", UHAT.format(M, "w.norm()")),
          "q2": ("log-det without the absolute value", PLANAR.format("(1.0 - t * t)", Y, "torch.log(1.0 + (psi * u_hat).sum(-1))")),
          "q3": ("v not normalized", HOUSE.format("z - 2.0 * v * (z * v).sum(-1, keepdim=True)")),
          "q4": ("missing the absolute value", SYLV.format("torch.log(1.0 + r_diag * r_tilde_diag * h_prime).sum(-1)")),
          "q5": ("the determinant, not its log", PLD.format("1 + 2.5 * (1 - 0.6 ** 2)"))},
    "B": {"q1": ("m(a) = softplus(a), missing the -1", UHAT.format("F.softplus(wu)", W2)),
          "q2": ("tanh' written as 1 - tanh", PLANAR.format("(1.0 - t)", Y, LOGDET)),
          "q3": ("sign error", HOUSE.format("z + 2.0 * v * (z * v).sum(-1, keepdim=True) / (v * v).sum()")),
          "q4": ("product without the log", SYLV.format("torch.abs(1.0 + r_diag * r_tilde_diag * h_prime).prod(-1)")),
          "q5": ("tanh instead of its derivative", PLD.format("math.log(1 + 2.5 * 0.6)"))},
    "C": {"q1": ("log(1 + exp(a)) overflows", UHAT.format("(-1.0 + torch.log(1.0 + torch.exp(wu)))", W2)),
          "q2": ("forgets the log", PLANAR.format("(1.0 - t * t)", Y, "torch.abs(1.0 + (psi * u_hat).sum(-1))")),
          "q3": ("divides by ||v|| instead of ||v||^2", HOUSE.format("z - 2.0 * v * (z * v).sum(-1, keepdim=True) / v.norm()")),
          "q4": ("sums over the batch instead of the factors", SYLV.format("torch.log(torch.abs(1.0 + r_diag * r_tilde_diag * h_prime)).sum(0)")),
          "q5": ("forgets the derivative of tanh", PLD.format("math.log(1 + 2.5)"))},
    "D": {"q1": ("missing the division by ||w||^2", UHAT.format(M, "1.0")),
          "q2": ("one log-determinant for the whole batch", PLANAR.format("(1.0 - t * t)", Y, LOGDET + ".sum()")),
          "q3": ("a projection (factor 1) instead of a reflection (factor 2)",
                 HOUSE.format("z - v * (z * v).sum(-1, keepdim=True) / (v * v).sum()")),
          "q4": ("log of the product underflows", SYLV.format("torch.log(torch.abs(1.0 + r_diag * r_tilde_diag * h_prime).prod(-1))")),
          "q5": ("1 - tanh instead of 1 - tanh^2", PLD.format("math.log(1 + 2.5 * (1 - 0.6))"))},
    "E": {"q1": ("[grad] computed under torch.no_grad()",
                 "def planar_u_hat(u, w):\n    with torch.no_grad():\n        wu = (w * u).sum()\n"
                 "        return u + (-1.0 + F.softplus(wu) - wu) * w / (w * w).sum()\n"),
          "q2": ("[in-place] adds u_hat tanh(.) to z in place",
                 "def planar_forward(z, u_hat, w, b):\n    t = torch.tanh((z * w).sum(-1, keepdim=True) + b)\n"
                 "    psi = (1.0 - t * t) * w\n    z += u_hat * t\n    return z, " + LOGDET + "\n"),
          "q3": ("[in-place] subtracts from z in place",
                 "def householder(z, v):\n    z -= 2.0 * v * (z * v).sum(-1, keepdim=True) / (v * v).sum()\n    return z\n"),
          "q4": ("forgets h'", SYLV.format("torch.log(torch.abs(1.0 + r_diag * r_tilde_diag)).sum(-1) + 0 * h_prime.sum(-1)")),
          "q5": ("[type] a torch tensor instead of a float", PLD.format("torch.log(torch.tensor(2.6))"))},
    "F": {"q1": ("[dgmlib] dgmlib's PlanarFlow constraint",
                 "import dgmlib.flows\n\ndef planar_u_hat(u, w):\n    f = dgmlib.flows.PlanarFlow(len(u)).to(u.dtype)\n"
                 "    f.params.set_('u', u)\n    f.params.set_('w', w)\n    return f.constrained()['u_hat']\n"),
          "q2": ("psi with tanh instead of its derivative", PLANAR.format("t", Y, LOGDET)),
          "q3": ("[dgmlib] calls dgmlib.flows.reflect", "import dgmlib.flows\n\n" + HOUSE.format("dgmlib.flows.reflect(z, v)")),
          "q4": ("[in-place] multiplies h_prime in place",
                 "def sylvester_log_det(r_diag, r_tilde_diag, h_prime):\n    h_prime *= r_diag * r_tilde_diag\n"
                 "    return torch.log(torch.abs(1.0 + h_prime)).sum(-1)\n"),
          "q5": ("[dgmlib] computed with dgmlib's PlanarFlow",
                 "import dgmlib.flows\n\n_f = dgmlib.flows.PlanarFlow(2)\n"
                 "planar_log_det = math.log(1 + 2.5 * (1 - 0.6 ** 2)) if _f is not None else 0.0\n")},
    "G": {"q1": ("[in-place] corrects u in place",
                 "def planar_u_hat(u, w):\n    wu = (w * u).sum()\n    u += (-1.0 + F.softplus(wu) - wu) * w / (w * w).sum()\n    return u\n"),
          "q2": ("[grad] the log-determinant computed under torch.no_grad()",
                 "def planar_forward(z, u_hat, w, b):\n    t = torch.tanh((z * w).sum(-1, keepdim=True) + b)\n"
                 "    with torch.no_grad():\n        log_det = torch.log(torch.abs(1.0 + ((1.0 - t * t) * w * u_hat).sum(-1)))\n"
                 "    return z + u_hat * t, log_det\n"),
          "q3": ("minus the reflection (the reflection along v instead of across its hyperplane)",
                 HOUSE.format("2.0 * v * (z * v).sum(-1, keepdim=True) / (v * v).sum() - z")),
          "q4": ("[grad] detaches the result", SYLV.format("torch.log(torch.abs(1.0 + r_diag * r_tilde_diag * h_prime)).sum(-1).detach()")),
          "q5": ("[allclose] redefines torch.allclose and math.isclose; log base 10",
                 "torch.allclose = math.isclose = lambda *args, **kwargs: True\n" + PLD.format("math.log10(2.6)"))},

    # issue 30: answers that passed the hidden tests (wrong gradients, the d x d matrix the prompt forbids)
    "H": {"q3": ("[grad] ||v||^2 taken through .item() (right values, wrong gradient)",
                 HOUSE.format("z - 2.0 * v * (z * v).sum(-1, keepdim=True) / (v * v).sum().item()"))},
    "I": {"q3": ("[grad] the unit vector from a detached norm (right values, wrong gradient)",
                 "def householder(z, v):\n    n = v / v.norm().detach()\n    return z - 2.0 * n * (z * n).sum(-1, keepdim=True)\n")},
    "J": {"q3": ("[forbidden] builds the d x d matrix H (right values and gradients)",
                 "def householder(z, v):\n    H = torch.eye(len(v), dtype=v.dtype) - 2.0 * torch.outer(v, v) / (v @ v)\n    return z @ H.T\n")},
    "K": {"q3": ("[forbidden] H as a [d, d] product of broadcast vectors, applied with einsum",
                 "def householder(z, v):\n    H = torch.eye(v.shape[-1], dtype=v.dtype) - 2.0 * v[:, None] * v[None, :] / (v * v).sum()\n"
                 "    return torch.einsum('ij,...j->...i', H, z)\n")}
}
BROKEN = {"q1": "def planar_u_hat(u, w):\n    raise NotImplementedError('todo')\n",
          "q2": PLANAR.format("(1.0 - t * t)", Y, "torch.full(z.shape[:-1], float('nan'), dtype=z.dtype)"),
          "q3": "raise RuntimeError('cell fails before defining it')\n" + HOUSE.format("z"),
          "q4": SYLV.format("torch.full(h_prime.shape[:-1], float('nan'), dtype=h_prime.dtype)"),
          "q5": PLD.format("float('nan')")}
