"""The docks that change a session: network, task and training settings."""
