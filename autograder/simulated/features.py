"""Simulated students of the ``features`` assignment: the solution, the blank release, typical bugs.

Plain data read by the grading demo (``cs231kit.grading.simulate``). A submission is the release
notebook whose solution cells hold the source notebook's solution text (marker lines removed),
then each patch replaces ``old`` (which occurs exactly once in the cell ``cell``) by ``new``.
``failing`` lists the autograded test cells that must lose all their points; every other
autograded test must get full points (``None``: every test fails).

Every list below was measured by running the demo on the offline dataset, including the cascades:
a stage's bug also fails the test of ``hog_features``, which chains the stages.
"""

ASSIGNMENT = "features"

STUDENTS = [
    dict(name="reference", description="the solution", patches=[], failing=[]),
    dict(name="blank", description="the release, untouched", release=True, failing=None),
    dict(
        name="orientation_not_folded",
        description="signed gradient directions taken modulo 360 instead of folded into [0, 180): opposite "
                    "gradients of one edge land in different bins, and every angle from 160 on piles into bin 8",
        patches=[dict(cell="gradient_magnitude_orientation",
                      old="    with np.errstate(divide=\"ignore\", invalid=\"ignore\"):   # g_col = 0 gives +-inf "
                          "(90 degrees) or 0/0\n"
                          "        orientation = np.arctan(g_row / g_col)\n"
                          "    orientation *= 180 / np.pi\n"
                          "    orientation += (orientation < 0) * 180.0\n",
                      new="    orientation = np.degrees(np.arctan2(g_row, g_col)) % 360\n")],
        failing=["test_orientation_visible", "test_orientation_hidden", "test_hog_features_visible",
                 "test_hog_features_hidden"],
    ),
    dict(
        name="hue_from_value_channel",
        description="histogram of channel 2 of rgb_to_hsv (the value, i.e. brightness) instead of channel 0 "
                    "(the hue)",
        patches=[dict(cell="color_histogram_hsv",
                      old="    hue = (sector / 6) % 1.0 ",
                      new="    hue = rgb_to_hsv(rgb / 255)[..., 2] ")],
        failing=["test_color_histogram_visible", "test_color_histogram_hidden"],
    ),
    dict(
        name="gradients_with_np_gradient",
        description="image_gradients with np.gradient: central differences halved (harmless after block "
                    "normalisation) but one-sided differences instead of 0 on the border",
        patches=[dict(cell="image_gradients",
                      old="    g_row, g_col = np.zeros_like(gray), np.zeros_like(gray)\n"
                          "    g_row[:, 1:-1, :] = gray[:, 2:, :] - gray[:, :-2, :]\n"
                          "    g_col[:, :, 1:-1] = gray[:, :, 2:] - gray[:, :, :-2]\n",
                      new="    g_row, g_col = np.gradient(gray, axis=(1, 2))\n")],
        failing=["test_image_gradients_visible", "test_image_gradients_hidden", "test_hog_features_hidden"],
    ),
    dict(
        name="kmeans_empty_cluster_nan",
        description="k-means divides every cluster's sum by its count, so an empty cluster gets a NaN centroid",
        patches=[dict(cell="kmeans",
                      old="        filled = counts > 0\n"
                          "        centroids[filled] = (members.T @ X)[filled] / counts[filled, None]\n",
                      new="        centroids = (members.T @ X) / counts[:, None]\n")],
        failing=["test_kmeans_hidden"],
    ),
]
