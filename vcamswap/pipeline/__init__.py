"""The live pipeline: three threads joined by newest-frame slots. Knows Protocols only."""
