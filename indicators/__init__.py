"""The built-in THB indicator catalogue: one sub-package per family, one file per indicator.

Installed as `followmoney.indicators`. Each `<ID>_<name>.py` defines one `Indicator` subclass and
sits next to its `<ID>_<name>.cases.yml`, the positive and near-miss negative cases that the test
harness runs and the docs render as worked examples.
"""
