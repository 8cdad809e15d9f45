"""Bit-exact NumPy integer models of fdcnn's hardware blocks."""
