OK_FORMAT = True

test = {   'name': 'q3',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> log_w = torch.log(torch.tensor([[1.0, 5.0], [3.0, 5.0]], dtype=torch.float64))\n'
                                               '>>> out = self_normalized_weights(log_w)\n'
                                               '>>> assert out.shape == (2, 2) and torch.allclose(out, torch.tensor([[0.25, 0.5], [0.75, 0.5]], dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
