OK_FORMAT = True

test = {   'name': 'q1',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> log_q = torch.tensor([-1.0, -2.0, -3.0], dtype=torch.float64)\n'
                                               '>>> out = torch.as_tensor(barber_agakov(log_q, 3.0))\n'
                                               '>>> assert out.dim() == 0 and torch.allclose(out, torch.tensor(1.0, dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
