"""The eight departments shipped with medrecord, each an ordinary department plugin."""
