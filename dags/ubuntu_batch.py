"""Airflow DAG ``imagepool_ubuntu_batch``: the Ubuntu Batch node image, from include/specs/ubuntu-batch.yaml."""

from __future__ import annotations

from imagepool.pipeline import pipeline_dag

dag = pipeline_dag("ubuntu-batch.yaml")
