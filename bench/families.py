"""The image families the bench runs: copies of the bench spec that differ only in their names, so
that any number of them can run side by side in one gallery and one pair of Batch accounts, each
with its own DAG file as a project has them (a worker parses only the file of the DAG it runs).
"""

from __future__ import annotations

from pathlib import Path

import yaml

DAG_FILE = '''"""Airflow DAG of the bench's image family {name} (written by make bench)."""

from imagepool.pipeline import pipeline_dag

dag = pipeline_dag({spec!r})
'''


def write_families(spec_file: Path, out_dir: Path, count: int) -> list[Path]:
    """``count`` specs ``<name>-01``, ``<name>-02``... in ``out_dir/specs``, each with its own image
    definition and pool id prefixes (the build script is the bench spec's, by absolute path), and
    their DAG files in ``out_dir/dags``. Returns the spec files.
    """
    base = yaml.safe_load(spec_file.read_text())
    for folder in ("specs", "dags"):
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
    written = []
    for number in range(1, count + 1):
        name = f"{base['name']}-{number:02d}"
        family = {
            **base,
            "name": name,
            "gallery": {**base["gallery"], "image_definition": name},
            "build": {**base["build"], "script": str((spec_file.parent / base["build"]["script"]).resolve())},
            "batch": {
                **base["batch"],
                "pools": [
                    {**pool, "id_prefix": f"{name}-{pool['id_prefix'].rsplit('-', 1)[-1]}"}
                    for pool in base["batch"]["pools"]
                ],
            },
        }
        path = out_dir / "specs" / f"{name}.yaml"
        path.write_text(yaml.safe_dump(family, sort_keys=False))
        (out_dir / "dags" / f"{name.replace('-', '_')}.py").write_text(DAG_FILE.format(name=name, spec=str(path)))
        written.append(path)
    return written
