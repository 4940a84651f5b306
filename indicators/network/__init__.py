"""Family K: network and shared identifiers (fan-in, fan-out, collectors, cycles, scatter-gather)."""
