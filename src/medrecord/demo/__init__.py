"""Example conversations shipped for the demo command."""
