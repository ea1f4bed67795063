"""Linking the publications of one procedure across sources and versions."""
