"""fdcnn's command-line interface."""
