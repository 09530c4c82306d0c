"""Titles with control characters: refused at creation, and never ill-formed capabilities."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from starlette.testclient import TestClient

from ondemand.text import check_title, xml_safe
from services.state import AppState
from tests.support.seed import use_case_1_job

CONTROL_TITLES = ["bad\x01title", "tab\x0bvertical", "bell\x07", "escape\x1b[31m", "nul\x00"]


def _state(client: TestClient) -> AppState:
    value = client.app.state.ondemand  # type: ignore[attr-defined]
    assert isinstance(value, AppState)
    return value


def _job(client: TestClient, **extra: Any) -> Any:
    return client.post("/jobs", json={"process_graph": use_case_1_job()["process_graph"],
                                      **extra})


@pytest.mark.parametrize("title", CONTROL_TITLES)
def test_control_characters_in_titles_are_400(client: TestClient, title: str) -> None:
    made = _job(client, title=title)
    assert made.status_code == 400, made.text
    assert made.json()["code"] == 2103 and "control character" in made.json()["message"]
    job = _job(client, title="fine")
    job_id = job.json()["job_id"]
    try:
        patched = client.patch(f"/jobs/{job_id}", json={"title": title})
        assert patched.status_code == 400 and "control character" in patched.json()["message"]
        service = client.post("/services", json={"job_id": job_id, "type": "wmts",
                                                 "title": title})
        assert service.status_code == 400 and "control character" in service.json()["message"]
        assert client.get(f"/jobs/{job_id}").json()["title"] == "fine"
    finally:
        client.delete(f"/jobs/{job_id}")


def test_text_titles_keep_tabs_newlines_and_unicode(client: TestClient) -> None:
    title = "Ernte 2017\tÄcker\nzweite Zeile ✓ <&>"
    job = _job(client, title=title)
    assert job.status_code == 200, job.text
    job_id = job.json()["job_id"]
    try:
        assert client.get(f"/jobs/{job_id}").json()["title"] == title
    finally:
        client.delete(f"/jobs/{job_id}")


def test_stored_control_characters_still_give_well_formed_capabilities(
    client: TestClient,
) -> None:
    """Titles stored before the check (or written to the store directly) are cleaned."""
    store = _state(client).jobs
    job = store.create_job("local", use_case_1_job()["process_graph"], None, "old\x01job\x1f")
    try:
        wmts = store.create_service(job.job_id, "local", "wmts", {}, "svc\x02<t>")
        store.update_job(job.job_id, "local", mode="on_demand", status="running")
        wcs = store.create_service(job.job_id, "local", "wcs", {}, "cov\x03")
        caps = client.get(f"/services/{wmts.service_id}/wmts?SERVICE=WMTS&REQUEST=GetCapabilities")
        assert caps.status_code == 200, caps.text
        titles = [e.text for e in ET.fromstring(caps.content).iter()
                  if e.tag.endswith("}Title")]
        assert "oldjob" in titles and all(t and "\x01" not in t for t in titles)
        for version in ("2.0.1", "1.0.0"):
            wcs_caps = client.get(f"/services/{wcs.service_id}/wcs?SERVICE=WCS&"
                                  f"REQUEST=GetCapabilities&VERSION={version}")
            assert wcs_caps.status_code == 200, wcs_caps.text
            ET.fromstring(wcs_caps.content)
    finally:
        store.delete_job(job.job_id, "local")


def test_check_title_and_xml_safe() -> None:
    assert check_title(None) is None and check_title("a\tb\r\nc") == "a\tb\r\nc"
    assert xml_safe("a\x00b\x08c\x7fd\ufffee") == "abcde"
    assert xml_safe("keep\t\n\r ✓") == "keep\t\n\r ✓"
