"""Family F: flow structure (pass-through, funnels, collectors)."""
