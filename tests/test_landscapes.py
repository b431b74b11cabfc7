"""Tests of cs231kit.landscapes: derivatives against centered differences, the minima, the noise, the driver."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs231kit.gradcheck import numerical_gradient, relative_error
from cs231kit.landscapes import (
    Landscape,
    all_landscapes,
    ill_conditioned_quadratic,
    rosenbrock,
    run_update_rule,
    saddle,
    two_minima,
    with_gradient_noise,
)
from cs231kit.training import sgd

SMOOTH = 1e-7
"""Relative error of a centered difference (h = 1e-5) of a polynomial of degree <= 4 near the origin."""
TRUNCATION = 1e-6
"""Absolute error allowed on top: the truncation error h**2 / 6 * (third derivative) reaches ~5e-8 on
Rosenbrock's window, more than SMOOTH times a gradient entry near 0 (seen: 6e-8 on an entry of 0.09)."""
LANDSCAPES = all_landscapes()
unit = st.floats(0, 1, allow_nan=False)


def _point_in(landscape, u, v):
    """The point at fractions (u, v) of the landscape's plotting window."""
    (x_min, x_max), (y_min, y_max) = landscape.bounds
    return np.array([x_min + u * (x_max - x_min), y_min + v * (y_max - y_min)])


@settings(deadline=None, max_examples=30)
@given(name=st.sampled_from(sorted(LANDSCAPES)), u=unit, v=unit)
def test_gradient_and_hessian_equal_centered_differences(name, u, v):
    landscape = LANDSCAPES[name]
    point = _point_in(landscape, u, v)
    numerical = numerical_gradient(lambda p: landscape(p)[0], point.copy())
    _assert_agree(landscape(point)[1], numerical)
    numerical_hessian = np.array([numerical_gradient(lambda p: landscape(p)[1][i], point.copy()) for i in range(2)])
    _assert_agree(landscape.hessian(*point), numerical_hessian)


def _assert_agree(analytic, numerical):
    """``|a - n| <= SMOOTH * (|a| + |n|) + TRUNCATION`` entrywise; the message gives the relative error."""
    assert np.all(np.abs(analytic - numerical) <= SMOOTH * (np.abs(analytic) + np.abs(numerical)) + TRUNCATION), \
        f"relative error {relative_error(analytic, numerical):.2e}: {analytic} vs {numerical}"


@pytest.mark.parametrize("name", sorted(LANDSCAPES))
def test_the_minima_are_minima_and_the_first_is_the_lowest(name):
    landscape = LANDSCAPES[name]
    values = []
    for minimum in landscape.minima:
        value, gradient = landscape(minimum)
        assert np.abs(gradient).max() < 1e-12
        assert np.all(np.linalg.eigvalsh(landscape.hessian(*minimum)) > 0)
        values.append(value)
    assert values[0] == min(values)
    x, y = np.meshgrid(*[np.linspace(*bound, 301) for bound in landscape.bounds])
    assert landscape.value(x, y).min() >= values[0] - 1e-12  # nothing in the window is lower


def test_known_values():
    assert ill_conditioned_quadratic(10)((2.0, 1.0))[0] == pytest.approx(0.5 * (4 + 10))
    assert np.linalg.cond(ill_conditioned_quadratic(10).hessian(0, 0)) == pytest.approx(10)
    assert rosenbrock()((1.0, 1.0))[0] == 0 and rosenbrock(2.0, 5.0).minima == ((2.0, 4.0),)
    assert rosenbrock()((0.0, 0.0))[0] == 1.0
    value, gradient = saddle()((0.0, 0.0))
    assert value == 0 and not gradient.any()
    assert sorted(np.linalg.eigvalsh(saddle().hessian(0.0, 0.0))) == [-1.0, 1.0]  # a saddle, not a minimum
    assert saddle()((0.0, 1.0))[0] == -0.25
    (x_global, _), (x_local, _) = two_minima().minima
    assert x_global == pytest.approx(-1.1254, abs=1e-4) and x_local == pytest.approx(0.7865, abs=1e-4)


def test_values_are_vectorised_over_grids():
    x, y = np.meshgrid(np.linspace(-1, 1, 4), np.linspace(-1, 1, 3))
    for landscape in LANDSCAPES.values():
        grid = landscape.value(x, y)
        assert grid.shape == (3, 4)
        assert grid[1, 2] == pytest.approx(landscape((x[1, 2], y[1, 2]))[0])
        assert np.shape(landscape.gradient(x, y)) == (2, 3, 4)


def test_gradient_noise_is_seeded_unbiased_and_keeps_the_value():
    quadratic = ill_conditioned_quadratic()
    point = np.array([1.0, -0.5])
    first, again = with_gradient_noise(quadratic, 0.3, seed=1), with_gradient_noise(quadratic, 0.3, seed=1)
    draws = np.array([first(point)[1] for _ in range(4000)])
    np.testing.assert_array_equal(draws[:5], [again(point)[1] for _ in range(5)])
    np.testing.assert_allclose(draws.mean(axis=0), quadratic(point)[1], atol=4 * 0.3 / np.sqrt(4000))
    np.testing.assert_allclose(draws.std(axis=0), [0.3, 0.3], rtol=0.05)
    assert first(point)[0] == quadratic(point)[0] and "noisy" in first.name
    assert (first.start, first.minima, first.bounds) == (quadratic.start, quadratic.minima, quadratic.bounds)


def test_run_update_rule_records_the_start_and_every_step():
    quadratic = ill_conditioned_quadratic(4.0)
    state = {"learning_rate": 0.1}
    path = run_update_rule(sgd, quadratic, num_steps=30, state=state)
    assert path.shape == (31, 2) and path.dtype == np.float64
    np.testing.assert_array_equal(path[0], quadratic.start)
    # Gradient descent on a diagonal quadratic shrinks each coordinate by (1 - lr * curvature) per step.
    np.testing.assert_allclose(path[-1], np.array(quadratic.start) * np.array([0.9, 0.6]) ** 30, rtol=1e-12)
    assert state == {"learning_rate": 0.1}
    from_elsewhere = run_update_rule(sgd, quadratic, start=[1.0, 1.0], num_steps=1, state=state)
    np.testing.assert_allclose(from_elsewhere, [[1.0, 1.0], [0.9, 0.6]])


def test_run_update_rule_stops_at_the_last_finite_point():
    path = run_update_rule(sgd, rosenbrock(), num_steps=200, state={"learning_rate": 0.1})
    assert 1 < len(path) < 201 and np.all(np.isfinite(path))


def test_a_landscape_is_a_value_and_gradient_function():
    line = Landscape("line", lambda x, y: 2 * x + y, lambda x, y: (2.0 + 0 * x, 1.0 + 0 * y),
                     lambda x, y: np.zeros((2, 2)), (0.0, 0.0), (), ((-1, 1), (-1, 1)))
    value, gradient = line([1, 2])
    assert value == 4.0 and type(value) is float
    np.testing.assert_array_equal(gradient, [2.0, 1.0])
