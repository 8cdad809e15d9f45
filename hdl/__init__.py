"""Amaranth generators for fdcnn's frequency-domain CNN blocks."""
