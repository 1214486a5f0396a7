"""Recorded outputs that a structural change must reproduce byte for byte."""
