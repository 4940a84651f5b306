"""Family G: payment instruments."""
