"""Deferrable waits, run by the triggerer: they hold plain JSON and poll with the aio clients."""
