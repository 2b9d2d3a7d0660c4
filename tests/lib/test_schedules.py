import pytest

from dgmlib.schedules import Constant, Cyclical, LinearWarmup, Staircase, make_schedule


def test_linear_warmup_hits_its_endpoints_and_is_linear_between():
    s = LinearWarmup(100, start=0.1, end=1.0)
    assert s(0) == pytest.approx(0.1) and s(100) == 1.0 and s(10_000) == 1.0
    assert s(50) == pytest.approx(0.55)
    values = [s(t) for t in range(101)]
    assert all(b >= a for a, b in zip(values, values[1:]))
    diffs = [b - a for a, b in zip(values, values[1:])]
    assert max(diffs) - min(diffs) < 1e-12


def test_warmup_of_zero_steps_is_the_constant_end_value():
    assert LinearWarmup(0)(0) == 1.0 and LinearWarmup(0, end=0.3)(5) == 0.3


def test_cyclical_restarts_every_period_and_holds_the_end_value_after_the_ratio():
    s = Cyclical(period=100, ratio=0.5)
    for cycle in range(3):
        t0 = 100 * cycle
        assert s(t0) == 0.0
        assert s(t0 + 25) == pytest.approx(0.5)
        assert s(t0 + 50) == 1.0 and s(t0 + 99) == 1.0
    assert [s(t) for t in range(100)] == [s(t) for t in range(300, 400)]


def test_cyclical_with_ratio_one_rises_over_the_whole_cycle_and_honours_start_end():
    s = Cyclical(period=10, ratio=1.0, start=0.2, end=0.8)
    assert s(0) == pytest.approx(0.2) and s(5) == pytest.approx(0.5) and s(9) == pytest.approx(0.74)
    assert s(10) == pytest.approx(0.2)


def test_staircase_holds_the_linear_warm_up_of_each_stair_end_over_the_stair():
    s = Staircase(steps=100, stair=25)
    assert [s(t) for t in (0, 24, 25, 49, 50, 75, 99, 100, 10_000)] == [0.25, 0.25, 0.5, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0]
    assert all(s(t) == LinearWarmup(100)(min(100, (t // 25 + 1) * 25)) for t in range(200))
    assert Staircase(0, 5)(0) == 1.0 and Staircase(10, 10, start=0.5, end=0.7)(3) == pytest.approx(0.7)
    assert make_schedule("staircase", steps=4, stair=2)(1) == 0.5
    with pytest.raises(ValueError, match="stair"):
        Staircase(10, 0)


def test_constant_and_make_schedule():
    assert Constant(0.7)(0) == 0.7 and Constant(0.7)(12345) == 0.7
    assert make_schedule("linear", steps=4)(2) == 0.5
    assert make_schedule("cyclical", period=4, ratio=0.5)(1) == 0.5
    assert make_schedule("constant", value=2.0)(3) == 2.0


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown schedule"):
        make_schedule("cosine")
    with pytest.raises(ValueError, match="steps"):
        LinearWarmup(-1)
    with pytest.raises(ValueError, match="period"):
        Cyclical(0)
    with pytest.raises(ValueError, match="ratio"):
        Cyclical(10, ratio=0.0)
    with pytest.raises(ValueError, match="step"):
        LinearWarmup(10)(-1)
