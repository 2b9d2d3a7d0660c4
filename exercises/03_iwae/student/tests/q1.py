OK_FORMAT = True

test = {   'name': 'q1',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> log_w = torch.log(torch.tensor([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [6.0, 5.0]], dtype=torch.float64))\n'
                                               '>>> out = iwae_from_log_weights(log_w)\n'
                                               '>>> assert out.shape == (2,) and torch.allclose(out, torch.log(torch.tensor([3.0, 5.0], dtype=torch.float64)))\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> log_w = torch.tensor([[-10000.0], [-10000.0 + math.log(3.0)]], dtype=torch.float64)\n'
                                               '>>> out = iwae_from_log_weights(log_w)\n'
                                               '>>> assert out.shape == (1,) and torch.allclose(out, torch.tensor([-10000.0 + math.log(2.0)], dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
