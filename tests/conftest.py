"""Settings of every test process: one BLAS thread.

``make test`` runs two test processes at once on CI's two cores, and each starts kernels and labs.
BLAS threads that wait for a core another process keeps busy spin instead of sleeping: the loss
notebook took 91 s in JupyterLab beside one busy core with two threads, 26 s with one. Grading sets
one thread per kernel itself (``cs231kit.grading.session``); this does the same for the test
processes and everything they start (kernels, labs), through the environment.
"""

import os

from threadpoolctl import threadpool_limits

from cs231kit.runtime import BLAS_THREAD_VARIABLES

os.environ.update(dict.fromkeys(BLAS_THREAD_VARIABLES, "1"))
threadpool_limits(limits=1)
