"""Honest answers for Salesforce APIs the emulator does not serve (SOAP, Bulk API 1.0).

A real client that reaches one of them gets an error in the shape it parses (a SOAP fault,
a Bulk API error) saying the emulator does not serve it, never a 401 that reads like an
expired login.
"""

from __future__ import annotations

from collections.abc import Mapping
from xml.sax.saxutils import escape

from lockstep.emulator.http.responses import ApiResponse

__all__ = ["answer", "message"]

_SOAP = "/services/Soap/"
_BULK = "/services/async/"
_SERVED = "the emulator serves the REST API: /services/data (query, queryAll, sobjects, composite, limits, tooling) " \
          "and /services/oauth2"
# The fault namespace each SOAP endpoint declares (/services/Soap/<kind>/<version>).
_FAULT_NAMESPACES = {
    "u": "urn:fault.partner.soap.sforce.com",
    "c": "urn:fault.enterprise.soap.sforce.com",
    "T": "urn:fault.tooling.soap.sforce.com",
    "m": "http://soap.sforce.com/2006/04/metadata",
    "s": "http://soap.sforce.com/2006/08/apex",
}
_XML = "text/xml;charset=UTF-8"


def message(api: str) -> str:
    return f"The Lockstep emulator does not serve the {api}; {_SERVED}"


def answer(path: str, headers: Mapping[str, str]) -> ApiResponse:
    """A SOAP fault (HTTP 500) for ``/services/Soap/...``, a Bulk API 1.0 error (HTTP 400) for
    ``/services/async/...``."""
    if path.startswith(_BULK.rstrip("/")):
        return _bulk_error(message("Bulk API 1.0 (/services/async)"), headers)
    kind = path.removeprefix(_SOAP).split("/", 1)[0]
    return _soap_fault(message(f"SOAP API ({path})"), _FAULT_NAMESPACES.get(kind, _FAULT_NAMESPACES["u"]))


def _soap_fault(text: str, namespace: str) -> ApiResponse:
    code = "FUNCTIONALITY_NOT_ENABLED"
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:sf="{namespace}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(text)}</faultstring>"
        '<detail><sf:UnexpectedErrorFault xsi:type="sf:UnexpectedErrorFault">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode><sf:exceptionMessage>{escape(text)}</sf:exceptionMessage>"
        "</sf:UnexpectedErrorFault></detail>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return ApiResponse(500, body.encode(), {"Content-Type": _XML})


def _bulk_error(text: str, headers: Mapping[str, str]) -> ApiResponse:
    code = "FeatureNotEnabled"
    if "json" in headers.get("content-type", "") or "json" in headers.get("accept", ""):
        return ApiResponse(400, {"exceptionCode": code, "exceptionMessage": text})
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<error xmlns="http://www.force.com/2009/06/asyncapi/dataload">'
        f"<exceptionCode>{code}</exceptionCode><exceptionMessage>{escape(text)}</exceptionMessage>"
        "</error>"
    )
    return ApiResponse(400, body.encode(), {"Content-Type": "application/xml;charset=UTF-8"})
