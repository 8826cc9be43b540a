"""Command line: argument parsing and the only place that exits. Heavy imports stay lazy."""
