OK_FORMAT = True

test = {   'name': 'q4',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> r, r_tilde = (torch.tensor([0.5, -2.0], dtype=torch.float64), torch.tensor([1.0, 1.5], dtype=torch.float64))\n'
                                               '>>> out = sylvester_log_det(r, r_tilde, torch.tensor([[1.0, 0.5], [0.25, 1.0], [0.0, 0.0]], dtype=torch.float64))\n'
                                               '>>> assert out.shape == (3,) and torch.allclose(out, torch.tensor([math.log(0.75), math.log(2.25), 0.0], dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> out = sylvester_log_det(torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64), torch.tensor([1.0, 0.5, 3.0], dtype=torch.float64), '
                                               'torch.tensor([1.0, 0.5, 1.0], dtype=torch.float64))\n'
                                               '>>> assert out.shape == () and abs(float(out) - math.log(2 * 1.5 * 2)) < 1e-12\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
