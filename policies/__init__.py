"""Governance rules as code (issue 4). Pure: no I/O."""
