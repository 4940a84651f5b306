"""The network layer: linking accounts into suspect clusters."""
