"""The followmoney command line (installed as `followmoney.cli`)."""
