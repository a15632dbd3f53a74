"""Airflow DAGs of the benchmark: one imagepool pipeline per spec file in the directory that
``IMAGEPOOL_BENCH_SPECS`` names (``make bench`` writes its image families there)."""

import os
from pathlib import Path

from imagepool.pipeline import pipeline_dag

for spec_file in sorted(Path(os.environ["IMAGEPOOL_BENCH_SPECS"]).glob("*.yaml")):
    dag = pipeline_dag(spec_file)
    globals()[dag.dag_id] = dag
