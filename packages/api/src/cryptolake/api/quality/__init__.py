"""The quality domain."""
