"""The one adapter between posting tables and numba kernels."""
