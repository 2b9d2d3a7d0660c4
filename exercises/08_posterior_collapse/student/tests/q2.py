OK_FORMAT = True

test = {   'name': 'q2',
    'points': 3,
    'suites': [   {   'cases': [   {   'code': '>>> kl = torch.tensor([[3.0, 0.9], [1.0, 0.1]], dtype=torch.float64)\n'
                                               '>>> out = free_bits_penalty(kl, 1.0)\n'
                                               '>>> assert out.shape == () and abs(float(out) - 3.0) < 1e-12\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> kl = torch.tensor([[0.2, 0.4, 1.0], [0.6, 0.0, 2.0]], dtype=torch.float64)\n>>> assert abs(float(free_bits_penalty(kl, 0.0)) - 2.1) < 1e-12\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
