"""Operator extra links that open the resource an operator created in the Azure portal."""
