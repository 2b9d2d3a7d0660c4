OK_FORMAT = True

test = {   'name': 'q3',
    'points': 1,
    'suites': [   {   'cases': [{'code': '>>> assert isinstance(MI_ANSWER, (int, float)) and math.isfinite(MI_ANSWER) and (MI_ANSWER > 0)\n', 'hidden': False, 'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
