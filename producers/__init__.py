"""Producer SDK and full-history publishing (issue 6)."""
