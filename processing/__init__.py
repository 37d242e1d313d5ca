"""Embedded stream-processing engine (later issue)."""
