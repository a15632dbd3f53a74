"""The imagepool view in the Airflow UI: every image family's versions, pools and last runs (see app.py)."""
