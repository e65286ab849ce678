"""Qt views of a session and the controls that change it."""
