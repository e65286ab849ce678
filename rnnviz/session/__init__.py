"""What a person is exploring, Qt-free: config, model, task, training history, save/load."""
