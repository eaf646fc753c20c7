"""Testing kit for teams that extend medrecord: hypothesis strategies, conformance checks."""
