OK_FORMAT = True

test = {   'name': 'q2',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> q = [(torch.ones(1, 10, dtype=torch.float64), torch.zeros(1, 10, dtype=torch.float64)), (torch.zeros(1, 3, dtype=torch.float64), torch.zeros(1, 3, '
                                               'dtype=torch.float64))]\n'
                                               '>>> p = [(torch.zeros(1, 10, dtype=torch.float64), torch.zeros(1, 10, dtype=torch.float64)), (torch.zeros(1, 3, dtype=torch.float64), torch.zeros(1, '
                                               '3, dtype=torch.float64))]\n'
                                               '>>> out = kl_per_layer(q, p)\n'
                                               '>>> assert out.shape == (2, 1) and torch.allclose(out, torch.tensor([[5.0], [0.0]], dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
