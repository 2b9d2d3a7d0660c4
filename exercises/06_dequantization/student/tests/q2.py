OK_FORMAT = True

test = {   'name': 'q2',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> assert abs(float(bits_per_dim(torch.tensor(0.0, dtype=torch.float64), 64, 256)) - 8.0) < 1e-12\n'
                                               '>>> assert abs(float(bits_per_dim(torch.tensor(0.0, dtype=torch.float64), 64, 17)) - math.log2(17)) < 1e-12\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> out = bits_per_dim(torch.tensor([64.0, 0.0], dtype=torch.float64), 64, 17)\n'
                                               '>>> assert out.shape == (2,) and abs(float(out[0]) - (math.log2(17) - 1 / math.log(2))) < 1e-12\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
