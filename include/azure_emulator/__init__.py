"""A local Azure cloud: Entra ID, ARM Microsoft.Compute and the Azure Batch data plane over HTTPS.

The unmodified Azure SDKs talk to it exactly as they talk to Azure, so the pipeline, its tests and
its benchmarks run without a subscription. Layout (the moto / Azurite pattern): each service package
has ``routes`` (URL table), ``handlers`` (parse and serialize only) and ``models`` (state and rules);
every error comes from :mod:`azure_emulator.errors`.
"""
