"""Run imagepool on this machine against the local Azure cloud: start the emulator, point Airflow's
connection at it, run a pipeline's DAG and summarize what it did.
"""
