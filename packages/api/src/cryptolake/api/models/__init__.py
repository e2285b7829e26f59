"""The models domain."""
