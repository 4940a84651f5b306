"""Family C: cash and deposit patterns."""
