"""The Batch data-plane tests' fixtures (defined beside their helpers in batch_support)."""

from __future__ import annotations

from tests.integration.emulator.batch_support import fast, pools, second_batch, shared_key_batch

__all__ = ["fast", "pools", "second_batch", "shared_key_batch"]
