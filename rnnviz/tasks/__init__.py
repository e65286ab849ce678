"""Toy sequence tasks and loaders for a person's own files (NumPy only)."""
