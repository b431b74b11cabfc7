"""Laws of regularisation by noise, data augmentation and fine-tuning, as measurements.

A random function (a dropout mask, a random crop) cannot be compared value by value with another
implementation: two correct ones draw their random numbers differently. What every correct one
obeys is a *law*: test-time dropout is the identity, a kept unit is scaled by ``1 / p``, the mean
survives within binomial bounds, a crop is a window of the zero-padded image...

Every law is measured in two steps, so that the measuring can happen in another process than the
code measured:

1. ``collect_<topic>(...)`` calls the functions under test on seeded inputs and returns a dict of
   plain numeric arrays (their outputs);
2. ``<topic>_violations(outputs)`` rebuilds the same inputs from the seeds and returns
   ``{law: amount}``, 0.0 for every law that holds (an amount beyond a bound, a fraction of wrong
   entries, or 1.0 for a law that fails as a whole). It uses only numpy on the arrays it is given.

:data:`LAWS` says what each law means, in words a student can act on. Nothing here implements
dropout, augmentation or fine-tuning: the measurements need only the outputs and the inputs.
"""


import numpy as np
import scipy.special
from numpy.lib.stride_tricks import sliding_window_view

from cs231kit.training import per_parameter, sgd, train_network

SIGMAS = 6.0
"""Binomial bounds: a fraction or a mean may be this many standard deviations from its expectation
(false alarm rate below 1e-8 per check)."""
EXACT_RTOL = 1e-12
"""Relative tolerance of values that a float64 formula gives up to its last bits (x / p vs x * (1 / p))."""
GRADIENT_RTOL = 1e-6
"""Largest relative error of an analytic gradient against centred differences of a function linear in
the variable (no kinks: the error is rounding only)."""
KEEP_P = 0.3
"""The keep probability of the dropout laws: far from 1/2, so that p used as a drop probability shows."""

LAWS = {
    "test_identity": "in test mode the output must equal the input exactly (no scaling at test time: inverted "
                     "dropout scales during training)",
    "keep_all_identity": "with p = 1 every unit is kept: the output must equal the input",
    "zero_or_scaled": "in training every output entry must be 0 (dropped) or x / p (kept and scaled by 1/p)",
    "kept_fraction": "the fraction of kept entries must be close to p, the probability of KEEPING a unit "
                     "(not of dropping it)",
    "mean_preserved": "inverted dropout must preserve the mean: on an array of ones the output's mean must be "
                      "1 within binomial bounds",
    "same_seed_same_mask": "two calls with generators of the same seed must give the same mask: draw every "
                           "random number from rng (never from np.random)",
    "different_seeds_differ": "generators of different seeds must give different masks: the mask has to come "
                              "from rng",
    "input_untouched": "the function modified its input array in place: build a new array",
    "backward_matches_mask": "dx must be dout * mask / p with the mask of the forward pass (read it from the "
                             "cache; never draw a new one in the backward pass)",
    "backward_test_identity": "in test mode (or with p = 1) the backward pass must return dout unchanged",
    "affine_at_test": "in test mode DropConnect must be the plain affine layer x @ W + b",
    "mask_shared_by_batch": "one weight mask per forward call: every example of the batch sees the same "
                            "dropped connections",
    "gradient_fixed_mask": "with the mask held fixed (the same rng seed), dx, dW and db must equal centred "
                           "differences of sum(out * dout)",
    "flip_or_keep": "every output image must be the input image or its mirror image left-right "
                    "(reverse the column axis, axis 2 of (N, H, W, C))",
    "flip_fraction": "about half of the images must be flipped, each independently",
    "twice_is_identity": "flipping twice with generators of the same seed must give back the images",
    "shape_and_dtype": "the output must keep the shape and dtype of the input (crops: (N, size, size, C))",
    "crop_is_window": "every crop must be a size x size window of the image padded with `padding` zeros on "
                      "each side",
    "crop_covers_offsets": "every window position of the zero-padded image must be possible (offsets 0 to "
                           "H + 2 * padding - size, drawn for each image): did you forget to pad?",
    "jitter_in_range": "jittered images must stay in the valid range ([0, 255] for uint8, [0, 1] for floats)",
    "jitter_zero_identity": "with brightness = contrast = 0 the images must come back unchanged (round before "
                            "casting back to uint8)",
    "brightness_scales": "with contrast = 0, each image must be multiplied by one factor in "
                         "[1 - brightness, 1 + brightness]",
    "contrast_keeps_mean": "with brightness = 0, each image's deviations from its mean must be scaled by one "
                           "factor in [1 - contrast, 1 + contrast], and its mean kept",
    "jitter_per_image": "each image must get its own random factors",
    "tta_identity": "with no augmentation, predict_tta must return predict_scores(images) (for n = 1 and n = 3)",
    "tta_average": "predict_tta must return the mean of predict_scores over the n augmented copies, each "
                   "augmented with the rng it was given",
    "freeze_multipliers": "freeze must give a learning-rate multiplier of 0.0 to the named parameters and 1.0 "
                          "to the others, one entry per parameter",
    "frozen_bit_identical": "a parameter with multiplier 0 must come back bit for bit unchanged, even when its "
                            "gradient is NaN or infinite (do not compute w - 0 * dw)",
    "sgd_step_scaled": "a trainable parameter must take the SGD step w - (lr * lr_mult) * dw",
    "params_untouched": "fine_tune must not modify params or grads in place",
}


def _mismatch(got, expected, rtol=0.0, atol=0.0):
    """Fraction of entries of ``got`` farther from ``expected`` than ``atol + rtol * |expected|`` (1.0 for
    a shape error)."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        return 1.0
    return float(np.mean(~(np.abs(got - expected) <= atol + rtol * np.abs(expected))))


def _binomial_excess(value, expected, sigma):
    """How many standard deviations beyond :data:`SIGMAS` ``value`` lies from ``expected`` (0 within)."""
    return float(max(abs(float(value) - expected) / sigma - SIGMAS, 0.0))


def _differ(a, b):
    """1.0 if the arrays differ in shape or in any entry, else 0.0."""
    return float(np.shape(a) != np.shape(b) or not np.array_equal(a, b))


# ------------------------------------------------------------------ dropout


def dropout_inputs():
    """Seeded inputs of the dropout laws: ``x`` (200, 300) without zeros, ``dout`` of its shape, ``ones``."""
    rng = np.random.default_rng(2301)
    x = rng.standard_normal((200, 300))
    x[x == 0] = 1.0
    return {"x": x, "dout": rng.standard_normal((200, 300)), "ones": np.ones((1000, 1000))}


def collect_dropout(dropout_forward):
    """Outputs of ``dropout_forward`` on :func:`dropout_inputs` (see :func:`dropout_violations`)."""
    inputs = dropout_inputs()
    x = inputs["x"].copy()
    return {
        "test_out": dropout_forward(x, KEEP_P, "test", np.random.default_rng(1))[0],
        "keep_out": dropout_forward(x, 1.0, "train", np.random.default_rng(1))[0],
        "train_out": dropout_forward(x, KEEP_P, "train", np.random.default_rng(2))[0],
        "again_out": dropout_forward(x, KEEP_P, "train", np.random.default_rng(2))[0],
        "other_out": dropout_forward(x, KEEP_P, "train", np.random.default_rng(3))[0],
        "ones_out": dropout_forward(inputs["ones"].copy(), KEEP_P, "train", np.random.default_rng(4))[0],
        "x_after": x,
    }


def dropout_violations(outputs):
    """``{law: amount}`` of the outputs of :func:`collect_dropout` (0.0 for every law that holds)."""
    inputs, p = dropout_inputs(), KEEP_P
    x, train, ones = inputs["x"], np.asarray(outputs["train_out"], np.float64), np.asarray(outputs["ones_out"])
    n = max(ones.size, 1)
    scaled_ok = False
    if train.shape == x.shape:
        scaled_ok = (train == 0) | (np.abs(train - x / p) <= EXACT_RTOL * np.abs(x / p))
    return {
        "test_identity": _differ(outputs["test_out"], x),
        "keep_all_identity": _differ(outputs["keep_out"], x),
        "zero_or_scaled": float(1.0 - np.mean(scaled_ok)),
        "kept_fraction": _binomial_excess(np.count_nonzero(ones) / n, p, np.sqrt(p * (1 - p) / n)),
        "mean_preserved": _binomial_excess(ones.mean() if ones.size else np.nan, 1.0, np.sqrt((1 - p) / (p * n))),
        "same_seed_same_mask": _differ(outputs["again_out"], train),
        "different_seeds_differ": 1.0 - _differ(outputs["other_out"], train),
        "input_untouched": _differ(outputs["x_after"], x),
    }


def collect_dropout_backward(dropout_forward, dropout_backward):
    """Outputs of ``dropout_backward`` on the caches of ``dropout_forward`` (train, test, p = 1)."""
    inputs = dropout_inputs()
    x, dout = inputs["x"].copy(), inputs["dout"].copy()
    train_out, train_cache = dropout_forward(x, KEEP_P, "train", np.random.default_rng(2))
    return {"train_out": train_out, "dx_train": dropout_backward(dout, train_cache),
            "dx_test": dropout_backward(dout, dropout_forward(x, KEEP_P, "test", np.random.default_rng(1))[1]),
            "dx_keep": dropout_backward(dout, dropout_forward(x, 1.0, "train", np.random.default_rng(1))[1]),
            "dout_after": dout}


def dropout_backward_violations(outputs):
    """``{law: amount}`` of the outputs of :func:`collect_dropout_backward`."""
    inputs, p = dropout_inputs(), KEEP_P
    dout, train = inputs["dout"], np.asarray(outputs["train_out"], np.float64)
    kept = np.where(train != 0, dout / p, 0.0) if train.shape == dout.shape else np.nan
    return {
        "backward_matches_mask": _mismatch(outputs["dx_train"], kept, EXACT_RTOL),
        "backward_test_identity": max(_differ(outputs["dx_test"], dout), _differ(outputs["dx_keep"], dout)),
        "input_untouched": _differ(outputs["dout_after"], dout),
    }


# ------------------------------------------------------------------ DropConnect


def dropconnect_inputs():
    """Seeded inputs: a small affine problem, and a big ``W`` (400, 500) seen through ``x = eye(400)``."""
    rng = np.random.default_rng(2303)
    return {"x": rng.standard_normal((6, 5)), "W": rng.standard_normal((5, 4)), "b": rng.standard_normal(4),
            "dout": rng.standard_normal((6, 4)), "W_big": rng.standard_normal((400, 500)),
            "b_big": rng.standard_normal(500)}


STEP = 1e-6
"""The step h of the centred differences (the collectors return f(v + h e_i) and f(v - h e_i); the
differences are taken where the laws are measured)."""


def _centred(outputs, name):
    """Centred differences of the ``up_<name>`` and ``down_<name>`` values a collector returned."""
    up, down = (np.asarray(outputs[f"{side}_{name}"], np.float64) for side in ("up", "down"))
    return (up - down) / (2 * STEP)


def _gradient_error(outputs, prefix, names):
    """Largest relative error of the analytic gradients ``<prefix><name>`` against centred differences."""
    errors = []
    for name in names:
        analytic, numerical = np.asarray(outputs[f"{prefix}{name}"], np.float64), _centred(outputs, name)
        errors.append(np.max(np.abs(analytic - numerical) / np.maximum(np.abs(numerical), 1e-3))
                      if analytic.shape == numerical.shape else np.inf)
    return float(max(errors))


def collect_dropconnect(dropconnect_forward, dropconnect_backward, h=STEP):
    """Outputs of DropConnect on :func:`dropconnect_inputs`: test mode, the masked weights seen through
    the identity (a batch of two identities), two calls of the same seed, and gradients with centred
    differences of ``sum(out * dout)`` under a fixed mask (see :func:`dropconnect_violations`)."""
    inputs = dropconnect_inputs()
    x, W, b, dout = (inputs[k].copy() for k in ("x", "W", "b", "dout"))
    eye = np.vstack([np.eye(400), np.eye(400)])
    outputs = {"test_out": dropconnect_forward(x, W, b, KEEP_P, "test", np.random.default_rng(1))[0],
               "big_out": dropconnect_forward(eye, inputs["W_big"].copy(), inputs["b_big"].copy(), KEEP_P, "train",
                                              np.random.default_rng(2))[0],
               "again_out": dropconnect_forward(x, W, b, 0.5, "train", np.random.default_rng(5))[0]}

    def objective(x_, W_, b_):
        return float(np.sum(dropconnect_forward(x_, W_, b_, 0.5, "train", np.random.default_rng(5))[0] * dout))

    out, cache = dropconnect_forward(x, W, b, 0.5, "train", np.random.default_rng(5))
    outputs["train_out"] = out
    for name, grad in zip(("dx", "dW", "db"), dropconnect_backward(dout, cache)):
        outputs[name] = grad
    arrays = {"dx": x, "dW": W, "db": b}
    for name, array in arrays.items():
        up, down = np.zeros_like(array), np.zeros_like(array)
        for index in np.ndindex(array.shape):
            moved = {k: v.copy() for k, v in arrays.items()}
            moved[name][index] += h
            up[index] = objective(moved["dx"], moved["dW"], moved["db"])
            moved[name][index] -= 2 * h
            down[index] = objective(moved["dx"], moved["dW"], moved["db"])
        outputs[f"up_{name}"], outputs[f"down_{name}"] = up, down
    outputs["inputs_after"] = np.concatenate([x.ravel(), W.ravel(), b.ravel(), dout.ravel()])
    return outputs


def dropconnect_violations(outputs):
    """``{law: amount}`` of the outputs of :func:`collect_dropconnect`."""
    inputs, p = dropconnect_inputs(), KEEP_P
    W_big, big = inputs["W_big"], np.asarray(outputs["big_out"], np.float64)
    if big.shape != (800, 500):
        return dict.fromkeys(("zero_or_scaled", "kept_fraction", "mask_shared_by_batch"), 1.0)
    masked = big[:400] - inputs["b_big"]
    scaled_ok = (np.abs(masked) <= 1e-12) | (np.abs(masked - W_big / p) <= 1e-9 * np.abs(W_big / p))
    kept = np.count_nonzero(np.abs(masked) > 1e-12)
    given = np.concatenate([inputs[k].ravel() for k in ("x", "W", "b", "dout")])
    return {
        "affine_at_test": _mismatch(outputs["test_out"], inputs["x"] @ inputs["W"] + inputs["b"], EXACT_RTOL),
        "zero_or_scaled": float(1.0 - np.mean(scaled_ok)),
        "kept_fraction": _binomial_excess(kept / W_big.size, p, np.sqrt(p * (1 - p) / W_big.size)),
        "mask_shared_by_batch": _differ(big[:400], big[400:]),
        "same_seed_same_mask": _differ(outputs["again_out"], outputs["train_out"]),
        "gradient_fixed_mask": max(_gradient_error(outputs, "", ("dx", "dW", "db")) - GRADIENT_RTOL, 0.0),
        "input_untouched": _differ(outputs["inputs_after"], given),
    }


# ------------------------------------------------------------------ the two-layer network


def network_inputs(N=4, D=6, H=5, C=3, seed=2304):
    """Seeded float64 ``params`` (W1 (D, H), b1 (H,), W2 (H, C), b2 (C,)), ``X`` (N, D) and ``y`` (N,)."""
    rng = np.random.default_rng(seed)
    params = {"W1": rng.standard_normal((D, H)), "b1": rng.standard_normal(H) * 0.1,
              "W2": rng.standard_normal((H, C)), "b2": rng.standard_normal(C) * 0.1}
    return params, rng.standard_normal((N, D)), rng.integers(0, C, size=N)


NETWORK_REG, NETWORK_P = 0.05, 0.5
"""The regularisation strength and keep probability of the network laws."""


def _copies(params):
    return {k: np.array(v, dtype=np.float64) for k, v in params.items()}


def collect_network(loss_fn, h=STEP):
    """Outputs of ``two_layer_net_loss`` on :func:`network_inputs`: losses and gradients in test mode, with
    p = 1, with and without reg, the scores, dead ReLUs, and centred differences under a fixed mask."""
    params, X, y = network_inputs()

    def call(p_, *, reg=NETWORK_REG, p=NETWORK_P, mode="train", seed=7, labels=y, X_=X):
        return loss_fn(_copies(p_), X_.copy(), None if labels is None else labels.copy(), reg, p=p,
                       rng=np.random.default_rng(seed), mode=mode)

    outputs = {}
    for label, kwargs in {"test": dict(mode="test"), "keep_all": dict(p=1.0), "no_reg": dict(mode="test", reg=0.0),
                          "train": {}}.items():
        loss, grads = call(params, **kwargs)
        outputs[f"{label}_loss"] = loss
        outputs.update({f"{label}_d{k}": grads[k] for k in params})
    outputs["scores"] = call(params, mode="test", labels=None)
    dead = {**_copies(params), "W1": -np.abs(params["W1"])}
    outputs["dead_loss"] = call(dead, mode="test", X_=np.abs(X))[0]
    for name in params:
        up, down = np.zeros_like(params[name]), np.zeros_like(params[name])
        for index in np.ndindex(params[name].shape):
            moved = _copies(params)
            moved[name][index] += h
            up[index] = call(moved)[0]
            moved[name][index] -= 2 * h
            down[index] = call(moved)[0]
        outputs[f"up_d{name}"], outputs[f"down_d{name}"] = up, down
    return outputs


def _log_softmax(scores):
    """Row-wise log-softmax by scipy (an implementation independent of the course's)."""
    return scipy.special.log_softmax(scores, axis=1)


def network_violations(outputs):
    """``{law: amount}`` of the outputs of :func:`collect_network`."""
    params, X, y = network_inputs()
    penalty = NETWORK_REG * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    names = [f"d{k}" for k in params]
    scores = np.asarray(outputs["scores"], np.float64)
    cross_entropy = -_log_softmax(scores)[np.arange(len(y)), y].mean() if scores.shape == (len(y), 3) else np.nan
    reg_grads = {"dW1": 2 * NETWORK_REG * params["W1"], "db1": 0 * params["b1"],
                 "dW2": 2 * NETWORK_REG * params["W2"], "db2": 0 * params["b2"]}
    hidden = np.maximum(X @ params["W1"] + params["b1"], 0)
    return {
        "network_architecture": _mismatch(scores, hidden @ params["W2"] + params["b2"], 1e-9, 1e-12),
        "network_test_is_keep_all": max(_mismatch(outputs[f"test_{n}"], outputs[f"keep_all_{n}"], EXACT_RTOL)
                                        for n in ("loss", *names)),
        "network_scores": _mismatch(outputs["test_loss"], cross_entropy + penalty, 1e-9),
        "network_reg": max(_mismatch(outputs["test_loss"] - outputs["no_reg_loss"], penalty, 1e-9),
                           *(_mismatch(np.asarray(outputs[f"test_{n}"], np.float64) - outputs[f"no_reg_{n}"],
                                       reg_grads[n], 1e-7, 1e-12) for n in names)),
        "network_dead_relu": _mismatch(outputs["dead_loss"], -_log_softmax(params["b2"][None])[0, y].mean() + penalty,
                                       1e-9),
        "gradient_fixed_mask": max(_gradient_error(outputs, "train_", names) - 1e-5, 0.0),
    }


def collect_overfit(loss_fn, num_examples=50, num_epochs=60):
    """Training accuracy of ``loss_fn`` (p = 1, reg = 0) trained by plain SGD on ``num_examples`` seeded random
    examples of 20 features and 10 classes (a hidden layer of 50 units)."""
    rng = np.random.default_rng(2305)
    X, y = rng.standard_normal((num_examples, 20)), rng.integers(0, 10, size=num_examples)
    params = {"W1": rng.standard_normal((20, 50)) * np.sqrt(2 / 20), "b1": np.zeros(50),
              "W2": rng.standard_normal((50, 10)) * np.sqrt(1 / 50), "b2": np.zeros(10)}
    result = train_network(lambda p_, X_, y_, r: loss_fn(p_, X_, y_, 0.0, p=1.0, rng=r, mode="train"), params, X, y,
                           step=per_parameter(sgd, learning_rate=0.2), num_epochs=num_epochs, batch_size=25)
    scores = loss_fn(result.params, X, None, 0.0, p=1.0, rng=None, mode="test")
    return {"train_accuracy": float(np.mean(np.argmax(scores, axis=1) == y))}


def overfit_violations(outputs):
    """``{law: amount}``: the network must reach a training accuracy of 1.0 on 50 examples."""
    return {"overfits_small_data": 1.0 - float(outputs["train_accuracy"])}


LAWS["network_architecture"] = ("with y = None and mode 'test' the scores must be those of affine - relu - affine: "
                                "relu(X @ W1 + b1) @ W2 + b2")
LAWS["network_test_is_keep_all"] = ("in test mode (dropout off) the loss and gradients must equal those of training "
                                    "with p = 1")
LAWS["network_scores"] = ("with y = None the function must return the scores (N, C) of affine - relu - affine, "
                          "whose softmax loss plus reg * (sum(W1**2) + sum(W2**2)) is the loss")
LAWS["network_reg"] = ("the penalty must be reg * (np.sum(W1 * W1) + np.sum(W2 * W2)) (no bias), adding "
                       "2 * reg * W1 and 2 * reg * W2 to the gradients")
LAWS["network_dead_relu"] = ("when every hidden unit is negative before the ReLU, the scores are b2 for every "
                             "example: the loss must be the softmax loss of b2")
LAWS["overfits_small_data"] = "without regularisation the network must fit 50 examples perfectly (accuracy 1.0)"


# ------------------------------------------------------------------ data augmentation


def augmentation_inputs():
    """Seeded images: ``uint8`` (400, 5, 6, 3), ``float`` (1500, 8, 8, 3) in (0.1, 1), ``jitter`` (300, 4, 4, 3)
    float64 in [0.2, 0.4], ``full`` uint8 (50, 4, 4, 3) over the whole range."""
    rng = np.random.default_rng(2306)
    return {"uint8": rng.integers(0, 256, size=(400, 5, 6, 3), dtype=np.uint8),
            "float": rng.uniform(0.1, 1.0, size=(1500, 8, 8, 3)),
            "jitter": rng.uniform(0.2, 0.4, size=(300, 4, 4, 3)),
            "full": rng.integers(0, 256, size=(50, 4, 4, 3), dtype=np.uint8)}


CROP_SIZE, CROP_PADDING = 6, 2
"""The crop laws cut 6 x 6 windows out of 8 x 8 images padded by 2: 7 x 7 = 49 possible offsets."""


def collect_flip(random_horizontal_flip):
    """Outputs of ``random_horizontal_flip`` on :func:`augmentation_inputs` (uint8 and float32)."""
    images = augmentation_inputs()["uint8"]
    given = images.copy()
    twice = random_horizontal_flip(random_horizontal_flip(images.copy(), np.random.default_rng(2)),
                                   np.random.default_rng(2))
    return {"flipped": random_horizontal_flip(given, np.random.default_rng(1)), "twice": twice,
            "float32": random_horizontal_flip(images.astype(np.float32), np.random.default_rng(1)),
            "input_after": given}


def flip_violations(outputs):
    """``{law: amount}`` of the outputs of :func:`collect_flip`."""
    images = augmentation_inputs()["uint8"]
    flipped = np.asarray(outputs["flipped"])
    if flipped.shape != images.shape:
        return {"shape_and_dtype": 1.0}
    same = np.all(flipped == images, axis=(1, 2, 3))
    mirrored = np.all(flipped == images[:, :, ::-1], axis=(1, 2, 3))
    n = len(images)
    return {
        "flip_or_keep": float(np.mean(~(same | mirrored))),
        "flip_fraction": _binomial_excess(np.mean(mirrored & ~same), 0.5, np.sqrt(0.25 / n)),
        "twice_is_identity": _differ(outputs["twice"], images),
        "shape_and_dtype": float(flipped.dtype != np.uint8 or np.asarray(outputs["float32"]).dtype != np.float32),
        "input_untouched": _differ(outputs["input_after"], images),
    }


def collect_crop(random_crop):
    """Outputs of ``random_crop`` on :func:`augmentation_inputs` (float64 images, and uint8 ones for the dtype)."""
    images = augmentation_inputs()["float"]
    given = images.copy()
    return {"crops": random_crop(given, CROP_SIZE, CROP_PADDING, np.random.default_rng(1)),
            "uint8": random_crop(augmentation_inputs()["uint8"][:, :5, :5], 3, 1, np.random.default_rng(1)),
            "input_after": given}


def crop_offsets(images, crops, size, padding):
    """The (row, col) offset of each crop in its zero-padded image, (-1, -1) where it is no window."""
    N, H, W, channels = images.shape
    padded = np.zeros((N, H + 2 * padding, W + 2 * padding, channels), images.dtype)
    padded[:, padding:padding + H, padding:padding + W] = images
    windows = sliding_window_view(padded, (size, size), axis=(1, 2))  # (N, R, C, channels, size, size)
    windows = np.moveaxis(windows, 3, -1)                               # (N, R, C, size, size, channels)
    match = np.all(windows == crops[:, None, None], axis=(3, 4, 5))     # (N, R, C)
    found = match.reshape(len(images), -1).argmax(axis=1)
    offsets = np.stack(np.unravel_index(found, match.shape[1:]), axis=1)
    offsets[~match.any(axis=(1, 2))] = -1
    return offsets


def crop_violations(outputs):
    """``{law: amount}`` of the outputs of :func:`collect_crop`."""
    images = augmentation_inputs()["float"]
    crops = np.asarray(outputs["crops"])
    if crops.shape != (len(images), CROP_SIZE, CROP_SIZE, 3):
        return {"shape_and_dtype": 1.0}
    offsets = crop_offsets(images, crops, CROP_SIZE, CROP_PADDING)
    positions = (images.shape[1] + 2 * CROP_PADDING - CROP_SIZE + 1) ** 2
    seen = {tuple(o) for o in offsets if o[0] >= 0}
    return {
        "crop_is_window": float(np.mean(offsets[:, 0] < 0)),
        "crop_covers_offsets": 1.0 - len(seen) / positions,
        "shape_and_dtype": float(np.asarray(outputs["uint8"]).dtype != np.uint8
                                 or np.shape(outputs["uint8"]) != (400, 3, 3, 3)),
        "input_untouched": _differ(outputs["input_after"], images),
    }


def collect_jitter(color_jitter):
    """Outputs of ``color_jitter`` on :func:`augmentation_inputs`: zero strength, brightness only, contrast only,
    strong jitter of full-range uint8 and float images."""
    inputs = augmentation_inputs()
    jitter, full = inputs["jitter"], inputs["full"]
    given = jitter.copy()
    return {
        "zero_uint8": color_jitter(full.copy(), 0.0, 0.0, np.random.default_rng(1)),
        "zero_float": color_jitter(jitter.copy(), 0.0, 0.0, np.random.default_rng(1)),
        "brightness": color_jitter(given, 0.5, 0.0, np.random.default_rng(2)),
        "contrast": color_jitter(jitter.copy(), 0.0, 0.5, np.random.default_rng(3)),
        "strong_uint8": color_jitter(full.copy(), 0.9, 0.9, np.random.default_rng(4)),
        "strong_float": color_jitter(full.astype(np.float32) / 255, 0.9, 0.9, np.random.default_rng(4)),
        "input_after": given,
    }


def _one_factor(ratio, low, high):
    """How far per-image ratios (N, ...) are from one constant per image in [low, high] (0.0 if they are)."""
    ratio = ratio.reshape(len(ratio), -1)
    spread = np.max(np.abs(ratio - ratio[:, :1]))
    outside = np.max(np.maximum(low - ratio[:, 0], 0) + np.maximum(ratio[:, 0] - high, 0))
    return float(max(spread - 1e-9, 0.0) + max(outside - 1e-9, 0.0))


def jitter_violations(outputs):
    """``{law: amount}`` of the outputs of :func:`collect_jitter`."""
    inputs = augmentation_inputs()
    jitter, full = inputs["jitter"], inputs["full"]
    arrays = {k: np.asarray(v) for k, v in outputs.items()}
    shapes = all(arrays[k].shape == jitter.shape for k in ("zero_float", "brightness", "contrast"))
    if not shapes:
        return {"shape_and_dtype": 1.0}
    strong_float = arrays["strong_float"]
    deviation, given_deviation = (arrays["contrast"] - arrays["contrast"].mean(axis=(1, 2, 3), keepdims=True),
                                  jitter - jitter.mean(axis=(1, 2, 3), keepdims=True))
    brightness_factors = (arrays["brightness"] / jitter)[:, 0, 0, 0]
    contrast_factors = (deviation / given_deviation)[:, 0, 0, 0]
    return {
        "shape_and_dtype": float(arrays["strong_uint8"].dtype != np.uint8 or strong_float.dtype != np.float32),
        "jitter_in_range": float(strong_float.size == 0 or strong_float.min() < 0 or strong_float.max() > 1),
        "jitter_zero_identity": max(_differ(arrays["zero_uint8"], full),
                                    float(not np.allclose(arrays["zero_float"], jitter, rtol=0, atol=1e-12))),
        "brightness_scales": _one_factor(arrays["brightness"] / jitter, 0.5, 1.5),
        "contrast_keeps_mean": (_one_factor(deviation / given_deviation, 0.5, 1.5)
                                + _mismatch(arrays["contrast"].mean(axis=(1, 2, 3)), jitter.mean(axis=(1, 2, 3)),
                                            1e-9)),
        "jitter_per_image": float(np.ptp(brightness_factors) < 1e-9) + float(np.ptp(contrast_factors) < 1e-9),
        "input_untouched": _differ(arrays["input_after"], jitter),
    }


# ------------------------------------------------------------------ test-time augmentation


def _tta_problem():
    rng = np.random.default_rng(2307)
    return rng.uniform(0, 1, size=(7, 4, 4, 3)), rng.standard_normal((48, 5))


def collect_tta(predict_tta, num_copies=4):
    """Outputs of ``predict_tta`` with a linear ``predict_scores`` on (7, 4, 4, 3) images: no augmentation
    (n = 1 and n = 3), and an augmentation that adds one ``rng.standard_normal()`` to every pixel."""
    images, M = _tta_problem()

    def predict_scores(batch):
        return np.asarray(batch, np.float64).reshape(len(batch), -1) @ M

    def shift(batch, rng):
        return batch + rng.standard_normal()

    def unchanged(batch, rng):
        return batch

    return {"identity_1": predict_tta(predict_scores, images.copy(), 1, np.random.default_rng(1), augment=unchanged),
            "identity_3": predict_tta(predict_scores, images.copy(), 3, np.random.default_rng(1), augment=unchanged),
            "shifted": predict_tta(predict_scores, images.copy(), num_copies, np.random.default_rng(9), augment=shift)}


def tta_violations(outputs, num_copies=4):
    """``{law: amount}`` of the outputs of :func:`collect_tta`."""
    images, M = _tta_problem()
    plain = images.reshape(len(images), -1) @ M
    shifts = np.random.default_rng(9).standard_normal(num_copies)
    averaged = np.mean([(images + s).reshape(len(images), -1) @ M for s in shifts], axis=0)
    return {"tta_identity": max(_mismatch(outputs["identity_1"], plain, 1e-12),
                                _mismatch(outputs["identity_3"], plain, 1e-12)),
            "tta_average": _mismatch(outputs["shifted"], averaged, 1e-9)}


# ------------------------------------------------------------------ freezing and fine-tuning

PARAMETER_NAMES = ("W1", "b1", "W2", "b2")
FINE_TUNE_LR = 0.1
FINE_TUNE_MULT = {"W1": 0.0, "b1": 0.0, "W2": 0.5, "b2": 2.0}
"""The multipliers of the fine-tuning laws: two frozen parameters (with NaN and inf gradients), two trainable."""


def fine_tune_inputs():
    """Seeded params and grads (W1 (4, 3), b1 (3,), W2 (3, 2), b2 (2,)); frozen ones get NaN and inf gradients."""
    rng = np.random.default_rng(2308)
    shapes = {"W1": (4, 3), "b1": (3,), "W2": (3, 2), "b2": (2,)}
    params = {k: rng.standard_normal(s) for k, s in shapes.items()}
    params["W1"][1, 1] = -0.0
    grads = {k: rng.standard_normal(s) for k, s in shapes.items()}
    grads["W1"][0, 0], grads["b1"][1] = np.nan, np.inf
    return params, grads


def collect_fine_tune(freeze, fine_tune):
    """Outputs of ``freeze(params, ["W1", "b1"])`` (multipliers in :data:`PARAMETER_NAMES` order, and their
    count) and of ``fine_tune`` with :data:`FINE_TUNE_MULT`, plus params and grads after the call."""
    params, grads = fine_tune_inputs()
    multipliers = freeze({k: v.copy() for k, v in params.items()}, ["W1", "b1"])
    updated = fine_tune(params, grads, FINE_TUNE_LR, dict(FINE_TUNE_MULT))
    return {"multipliers": [float(multipliers.get(k, np.nan)) for k in PARAMETER_NAMES],
            "num_multipliers": len(multipliers),
            "updated": {k: np.asarray(updated[k]) for k in PARAMETER_NAMES},
            "params_after": params, "grads_after": grads}


def fine_tune_violations(outputs):
    """``{law: amount}`` of the outputs of :func:`collect_fine_tune`."""
    params, grads = fine_tune_inputs()
    updated = {k: np.asarray(outputs[f"updated/{k}"]) for k in PARAMETER_NAMES}
    frozen = [k for k in PARAMETER_NAMES if FINE_TUNE_MULT[k] == 0]

    def bits(a, b):
        return float(a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes())

    steps = [_mismatch(updated[k], sgd(params[k], grads[k], {"learning_rate": FINE_TUNE_LR * FINE_TUNE_MULT[k]})[0],
                       EXACT_RTOL) for k in PARAMETER_NAMES if k not in frozen]
    untouched = [bits(np.asarray(outputs[f"{what}_after/{k}"]), given[k])
                 for what, given in (("params", params), ("grads", grads)) for k in PARAMETER_NAMES]
    return {"freeze_multipliers": _differ(outputs["multipliers"], [0.0, 0.0, 1.0, 1.0])
                                  + float(outputs["num_multipliers"] != len(PARAMETER_NAMES)),
            "frozen_bit_identical": max(bits(updated[k], params[k]) for k in frozen),
            "sgd_step_scaled": max(steps), "params_untouched": max(untouched)}


def flat(outputs, prefix=""):
    """A collector's nested dict as one level of ``"a/b"`` keys, the layout the verification returns."""
    items = {}
    for key, value in outputs.items():
        if isinstance(value, dict):
            items.update(flat(value, f"{prefix}{key}/"))
        else:
            items[f"{prefix}{key}"] = value
    return items


# ------------------------------------------------------------------ one table of topics

TOPICS = {
    "dropout_forward": (collect_dropout, dropout_violations),
    "dropout_backward": (collect_dropout_backward, dropout_backward_violations),
    "dropconnect": (collect_dropconnect, dropconnect_violations),
    "two_layer_net": (collect_network, network_violations),
    "overfit": (collect_overfit, overfit_violations),
    "random_horizontal_flip": (collect_flip, flip_violations),
    "random_crop": (collect_crop, crop_violations),
    "color_jitter": (collect_jitter, jitter_violations),
    "predict_tta": (collect_tta, tta_violations),
    "fine_tune": (collect_fine_tune, fine_tune_violations),
}
"""topic -> (collector, violations): the functions of every law measured in this module."""

VISIBLE_LAWS = {
    "dropout_forward": ("test_identity", "zero_or_scaled", "kept_fraction"),
    "dropout_backward": ("backward_matches_mask",),
    "dropconnect": ("affine_at_test", "zero_or_scaled"),
    "two_layer_net": ("network_architecture", "gradient_fixed_mask"),
    "random_horizontal_flip": ("flip_or_keep", "twice_is_identity"),
    "random_crop": ("crop_is_window", "crop_covers_offsets", "shape_and_dtype"),
    "color_jitter": ("jitter_zero_identity", "jitter_in_range"),
    "predict_tta": ("tta_identity",),
    "fine_tune": ("freeze_multipliers", "frozen_bit_identical"),
}
"""The laws each visible test checks (the hidden tests check them all)."""


def broken_laws(topic, outputs, laws=None):
    """``{law: amount}`` of the laws of ``topic`` (or only ``laws``) that ``outputs`` break.

    ``outputs`` are the flat arrays of the topic's collector (see :func:`flat`); outputs of another
    structure (a wrong shape, a missing entry) break the law ``"shape_and_dtype"``.
    """
    try:
        measured = TOPICS[topic][1](outputs)
    except (KeyError, IndexError, ValueError, TypeError) as error:
        return {"shape_and_dtype": 1.0, "error": f"{type(error).__name__}: {error}"}
    return {law: amount for law, amount in measured.items() if (laws is None or law in laws) and not amount == 0.0}


def describe(broken):
    """One line per broken law: its meaning and how far off the outputs are."""
    return "\n".join(f"- {LAWS.get(law, law)} ({law}: {amount if isinstance(amount, str) else f'{amount:.3g}'})"
                     for law, amount in broken.items())


def assert_laws(topic, *functions, laws=None):
    """Call ``functions`` on the seeded inputs of ``topic`` and raise ``AssertionError`` naming every law
    (of ``laws``, default all) they break; return None when they obey them all."""
    __tracebackhide__ = True
    broken = broken_laws(topic, flat(TOPICS[topic][0](*functions)), laws)
    if broken:
        names = ", ".join(getattr(f, "__name__", "?") for f in functions)
        raise AssertionError(f"{names} broke {len(broken)} law(s):\n{describe(broken)}")
