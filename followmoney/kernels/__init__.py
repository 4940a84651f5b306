"""The one adapter between posting tables and numba kernels (`adapter`), and the window building
blocks indicator kernels share (`windows`)."""
