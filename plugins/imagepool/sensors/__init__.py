"""Sensors: waits for a state Azure reaches on its own, deferred to the triggerer by default."""
