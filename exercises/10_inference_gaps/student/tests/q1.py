from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 10

@test_case(points=1, hidden=False)
def test_the_check_of_the_prompt(barber_agakov):
    """log q = (-1, -2, -3) and H(y) = 3 nats: 3 + (-2) = 1 nat, a 0-dimensional tensor."""
    import torch
    out = barber_agakov(torch.tensor([-1.0, -2.0, -3.0], dtype=torch.float64), 3.0)
    assert isinstance(out, torch.Tensor) and out.dim() == 0 and (abs(float(out) - 1.0) < 1e-12), 'expected a 0-dimensional tensor holding 1'

@test_case(points=1, hidden=False)
def test_the_mean_of_the_logs(barber_agakov):
    """Two samples: the average divides by N = 2; the mean of the logs, not the log of the mean density."""
    import torch
    out = barber_agakov(torch.tensor([-10.0, 0.0], dtype=torch.float64), 1.0)
    assert abs(float(out) + 4.0) < 1e-12, 'expected -4'

