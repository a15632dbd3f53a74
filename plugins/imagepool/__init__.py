"""imagepool: build VM images into an Azure Compute Gallery and roll Azure Batch pools onto them.

Layers (one module per Azure resource family in each): ``hooks`` (the only code that imports the
Azure SDKs), ``operators``, ``sensors``, ``triggers`` (deferrable waits, run by the triggerer) and
``links`` (Azure portal links); ``spec`` describes one image family's pipeline.
"""
