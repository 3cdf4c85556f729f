"""Reporters: each receives the configuration and the analyses explicitly."""
