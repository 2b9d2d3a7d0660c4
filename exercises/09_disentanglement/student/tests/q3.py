OK_FORMAT = True

test = {   'name': 'q3',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> out = beta_vae_objective(torch.tensor([-3.0, -5.0], dtype=torch.float64), torch.zeros(2, 4, dtype=torch.float64), torch.zeros(2, 4, '
                                               'dtype=torch.float64), 7.0)\n'
                                               '>>> assert out.shape == (2,) and torch.allclose(out, torch.tensor([-3.0, -5.0], dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> out = beta_vae_objective(torch.tensor([-1.0], dtype=torch.float64), torch.ones(1, 10, dtype=torch.float64), torch.zeros(1, 10, '
                                               'dtype=torch.float64), 4.0)\n'
                                               '>>> assert abs(float(out[0]) - -21.0) < 1e-10\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
