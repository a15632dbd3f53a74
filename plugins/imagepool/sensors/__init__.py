"""Sensors: wait for a condition in Azure that the pipeline does not start itself (deferrable by default)."""
