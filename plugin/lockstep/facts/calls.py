"""Requests to one org, and sending many of them in as few API calls as Salesforce allows.

A request is a small frozen value (hashable, compared by what it asks), so that the same
request asked by several facts and checks is sent once:

- :class:`Query` and :class:`ToolingQuery`: every row of a SOQL query (all pages);
- :class:`Get`: the JSON body of a REST GET (``limits``, an sObject, Apex REST
  ``/services/apexrest/...``);
- :class:`SmokeTest`: create a record, read it back, delete it, in one ``/composite``
  request with ``allOrNone``: the record as the org stored it (after its automation ran);
- :class:`ApiVersions`: the API versions the org serves (asked once at login, not charged).

:class:`Answers` keeps one org's answers. :meth:`Answers.gather` sends the missing ones:
queries together through ``/composite`` and ``/tooling/composite`` (at most 5 queries and 25
subrequests per call), other GETs one by one (Salesforce serves neither ``limits`` nor Apex
REST inside ``/composite``), one request at a time per org. A smoke test rides in a data
query composite (after its queries, so they see the org as it was), else it is a composite of
its own.

A failed request (the org's error, or a whole composite failing) is remembered and raised
again to each reader; the org is not asked again.

Smoke tests write, so their composite is sent only inside the org's write grant, given to
:meth:`Answers.gather` for the smoke tests a ``writes`` check planned on an org that allows
writes; any other smoke test is answered :class:`WriteRefused` without reaching the org.
``allOrNone`` makes the three steps one transaction: when reading back or deleting fails,
the create is rolled back too, so no record is ever left behind. The queries sharing its
composite are rolled back with it (PROCESSING_HALTED) and sent again without it; when one of
them fails, the smoke test is sent again on its own: a failure costs one call more, never a
wrong answer.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from lockstep.salesforce.client import OrgClient, error_for
from lockstep.salesforce.errors import NotFound, SalesforceError, WriteRefused, one_line
from lockstep.salesforce.guard import REFUSED

__all__ = ["Answers", "ApiUsage", "ApiVersions", "Get", "Query", "Request", "SmokeTest", "ToolingQuery"]

MAX_SUBREQUESTS = 25
MAX_QUERIES_PER_COMPOSITE = 5
_HALTED = "PROCESSING_HALTED"


@dataclass(frozen=True)
class Query:
    """Every row of a SOQL query through the REST API (all pages)."""

    soql: str


@dataclass(frozen=True)
class ToolingQuery:
    """Every row of a SOQL query through the Tooling API (all pages)."""

    soql: str


@dataclass(frozen=True)
class Get:
    """The JSON body of a read-only GET: ``limits`` (relative to ``/services/data/vNN.0/``) or an
    absolute path such as ``/services/apexrest/health``."""

    path: str


@dataclass(frozen=True)
class ApiVersions:
    """The API versions the org serves (``/services/data/``; asked at login, not charged)."""


@dataclass(frozen=True)
class ApiUsage:
    """The org's daily API requests, ``{"Max": M, "Remaining": R}``, as its answers report them
    in the ``Sforce-Limit-Info`` header: no call of its own when other requests are sent to the
    org (read after them); ``GET limits/`` otherwise."""


@dataclass(frozen=True)
class SmokeTest:
    """Create one ``sobject`` record with ``create``, read back ``read`` (every field when
    empty) and delete it: one ``/composite`` call with ``allOrNone``. The answer is the record
    as read back. Only for checks marked ``@pytest.mark.writes``."""

    sobject: str
    create: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    read: Sequence[str] = ()
    _key: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "read", tuple(self.read))
        object.__setattr__(self, "create", dict(self.create))
        object.__setattr__(self, "_key", json.dumps(self.create, sort_keys=True, default=str))

    def subrequests(self, base: str) -> list[dict[str, Any]]:
        record = f"{base}/sobjects/{self.sobject}/@{{created.id}}"
        fields = f"?fields={quote(','.join(self.read), safe=',')}" if self.read else ""
        return [
            {"method": "POST", "url": f"{base}/sobjects/{self.sobject}", "referenceId": "created",
             "body": self.create},
            {"method": "GET", "url": record + fields, "referenceId": "read"},
            {"method": "DELETE", "url": record, "referenceId": "deleted"},
        ]


Request = Query | ToolingQuery | Get | ApiVersions | ApiUsage | SmokeTest
Result = Any | SalesforceError
Grant = Callable[[], AbstractContextManager[None]]


class Answers:
    """One org's answers to requests, each asked of the org at most once."""

    def __init__(self, client: OrgClient) -> None:
        self.client = client
        self._lock = threading.RLock()
        self._results: dict[Request, Result] = {}
        self._pages: dict[Query | ToolingQuery, tuple[list[dict[str, Any]], str]] = {}  # rows so far, next page

    def gather(self, requests: Iterable[Request], grant: Grant | None = None,
               writable: Iterable[Request] = ()) -> None:
        """Send the requests not answered yet in as few API calls as possible.

        ``grant`` (given only for an org that allows writes) opens the org's writes for the
        smoke tests of ``writable`` (planned by ``writes`` checks); every other smoke test is
        refused without reaching the org. Never raises for the org's errors: they are
        remembered per request."""
        allowed = set(writable) if grant is not None else set()
        with self._lock:
            missing = [r for r in dict.fromkeys(requests) if r not in self._results]
            smoke = [r for r in missing if isinstance(r, SmokeTest) and r in allowed]
            for kind in (Query, ToolingQuery):
                queue = [r for r in missing if isinstance(r, kind)]
                while queue or self._pages:
                    # the next pages of earlier answers ride with the next queries (both are query
                    # operations, five to a composite); a smoke test rides in the last batch without pages
                    pages = list(self._pages)[:MAX_QUERIES_PER_COMPOSITE]
                    batch, queue = (queue[:MAX_QUERIES_PER_COMPOSITE - len(pages)],
                                    queue[MAX_QUERIES_PER_COMPOSITE - len(pages):])
                    rider = smoke.pop() if kind is Query and smoke and batch and not pages and not queue else None
                    self._queries(kind, batch, rider, grant, pages)
            for request in missing:
                if isinstance(request, Get):
                    self._answer(request, functools.partial(self.client.get, request.path))
                elif isinstance(request, ApiVersions):
                    self._answer(request, self.client.versions)
                elif isinstance(request, SmokeTest) and request not in self._results:
                    if request in allowed:
                        assert grant is not None
                        with grant():
                            self._answer(request, functools.partial(self._smoke_test, request))
                    else:
                        self._results[request] = self._refusal(grant is not None)
            for request in missing:  # last: the usage the other answers reported
                if isinstance(request, ApiUsage):
                    self._answer(request, self._api_usage)

    def _api_usage(self) -> dict[str, int]:
        usage = self.client.counter.api_usage
        if usage is None:
            daily = self.client.get("limits/").get("DailyApiRequests") or {}
            return {"Max": int(daily["Max"]), "Remaining": int(daily["Remaining"])}
        used, maximum = usage
        return {"Max": maximum, "Remaining": max(0, maximum - used)}

    def result(self, request: Request) -> Any:
        """The answer (sent now when not gathered yet); raises the org's error for it."""
        with self._lock:
            if request not in self._results:
                self.gather([request])
            value = self._results[request]
        if isinstance(value, SalesforceError):
            raise self.client.handed_out(value.again())
        return value

    def error(self, request: Request) -> SalesforceError | None:
        """The remembered failure of a gathered request, or ``None``; never asks the org."""
        with self._lock:
            value = self._results.get(request)
        return self.client.handed_out(value.again()) if isinstance(value, SalesforceError) else None

    def _answer(self, request: Request, send: Callable[[], Any]) -> None:
        try:
            self._results[request] = send()
        except SalesforceError as exc:
            self._results[request] = exc
        except Exception as exc:  # noqa: BLE001 - an odd answer costs this request only
            self._results[request] = SalesforceError(self.client.name, "UNEXPECTED_ANSWER",
                                                     one_line(f"{type(exc).__name__}: {exc}")[:200])

    def _refusal(self, org_allows_writes: bool) -> WriteRefused:
        if not org_allows_writes:
            return WriteRefused(self.client.name, None, "allow_writes is false for this org")
        return WriteRefused(self.client.name, None, f"POST {self.client.base_path}/composite: {REFUSED}")

    def _single_query(self, request: Query | ToolingQuery) -> None:
        run = self.client.query if isinstance(request, Query) else self.client.tooling_query
        self._answer(request, lambda: self._complete(run(request.soql)))

    def _queries(self, kind: type, batch: list[Query | ToolingQuery], rider: SmokeTest | None = None,
                 grant: Grant | None = None, pages: Sequence[Query | ToolingQuery] = ()) -> None:
        """One composite for ``batch`` and the next ``pages`` of earlier answers (a lone query is
        a plain GET, a lone page the rest of its pages), with the smoke test ``rider`` after the
        queries when given: then ``allOrNone``, sent inside the org's write grant, and what a
        failure of the other part rolled back (PROCESSING_HALTED) is sent again on its own."""
        if len(batch) + len(pages) == 1 and rider is None:
            if batch:
                self._single_query(batch[0])
            else:
                self._last_pages(pages[0])
            return
        try:
            answers = self._send_composite(kind is ToolingQuery, batch, pages, rider, grant)
        except SalesforceError as exc:
            self._composite_failed(exc, batch, pages, rider)
            return
        halted = self._take_answers(batch, pages, answers)
        if rider is not None:
            self._take_rider(kind, rider, answers, halted)

    def _send_composite(self, tooling: bool, batch: Sequence[Query | ToolingQuery],
                        pages: Sequence[Query | ToolingQuery], rider: SmokeTest | None,
                        grant: Grant | None) -> dict[str, Mapping[str, Any]]:
        """The answers of one composite, by reference: ``q<i>`` for the batch, ``p<i>`` for the pages."""
        prefix = f"{self.client.base_path}/{'tooling/' if tooling else ''}query/?q="
        subrequests = [{"method": "GET", "url": prefix + quote(r.soql), "referenceId": f"q{i}"}
                       for i, r in enumerate(batch)]
        subrequests += [{"method": "GET", "url": self._pages[r][1], "referenceId": f"p{i}"}
                        for i, r in enumerate(pages)]
        if rider is None:
            send = self.client.tooling_composite if tooling else self.client.composite
            return _by_reference(send(subrequests))
        assert grant is not None
        with grant():
            return _by_reference(self.client.composite(
                subrequests + rider.subrequests(self.client.base_path), all_or_none=True))

    def _composite_failed(self, exc: SalesforceError, batch: Sequence[Query | ToolingQuery],
                          pages: Sequence[Query | ToolingQuery], rider: SmokeTest | None) -> None:
        """Every request of a failed composite keeps its error; where the org serves no composite,
        each query is sent on its own (and a smoke test left unanswered, by ``gather``)."""
        if not _composite_unsupported(exc):
            for query in pages:
                del self._pages[query]
            for request in [*batch, *pages, *([rider] if rider else [])]:
                self._results[request] = exc
            return
        for request in batch:
            self._single_query(request)
        for request in pages:
            self._last_pages(request)

    def _take_answers(self, batch: Sequence[Query | ToolingQuery], pages: Sequence[Query | ToolingQuery],
                      answers: Mapping[str, Mapping[str, Any]]) -> list[Query | ToolingQuery]:
        """Take each query's page from the composite's answers; the queries a failing smoke test
        rolled back (PROCESSING_HALTED)."""
        halted = []
        for i, request in enumerate(batch):
            self._page(request, [], answers.get(f"q{i}"))
            result = self._results.get(request)
            if isinstance(result, SalesforceError) and result.code == _HALTED:
                halted.append(request)
        for i, request in enumerate(pages):
            self._page(request, self._pages.pop(request)[0], answers.get(f"p{i}"))
        return halted

    def _take_rider(self, kind: type, rider: SmokeTest, answers: Mapping[str, Mapping[str, Any]],
                    halted: list[Query | ToolingQuery]) -> None:
        """The smoke test's answer; what one part's failure rolled back is sent again without the other."""
        self._answer(rider, lambda: self._smoke_result(answers))
        answer = self._results[rider]
        if isinstance(answer, SalesforceError) and answer.code == _HALTED:
            del self._results[rider]  # a query failed: the smoke test is sent on its own (gather)
        if halted:  # the smoke test failed: the queries it rolled back are sent again without it
            for request in halted:
                del self._results[request]
            self._queries(kind, halted)

    def _page(self, request: Query | ToolingQuery, rows: list[dict[str, Any]],
              answer: Mapping[str, Any] | None) -> None:
        """Take one page of ``request``'s answer: its rows when it is the last, else keep them and
        the next page's URL for a later composite."""
        body = _body(self.client.name, answer)
        records = body.get("records") if isinstance(body, dict) else None
        if isinstance(body, SalesforceError) or not isinstance(records, list):
            self._results[request] = self._rows(answer)
            return
        url = body.get("nextRecordsUrl")
        if body.get("done", True) or not isinstance(url, str) or not url:
            self._results[request] = self._rows({"httpStatusCode": 200, "body": {**body, "records": rows + records}})
            return
        self._pages[request] = (rows + records, url)

    def _last_pages(self, request: Query | ToolingQuery) -> None:
        rows, url = self._pages.pop(request)
        self._results[request] = self._rows(
            {"httpStatusCode": 200, "body": {"records": rows, "done": False, "nextRecordsUrl": url}})

    def _rows(self, answer: Mapping[str, Any] | None) -> Result:
        """The rows of one query subrequest's answer (every page), or the error it stands for."""
        body = _body(self.client.name, answer)
        if isinstance(body, SalesforceError):
            return body
        try:
            return self._complete(self.client.more(body))
        except SalesforceError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - an odd answer costs this request only
            return SalesforceError(self.client.name, "UNEXPECTED_ANSWER",
                                   one_line(f"{type(exc).__name__}: {exc}")[:200])

    def _complete(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Page every child subquery of ``rows`` to its end (Salesforce pages long child lists)."""
        for row in rows:
            if not isinstance(row, dict):
                continue  # not a record: left for the fact or check reading it to reject
            for key, value in row.items():
                if isinstance(value, dict) and isinstance(value.get("records"), list) and not value.get("done", True):
                    row[key] = {**value, "records": self.client.more(value), "done": True}
        return rows

    def _smoke_test(self, request: SmokeTest) -> Any:
        return self._smoke_result(
            _by_reference(self.client.composite(request.subrequests(self.client.base_path), all_or_none=True)))

    def _smoke_result(self, answers: Mapping[str, Mapping[str, Any]]) -> Any:
        """The record a smoke test read back, from its composite's answers; raises the failing step's error."""
        results = {ref: _body(self.client.name, answers.get(ref)) for ref in ("created", "read", "deleted")}
        failed = [r for r in results.values() if isinstance(r, SalesforceError)]
        if failed:
            # allOrNone: the failing step keeps its error, the others are PROCESSING_HALTED
            raise next((e for e in failed if e.code != _HALTED), failed[0])
        record = results["read"]
        if not isinstance(record, Mapping):
            raise SalesforceError(self.client.name, "UNEXPECTED_ANSWER", "the record read back is not a JSON object")
        return dict(record)


def _by_reference(items: Iterable[Any]) -> dict[str, Mapping[str, Any]]:
    return {str(a.get("referenceId")): a for a in items if isinstance(a, Mapping)}


def _body(org: str, answer: Mapping[str, Any] | None) -> Any:
    """The body of a composite subrequest's answer, or the error it stands for."""
    if answer is None:
        return SalesforceError(org, "UNEXPECTED_ANSWER", "the composite answer has no result for the request")
    status = answer.get("httpStatusCode")
    if not isinstance(status, int):
        return SalesforceError(org, "UNEXPECTED_ANSWER", "a composite result without an HTTP status")
    if status >= 300:
        return error_for(org, status, answer.get("body"))
    return answer.get("body")


def _composite_unsupported(exc: SalesforceError) -> bool:
    """Whether the composite resource itself is not served (then single queries are worth it)."""
    return isinstance(exc, NotFound) or exc.status in (404, 405) or exc.code == "METHOD_NOT_ALLOWED"
