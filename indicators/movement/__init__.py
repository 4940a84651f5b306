"""Family D: movement and geography."""
