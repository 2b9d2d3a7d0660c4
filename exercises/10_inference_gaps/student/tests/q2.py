OK_FORMAT = True

test = {   'name': 'q2',
    'points': 2,
    'suites': [   {   'cases': [   {'code': '>>> out = infonce(torch.zeros(4, 4, dtype=torch.float64))\n>>> assert out.dim() == 0 and abs(out.item()) < 1e-12\n', 'hidden': False, 'locked': False},
                                   {'code': '>>> out = infonce(100 * torch.eye(4, dtype=torch.float64))\n>>> assert abs(out.item() - math.log(4)) < 1e-06\n', 'hidden': False, 'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
