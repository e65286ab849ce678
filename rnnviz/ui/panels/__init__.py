"""One file per panel; each draws a snapshot."""
