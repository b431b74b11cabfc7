"""Interactive playgrounds: a linear classifier on 2-D points, and an update rule on a 2-D landscape.

Both take the student's own functions as arguments (a loss ``loss, dW = loss_fn(W, X, y, reg)``, an
update rule ``next_w, state = rule(w, dw, state)``) and keep their state in a small object whose
methods are plain numpy: tests and notebooks can drive a playground without any widget.

:func:`linear_classifier_playground` and :func:`optimizer_playground` show the playground: a
matplotlib figure displayed as an ordinary output (so it stays visible, as a static picture, in
nbconvert, nbgrader's feedback HTML or a plain Python session) and, where ipywidgets and a kernel
are available, sliders and buttons below it that change the state and redraw the figure in place.
The returned playground holds its controls in ``playground.controls`` (name -> widget; empty when
there are no widgets): setting ``controls["learning_rate"].value`` has the same effect as moving
the slider.
"""

import matplotlib.pyplot as plt
import numpy as np

from cs231kit.landscapes import all_landscapes, run_update_rule
from cs231kit.vis import plot_loss_history, plot_trajectories

POINT_COLORS = ("tab:red", "tab:green", "tab:blue")
CONTROLS_TEXT = "(interactive controls: open the notebook in JupyterLab and run this cell to use them)"


def three_class_points(num_per_class=20, *, seed=0):
    """Three 2-D clusters, one per class, like the points of the lecture's linear-classifier demo.

    Parameters
    ----------
    num_per_class : int, optional
    seed : int, optional

    Returns
    -------
    X : ndarray, float64, (N, 2)
        N = 3 * num_per_class; the cluster centres are on a circle of radius 2, spread 0.8.
    y : ndarray, int64, (N,)
        Class 0, 1 or 2.
    """
    rng = np.random.default_rng(seed)
    angles = np.array([90.0, 210.0, 330.0]) * np.pi / 180
    centres = 2.0 * np.column_stack([np.cos(angles), np.sin(angles)])
    y = np.repeat(np.arange(3), num_per_class)
    return centres[y] + 0.8 * rng.standard_normal((len(y), 2)), y


class LinearPlayground:
    """A linear classifier of 2-D points with the bias trick: scores ``[x, y, 1] @ W``, W (3, C).

    Parameters
    ----------
    loss_functions : dict
        ``name -> loss_fn`` with ``loss, dW = loss_fn(W, X, y, reg)``, X (N, 3) with a column of ones.
    X : ndarray, (N, 2), optional
        Default :func:`three_class_points`.
    y : ndarray of int, (N,), optional
    seed : int, optional
        Seed of the initial weights, ``0.5 * N(0, 1)``.

    Attributes
    ----------
    W : ndarray, float64, (3, C)
        Rows: the weights of x, of y, and the biases.
    loss_name : str
        The selected loss function (the first one at first).
    reg, learning_rate : float
    history : list of float
        The loss before every gradient step taken so far.
    """

    def __init__(self, loss_functions, X=None, y=None, *, seed=0):
        if X is None:
            X, y = three_class_points(seed=seed)
        self.loss_functions = dict(loss_functions)
        self.X = np.asarray(X, dtype=np.float64)
        self.y = np.asarray(y)
        self.X_bias = np.hstack([self.X, np.ones((len(self.X), 1))])
        num_classes = int(self.y.max()) + 1
        self.W = 0.5 * np.random.default_rng(seed).standard_normal((3, num_classes))
        self.loss_name = next(iter(self.loss_functions))
        self.reg, self.learning_rate = 0.1, 0.1
        self.history = []

    def loss(self):
        """The selected loss (data loss + penalty) at the current W."""
        return float(self.loss_functions[self.loss_name](self.W, self.X_bias, self.y, self.reg)[0])

    def step(self, num_steps=1):
        """Take gradient steps ``W -= learning_rate * dW`` with the selected loss; returns the new loss."""
        for _ in range(num_steps):
            loss, dW = self.loss_functions[self.loss_name](self.W, self.X_bias, self.y, self.reg)
            self.history.append(float(loss))
            self.W = self.W - self.learning_rate * dW
        return self.loss()

    def predict(self, points):
        """The class with the highest score for each of ``points`` (M, 2): ndarray of int (M,)."""
        points = np.asarray(points, dtype=np.float64)
        return np.argmax(points @ self.W[:2] + self.W[2], axis=1)

    def accuracy(self):
        """The fraction of the playground's points that are classified correctly."""
        return float(np.mean(self.predict(self.X) == self.y))

    def regions(self, resolution=150):
        """The decision regions on a grid over the points: ``(xs, ys, classes)``, classes (res, res)."""
        low, high = self.X.min(axis=0) - 1.0, self.X.max(axis=0) + 1.0
        xs, ys = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
        classes = self.predict(np.column_stack([xs.ravel(), ys.ravel()])).reshape(xs.shape)
        return xs, ys, classes

    def draw(self, figure=None):
        """Draw the decision regions and points (left) and the loss history (right); returns the figure."""
        figure = figure or plt.figure(figsize=(11, 4.2), layout="constrained")
        figure.clear()
        regions_ax, loss_ax = figure.subplots(1, 2, width_ratios=(1.1, 1))
        xs, ys, classes = self.regions()
        num_classes = self.W.shape[1]
        colors = [POINT_COLORS[k % len(POINT_COLORS)] for k in range(num_classes)]
        regions_ax.contourf(xs, ys, classes, levels=np.arange(num_classes + 1) - 0.5, colors=colors, alpha=0.2)
        for k, color in enumerate(colors):
            regions_ax.scatter(*self.X[self.y == k].T, color=color, edgecolor="black", s=25, label=f"class {k}")
        regions_ax.set(xlim=(xs.min(), xs.max()), ylim=(ys.min(), ys.max()), xlabel="x", ylabel="y",
                       title=f"{self.loss_name} loss {self.loss():.4f}, accuracy {self.accuracy():.2f}")
        regions_ax.legend(fontsize="small", loc="upper right")
        plot_loss_history(self.history or [self.loss()], ax=loss_ax, label=self.loss_name,
                          title=f"Loss per step (reg {self.reg:g}, step size {self.learning_rate:g})")
        loss_ax.set(xlabel="gradient step", ylabel="loss")
        return figure


class OptimizerPlayground:
    """An update rule walking on a 2-D landscape of :mod:`cs231kit.landscapes`.

    Parameters
    ----------
    rules : dict
        ``name -> rule`` with ``next_w, next_state = rule(w, dw, state)``.
    landscapes : dict, optional
        ``name -> Landscape``; default :func:`cs231kit.landscapes.all_landscapes`.

    Attributes
    ----------
    landscape_name, rule_name : str
        The selected landscape and rule (the first ones at first).
    learning_rate, momentum : float
        ``momentum`` goes into the state only of rules whose default state has a ``"momentum"``.
    num_steps : int
    """

    def __init__(self, rules, landscapes=None):
        self.rules = dict(rules)
        self.landscapes = dict(landscapes or all_landscapes())
        self.landscape_name, self.rule_name = next(iter(self.landscapes)), next(iter(self.rules))
        self.learning_rate, self.momentum, self.num_steps = 0.05, 0.9, 50

    def uses_momentum(self):
        """Whether the selected rule has a ``"momentum"`` hyperparameter (read from its default state)."""
        _, state = self.rules[self.rule_name](np.zeros(2), np.zeros(2), None)
        return "momentum" in (state or {})

    def state(self):
        """The first state handed to the rule: the learning rate, and the momentum if the rule has one."""
        state = {"learning_rate": self.learning_rate}
        if self.uses_momentum():
            state["momentum"] = self.momentum
        return state

    def path(self):
        """The points the selected rule visits: ndarray (K + 1, 2), see ``run_update_rule``."""
        return run_update_rule(self.rules[self.rule_name], self.landscapes[self.landscape_name],
                               num_steps=self.num_steps, state=self.state())

    def draw(self, figure=None):
        """Draw the path over the landscape's contour lines; returns the figure."""
        figure = figure or plt.figure(figsize=(7, 5), layout="constrained")
        figure.clear()
        landscape, path = self.landscapes[self.landscape_name], self.path()
        final_value = landscape(path[-1])[0]
        settings = ", ".join(f"{key} {setting:g}" for key, setting in self.state().items())
        plot_trajectories(landscape, {f"{self.rule_name} ({settings})": path}, ax=figure.subplots(),
                          title=f"{landscape.name}: {len(path) - 1} steps, f at the end {final_value:.4g}")
        return figure


def _kernel_display():
    """``IPython.display`` when running in a Jupyter kernel (a figure can be shown), else None."""
    try:
        from IPython import display, get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return display if shell is not None and hasattr(shell, "kernel") else None


def _widget_module(interactive):
    """ipywidgets if controls are wanted and possible, else None.

    ``interactive`` True requires ipywidgets; None asks for it only in a Jupyter kernel and where it
    is importable (otherwise the playground degrades to its static figure).
    """
    if interactive is False or (interactive is None and _kernel_display() is None):
        return None
    try:
        import ipywidgets
    except ImportError:
        if interactive:
            raise
        return None
    return ipywidgets


def _show(playground, controls=None, buttons=()):
    """Draw the playground, display the figure and, with controls, wire them to redraw it in place.

    The figure is an ordinary display output (a static picture wherever widgets do not render);
    every change of a control writes its value into the playground and updates that output.

    Parameters
    ----------
    playground : LinearPlayground or OptimizerPlayground
        Gets ``figure`` and ``controls`` (name -> widget) attributes.
    controls : dict, optional
        ``name -> (widget, apply)``: ``apply(value)`` writes the widget's value into the playground.
    buttons : sequence of (str, Button, callable)
        Each callable changes the playground when its button is clicked.
    """
    controls = controls or {}
    playground.figure = playground.draw()
    plt.close(playground.figure)  # shown through the display handle, not again by the inline backend
    playground.controls = {name: widget for name, (widget, _) in controls.items()}
    playground.controls.update({name: button for name, button, _ in buttons})
    display = _kernel_display()
    handle = display.display(playground.figure, display_id=True) if display else None

    def redraw(action):
        def handler(change):
            if getattr(playground, "syncing", False):
                return
            action(change["new"] if isinstance(change, dict) else change)
            playground.draw(playground.figure)
            if handle is not None:
                handle.update(playground.figure)
        return handler

    for widget, apply in controls.values():
        widget.observe(redraw(apply), names="value")
    for _, button, action in buttons:
        button.on_click(redraw(lambda _, action=action: action()))
    if display and playground.controls:
        import ipywidgets
        widgets = list(playground.controls.values())
        box = ipywidgets.VBox([ipywidgets.HBox(widgets[k:k + 3]) for k in range(0, len(widgets), 3)])
        display.display({**box._repr_mimebundle_(), "text/plain": CONTROLS_TEXT}, raw=True)


def _setter(playground, attribute):
    """``apply(value)`` that sets one attribute of the playground."""
    return lambda value: setattr(playground, attribute, value)


def _weight_setter(playground, row, col):
    """``apply(value)`` that sets one entry of the playground's W (a new array: W is never mutated)."""
    def apply(value):
        W = playground.W.copy()
        W[row, col] = value
        playground.W = W
    return apply


def _linear_controls(ipywidgets, playground):
    """The sliders and menus of the linear playground: ``name -> (widget, apply)``."""
    controls = {}
    for row, label in enumerate(("w_x", "w_y", "b")):
        for col in range(playground.W.shape[1]):
            controls[f"W[{row},{col}]"] = (
                ipywidgets.FloatSlider(value=float(playground.W[row, col]), min=-3, max=3, step=0.01,
                                       description=f"{label} class {col}"),
                _weight_setter(playground, row, col))
    controls["loss"] = (ipywidgets.Dropdown(options=list(playground.loss_functions), description="loss"),
                        _setter(playground, "loss_name"))
    controls["reg"] = (ipywidgets.FloatLogSlider(value=playground.reg, base=10, min=-4, max=1,
                                                 description="reg"), _setter(playground, "reg"))
    controls["learning_rate"] = (ipywidgets.FloatLogSlider(value=playground.learning_rate, base=10, min=-3,
                                                           max=0.5, description="step size"),
                                 _setter(playground, "learning_rate"))
    return controls


def _sync_weight_sliders(playground):
    """Move the weight sliders to the current W (after a step), without feedback into W or redraws."""
    playground.syncing = True
    try:
        for name, widget in playground.controls.items():
            if name.startswith("W["):
                row, col = (int(k) for k in name[2:-1].split(","))
                widget.value = float(np.clip(playground.W[row, col], widget.min, widget.max))
    finally:
        playground.syncing = False


def linear_classifier_playground(loss_functions, X=None, y=None, *, seed=0, interactive=None):
    """Show the linear-classifier playground: sliders for W and b, the loss, reg and step size.

    Parameters
    ----------
    loss_functions : dict
        ``name -> loss_fn``, e.g. ``{"SVM": svm_loss_vectorized, "softmax": softmax_loss_vectorized}``.
    X, y : ndarray, optional
        2-D points (N, 2) and labels (N,); default :func:`three_class_points`.
    seed : int, optional
    interactive : bool, optional
        Build the controls (True), or show the static figure only (False); default: controls when
        running in a Jupyter kernel.

    Returns
    -------
    LinearPlayground
        With ``figure`` and ``controls`` (name -> widget: ``"W[r,c]"`` for row r = 0 (x), 1 (y),
        2 (bias) and class c, ``"loss"``, ``"reg"``, ``"learning_rate"``, and the buttons ``"step"``
        and ``"10 steps"``: gradient steps with the selected loss function).
    """
    playground = LinearPlayground(loss_functions, X, y, seed=seed)
    ipywidgets = _widget_module(interactive)
    if ipywidgets is None:
        _show(playground)
        return playground

    def stepper(num_steps):
        def step():
            playground.step(num_steps)
            _sync_weight_sliders(playground)
        return step

    buttons = [(name, ipywidgets.Button(description=name), stepper(n)) for name, n in (("step", 1), ("10 steps", 10))]
    _show(playground, _linear_controls(ipywidgets, playground), buttons)
    return playground


def _optimizer_controls(ipywidgets, playground):
    """The menus and sliders of the optimizer playground: ``name -> (widget, apply)``."""
    return {
        "landscape": (ipywidgets.Dropdown(options=list(playground.landscapes), description="landscape"),
                      _setter(playground, "landscape_name")),
        "rule": (ipywidgets.Dropdown(options=list(playground.rules), description="update rule"),
                 _setter(playground, "rule_name")),
        "learning_rate": (ipywidgets.FloatLogSlider(value=playground.learning_rate, base=10, min=-4, max=0.5,
                                                    description="learning rate"),
                          _setter(playground, "learning_rate")),
        "momentum": (ipywidgets.FloatSlider(value=playground.momentum, min=0, max=0.99, step=0.01,
                                            description="momentum"), _setter(playground, "momentum")),
        "num_steps": (ipywidgets.IntSlider(value=playground.num_steps, min=1, max=500, description="steps"),
                      _setter(playground, "num_steps")),
    }


def optimizer_playground(rules, landscapes=None, *, interactive=None):
    """Show the optimizer playground: choose the landscape, the update rule, its learning rate and momentum.

    Parameters
    ----------
    rules : dict
        ``name -> rule``, e.g. ``{"sgd": sgd, "momentum": sgd_momentum, "adam": adam}``.
    landscapes : dict, optional
        ``name -> Landscape``; default :func:`cs231kit.landscapes.all_landscapes`.
    interactive : bool, optional
        As in :func:`linear_classifier_playground`.

    Returns
    -------
    OptimizerPlayground
        With ``figure`` and ``controls`` (name -> widget: ``"landscape"``, ``"rule"``, ``"learning_rate"``,
        ``"momentum"``, ``"num_steps"``), empty without widgets.
    """
    playground = OptimizerPlayground(rules, landscapes)
    ipywidgets = _widget_module(interactive)
    _show(playground, None if ipywidgets is None else _optimizer_controls(ipywidgets, playground))
    return playground
