"""Airflow DAG ``imagepool_windows_render``: the Windows render node image, from include/specs/windows-render.yaml."""

from __future__ import annotations

from imagepool.pipeline import pipeline_dag

dag = pipeline_dag("windows-render.yaml")
