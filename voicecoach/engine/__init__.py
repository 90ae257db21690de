"""Exercises as data, compiled into `transitions` state machines and run by voice."""
