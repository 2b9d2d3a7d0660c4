"""Plausible wrong answers (WRONG: variant -> question -> (label, answer cell)) and answers
that raise or return NaN (BROKEN: question -> answer cell) for exercises/05_flows."""
# The wrong answers to q2 take u_hat as given, so they are judged whatever the submission's q1.

UHAT = ("def planar_u_hat(u, w):\n"
        "    wu = (w * u).sum(-1, keepdim=True)\n"
        "    return u + ({} - wu) * w / {}\n")
PLANAR = ("def planar_forward(z, u_hat, w, b):\n"
          "    t = torch.tanh((z * w).sum(-1, keepdim=True) + b)\n"
          "    psi = {} * w\n"
          "    return z + u_hat * t, {}\n")
HOUSE = "def householder(z, v):\n    return {}\n"
SYLV = "def sylvester_log_det(r_diag, r_tilde_diag, h_prime):\n    return {}\n"

WRONG = {
    "A": {"q1": ("divides by ||w|| instead of ||w||^2", UHAT.format("(-1.0 + F.softplus(wu))", "w.norm()")),
          "q2": ("log-det without the absolute value", PLANAR.format("(1.0 - t * t)", "torch.log(1.0 + (psi * u_hat).sum(-1))")),
          "q3": ("v not normalized", HOUSE.format("z - 2.0 * v * (z * v).sum(-1, keepdim=True)")),
          "q4": ("missing the absolute value", SYLV.format("torch.log(1.0 + r_diag * r_tilde_diag * h_prime).sum(-1)"))},
    "B": {"q1": ("m(a) = softplus(a), missing the -1", UHAT.format("F.softplus(wu)", "(w * w).sum()")),
          "q2": ("tanh' written as 1 - tanh", PLANAR.format("(1.0 - t)", "torch.log(torch.abs(1.0 + (psi * u_hat).sum(-1)))")),
          "q3": ("sign error", HOUSE.format("z + 2.0 * v * (z * v).sum(-1, keepdim=True) / (v * v).sum()")),
          "q4": ("product without the log", SYLV.format("torch.abs(1.0 + r_diag * r_tilde_diag * h_prime).prod(-1)"))},
    "C": {"q1": ("log(1 + exp(a)) overflows", UHAT.format("(-1.0 + torch.log(1.0 + torch.exp(wu)))", "(w * w).sum()")),
          "q2": ("forgets the log", PLANAR.format("(1.0 - t * t)", "torch.abs(1.0 + (psi * u_hat).sum(-1))")),
          "q3": ("divides by ||v|| instead of ||v||^2", HOUSE.format("z - 2.0 * v * (z * v).sum(-1, keepdim=True) / v.norm()")),
          "q4": ("sums over the batch instead of the factors", SYLV.format("torch.log(torch.abs(1.0 + r_diag * r_tilde_diag * h_prime)).sum(0)"))},
    "D": {"q1": ("missing the division by ||w||^2", UHAT.format("(-1.0 + F.softplus(wu))", "1.0")),
          "q4": ("log of the product underflows", SYLV.format("torch.log(torch.abs(1.0 + r_diag * r_tilde_diag * h_prime).prod(-1))"))},
}
BROKEN = {"q1": "def planar_u_hat(u, w):\n    raise NotImplementedError('todo')\n",
                "q2": PLANAR.format("(1.0 - t * t)", "torch.full(z.shape[:-1], float('nan'), dtype=z.dtype)"),
                "q3": "raise RuntimeError('cell fails before defining it')\n" + HOUSE.format("z"),
                "q4": SYLV.format("torch.full(h_prime.shape[:-1], float('nan'), dtype=h_prime.dtype)")}
