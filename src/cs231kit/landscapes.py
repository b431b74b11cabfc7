"""Two-dimensional objectives with their gradients, and a driver that records an update rule's path.

Lecture 7 explains optimisers with pictures of a point rolling over a surface: plain SGD zig-zags
across a narrow valley, stalls at a saddle point, stops in the first local minimum it meets, while
momentum and adaptive steps do better. Each :class:`Landscape` here is one such surface
``f(x, y)``. Calling it at a point returns ``(value, gradient)``, like a loss function returns
``(loss, dW)``, so any update rule ``next_w, state = rule(w, dw, state)`` can walk on it with
:func:`run_update_rule`. ``cs231kit.vis.plot_trajectories`` draws the paths over contour lines.

All functions are vectorised: ``value``, ``gradient`` and ``hessian`` accept arrays x and y of one
shape (a whole plotting grid at once) as well as scalars.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Landscape:
    """A 2-D objective ``f(x, y)`` with its derivatives, a start point and the window worth plotting.

    Attributes
    ----------
    name : str
        Title for plots.
    value : callable
        ``value(x, y) -> f``, elementwise on arrays of equal shape.
    gradient : callable
        ``gradient(x, y) -> (df/dx, df/dy)``, elementwise.
    hessian : callable
        ``hessian(x, y) -> ndarray, shape (2, 2)`` at one point.
    start : tuple of float
        ``(x, y)`` where a path shows the landscape's character.
    minima : tuple of tuple of float
        The local minima ``(x, y)``, the global one first.
    bounds : tuple of tuple of float
        ``((x_min, x_max), (y_min, y_max))``, the window of the plots.
    """

    name: str
    value: Callable
    gradient: Callable
    hessian: Callable
    start: tuple
    minima: tuple
    bounds: tuple

    def __call__(self, point):
        """The value and the gradient at one point.

        Parameters
        ----------
        point : array_like, shape (2,)

        Returns
        -------
        value : float
        gradient : ndarray of float64, shape (2,)
        """
        x, y = np.asarray(point, dtype=np.float64)
        return float(self.value(x, y)), np.array(self.gradient(x, y), dtype=np.float64)


def ill_conditioned_quadratic(condition_number=20.0):
    """``f = (x**2 + condition_number * y**2) / 2``: a long narrow valley along x.

    The curvature across the valley (y) is ``condition_number`` times the curvature along it (x).
    A learning rate small enough not to diverge across the valley (below ``2 / condition_number``)
    crawls along it, and a larger one makes plain gradient descent zig-zag from wall to wall.

    Parameters
    ----------
    condition_number : float, optional
        Ratio of the largest to the smallest eigenvalue of the Hessian ``diag(1, condition_number)``.

    Returns
    -------
    Landscape
        Minimum at (0, 0).
    """
    k = float(condition_number)
    return Landscape(
        name=f"ill-conditioned quadratic (condition number {k:g})",
        value=lambda x, y: 0.5 * (x * x + k * y * y),
        gradient=lambda x, y: (1.0 * x, k * y),
        hessian=lambda x, y: np.diag([1.0, k]),
        start=(-4.0, 1.0),
        minima=((0.0, 0.0),),
        bounds=((-5.0, 5.0), (-2.0, 2.0)),
    )


def saddle():
    """``f = x**2 / 2 + y**4 / 4 - y**2 / 2``: a saddle point at the origin between two valleys.

    At the origin the gradient vanishes, the surface curves up along x and down along y. A path
    starting almost on the ridge ``y = 0`` feels a tiny push along y and lingers near the saddle
    before it slides into one of the minima at ``(0, 1)`` and ``(0, -1)`` (both ``f = -1/4``).

    Returns
    -------
    Landscape
    """
    return Landscape(
        name="saddle point",
        value=lambda x, y: 0.5 * x * x + 0.25 * y**4 - 0.5 * y * y,
        gradient=lambda x, y: (1.0 * x, y**3 - y),
        hessian=lambda x, y: np.array([[1.0, 0.0], [0.0, 3.0 * y * y - 1.0]]),
        start=(-2.0, 1e-3),
        minima=((0.0, 1.0), (0.0, -1.0)),
        bounds=((-2.5, 2.5), (-1.6, 1.6)),
    )


TWO_MINIMA_TILT = 0.3
"""Slope that makes the left valley of :func:`two_minima` deeper than the right one."""
_TWO_MINIMA_X = tuple(float(x) for x in np.sort(np.roots([1.0, 0.0, -1.0, TWO_MINIMA_TILT]).real)[[0, 2]])
"""The x of the global (left) and local (right) minimum: the outer roots of ``x**3 - x + tilt``."""


def two_minima():
    """``f = x**4 / 4 - x**2 / 2 + 0.3 x + y**2 / 2``: a shallow local minimum and a deeper global one.

    Gradient descent started on the right stops in the local minimum (x ≈ 0.79); with enough
    momentum the path rolls over the bump at x ≈ 0.34 into the global minimum (x ≈ -1.13).

    Returns
    -------
    Landscape
        ``minima`` lists the global minimum first.
    """
    tilt = TWO_MINIMA_TILT
    left, right = _TWO_MINIMA_X
    return Landscape(
        name="local and global minimum",
        value=lambda x, y: 0.25 * x**4 - 0.5 * x * x + tilt * x + 0.5 * y * y,
        gradient=lambda x, y: (x**3 - x + tilt, 1.0 * y),
        hessian=lambda x, y: np.array([[3.0 * x * x - 1.0, 0.0], [0.0, 1.0]]),
        start=(2.0, 1.5),
        minima=((left, 0.0), (right, 0.0)),
        bounds=((-2.0, 2.3), (-1.8, 1.8)),
    )


def rosenbrock(a=1.0, b=100.0):
    """Rosenbrock's banana ``f = (a - x)**2 + b (y - x**2)**2``: a curved, flat-bottomed valley.

    Parameters
    ----------
    a, b : float, optional
        The minimum is at ``(a, a**2)``; b sets how steep the valley walls are.

    Returns
    -------
    Landscape
    """
    return Landscape(
        name=f"Rosenbrock (a={a:g}, b={b:g})",
        value=lambda x, y: (a - x) ** 2 + b * (y - x * x) ** 2,
        gradient=lambda x, y: (-2.0 * (a - x) - 4.0 * b * x * (y - x * x), 2.0 * b * (y - x * x)),
        hessian=lambda x, y: np.array([[2.0 - 4.0 * b * (y - 3.0 * x * x), -4.0 * b * x], [-4.0 * b * x, 2.0 * b]]),
        start=(-1.2, 1.0),
        minima=((a, a * a),),
        bounds=((-2.0, 2.0), (-1.0, 3.0)),
    )


def with_gradient_noise(landscape, scale, *, seed=0):
    """The same landscape whose gradient has Gaussian noise added, like a minibatch gradient.

    The noise comes from a generator owned by the returned landscape, so each call of its gradient
    draws new noise. Build a fresh one with the same seed for every run that should see the same noise.

    Parameters
    ----------
    landscape : Landscape
    scale : float
        Standard deviation of the noise of each component.
    seed : int, optional

    Returns
    -------
    Landscape
        Same value, Hessian, start, minima and bounds; the name says "noisy".
    """
    rng = np.random.default_rng(seed)

    def noisy_gradient(x, y):
        dx, dy = landscape.gradient(x, y)
        return dx + scale * rng.standard_normal(np.shape(dx)), dy + scale * rng.standard_normal(np.shape(dy))

    return Landscape(f"{landscape.name}, noisy gradient (std {scale:g})", landscape.value, noisy_gradient,
                     landscape.hessian, landscape.start, landscape.minima, landscape.bounds)


def all_landscapes():
    """The lecture's four pictures, in order: ill-conditioned quadratic, saddle, two minima, Rosenbrock.

    Returns
    -------
    dict
        ``short name -> Landscape``.
    """
    return {"quadratic": ill_conditioned_quadratic(), "saddle": saddle(), "two minima": two_minima(),
            "rosenbrock": rosenbrock()}


def run_update_rule(rule, landscape, *, start=None, num_steps=100, state=None):
    """Walk ``num_steps`` steps of an update rule on a landscape and return the points visited.

    Parameters
    ----------
    rule : callable
        ``next_w, next_state = rule(w, dw, state)`` with w and dw of shape (2,).
    landscape : Landscape
    start : array_like, shape (2,), optional
        Defaults to ``landscape.start``.
    num_steps : int, optional
    state : dict, optional
        The first state (hyperparameters such as ``{"learning_rate": 0.1}``); not mutated.

    Returns
    -------
    path : ndarray of float64, shape (K + 1, 2)
        The start point, then the point after every step. K = num_steps, unless a point stops
        being finite (a diverging learning rate), where the path ends with its last finite point.
    """
    w = np.array(landscape.start if start is None else start, dtype=np.float64)
    path = [w]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(num_steps):
            w, state = rule(w, landscape(w)[1], state)
            if not np.all(np.isfinite(w)):
                break
            path.append(np.array(w, dtype=np.float64))
    return np.array(path)
