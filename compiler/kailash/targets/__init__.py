"""Compile targets: each turns a plan into the source chunks of a module."""
