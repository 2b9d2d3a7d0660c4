OK_FORMAT = True

test = {   'name': 'q2',
    'points': 3,
    'suites': [   {   'cases': [   {   'code': '>>> f = torch.cartesian_prod(torch.arange(4), torch.arange(2))\n'
                                               '>>> assert abs(float(mig(f.clone(), f)) - 1.0) < 1e-10\n'
                                               '>>> assert abs(float(mig(torch.cat([f, f], 1), f))) < 1e-10\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> f = torch.cartesian_prod(torch.arange(4), torch.arange(2))\n'
                                               '>>> codes = torch.stack([f[:, 0] * 2 + f[:, 1], torch.zeros(8, dtype=torch.int64)], 1)\n'
                                               '>>> assert abs(float(mig(codes, f)) - 1.0) < 1e-10\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
