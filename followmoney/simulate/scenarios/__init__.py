"""Scenario plug-ins, one module per scenario, discovered automatically.

See :mod:`followmoney.simulate.scenario` for how to write one.
"""
