"""Registers imagepool's portal links with Airflow so the UI can show them."""

from airflow.plugins_manager import AirflowPlugin

from imagepool.links.portal import ALL_LINKS


class ImagepoolPlugin(AirflowPlugin):
    name = "imagepool"
    operator_extra_links = [link() for link in ALL_LINKS]
