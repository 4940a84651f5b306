"""The 11-stage pipeline: one module per step of the guide, run in data-flow order."""
