"""The emulator's product routes around the product itself: BOM upload, product groups, vendors.

* ``PUT /api/Product/BOM`` takes a WSBF document for an existing revision. The description says
  the server answers 500 for an invalid BOM; the emulator answers 400 with the reason (a client
  sees an error either way, and an emulator 5xx would hide real failures).
* Product groups are the emulator's seeded ones (``emu.state.product_groups``); a filter added
  with ``POST /api/Product/ProductGroupFilter`` joins the group's ``filters`` (shown by
  ``GET /api/App/ProductGroups?includeFilters=true``) and, like that seeded metadata, is kept by
  ``reset()``. A product belongs to a group when it matches one of the group's include filters
  (or the group has none) and none of its exclude filters. Filters match with the WATS
  wildcards: ``%`` any text, ``_`` one character, ``;`` between alternatives.
* Vendors are names, compared case-insensitively.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import msgspec

from pywats.formats import wsbf
from pywats.models.app import ProductGroup
from pywats.models.product import Vendor
from pywats.testing._http import HTTPFailure, Request, Response, Router, json_response
from pywats.testing._product_routes import decode_members, product_state

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["add_extra_routes", "filter_matches", "groups_of"]


def add_extra_routes(router: Router) -> None:
    """Register the BOM, product-group and vendor routes on ``router``."""
    router.add("PUT", "/api/Product/BOM", put_bom)
    router.add("POST", "/api/Product/ProductGroupFilter", post_group_filter)
    router.add("GET", "/api/Product/ProductGroupsByProduct", groups_by_product)
    router.add("GET", "/api/Product/Vendors", get_vendors)
    router.add("PUT", "/api/Product/Vendors", put_vendors)
    router.add("DELETE", "/api/Product/Vendors", delete_vendors)


# --- BOM --------------------------------------------------------------------------------------


def put_bom(emu: FakeWATS, req: Request) -> Response:
    """``PUT /api/Product/BOM``: a WSBF document replaces the revision's BOM."""
    if not req.body.strip():
        raise HTTPFailure(
            400, "The request body must be a WSBF BOM document (Content-Type: application/xml)."
        )
    try:
        bom = wsbf.loads(req.body)
    except wsbf.BomFormatError as exc:
        raise HTTPFailure(400, f"The BOM is invalid: {exc}") from exc
    st = product_state(emu)
    with st.lock:
        if not st.has_product(bom.part_number):
            raise HTTPFailure(
                400, f"Partnumber: product '{bom.part_number}' does not exist; add it first."
            )
        record = st.revision(bom.part_number, bom.revision)
        if record is None:
            raise HTTPFailure(
                400,
                f"Revision: product '{bom.part_number}' has no revision '{bom.revision}'; "
                "add it first.",
            )
        # Stored under the names the server knows (the document may differ in letter case).
        st.set_bom(
            msgspec.structs.replace(
                bom, part_number=str(record["PartNumber"]), revision=str(record["revision"])
            )
        )
    return json_response(True)


# --- product groups ---------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _pattern(text: str) -> re.Pattern[str]:
    """A WATS wildcard text (``%``, ``_``, ``;``) as a case-insensitive regular expression."""
    alternatives = []
    for part in text.split(";"):
        part = part.strip()
        if part:
            alternatives.append(
                "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in part)
            )
    return re.compile("|".join(f"(?:{a})" for a in alternatives) or "(?!)", re.I | re.S)


def _matches(pattern: str, value: str) -> bool:
    return _pattern(pattern).fullmatch(value) is not None


def filter_matches(rule: dict[str, Any], part_number: str, revision: str | None) -> bool:
    """Whether a product-group filter takes in ``part_number`` (and ``revision``).

    A filter naming a revision matches only when a revision is given and matches.
    """
    pn_rule = rule.get("partNumber")
    if not isinstance(pn_rule, str) or not _matches(pn_rule, part_number):
        return False
    rev_rule = rule.get("revision")
    if not isinstance(rev_rule, str) or not rev_rule.strip():
        return True
    return revision is not None and _matches(rev_rule, revision)


def groups_of(
    groups: list[ProductGroup], part_number: str, revision: str | None
) -> list[ProductGroup]:
    """The groups whose filters take in the product (see the module docstring)."""
    out = []
    for group in groups:
        rules = [r for r in group.filters or () if isinstance(r, dict)]
        include = [r for r in rules if not r.get("exclude")]
        exclude = [r for r in rules if r.get("exclude")]
        if include and not any(filter_matches(r, part_number, revision) for r in include):
            continue
        if any(filter_matches(r, part_number, revision) for r in exclude):
            continue
        out.append(group)
    return out


def _flag(req: Request, name: str) -> bool:
    value = req.param(name)
    if value is None or value == "":
        return False
    if value.lower() not in ("true", "false"):
        raise HTTPFailure(400, f"The value '{value}' is not valid for {name}.")
    return value.lower() == "true"


def _required(req: Request, name: str) -> str:
    value = req.param(name)
    if value is None or not value.strip():
        raise HTTPFailure(400, f"The {name} parameter is required.")
    return value


def post_group_filter(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/Product/ProductGroupFilter``: add a filter to an existing product group."""
    name = _required(req, "productGroup")
    part_number = _required(req, "partNumber")
    revision = req.param("revision") or None
    exclude = _flag(req, "exclude")
    rule: dict[str, Any] = {"partNumber": part_number, "exclude": exclude}
    if revision is not None:
        rule["revision"] = revision
    state = emu.state
    with state.lock:
        for i, group in enumerate(state.product_groups):
            if (group.product_group_name or "").casefold() == name.casefold():
                filters = list(group.filters or ())
                if rule not in filters:
                    filters.append(rule)
                updated = msgspec.structs.replace(group, filters=filters)
                state.product_groups[i] = updated
                return json_response(updated)
    raise HTTPFailure(404, f"Product group '{name}' was not found.")


def groups_by_product(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Product/ProductGroupsByProduct``: the groups the product belongs to."""
    part_number = _required(req, "partNumber")
    revision = req.param("revision") or None
    st = product_state(emu)
    with st.lock:
        if not st.has_product(part_number):
            raise HTTPFailure(404, f"Product '{part_number}' was not found.")
        if revision is not None and not st.has_revision(part_number, revision):
            raise HTTPFailure(404, f"Product '{part_number}' has no revision '{revision}'.")
    with emu.state.lock:
        groups = groups_of(list(emu.state.product_groups), part_number, revision)
    return json_response(
        [
            {"productGroupId": g.product_group_id, "productGroupName": g.product_group_name}
            for g in groups
        ]
    )


# --- vendors ----------------------------------------------------------------------------------


def _vendor_names(req: Request) -> list[str]:
    vendors = decode_members(req.body, list[Vendor], "The vendors are invalid.")
    names = []
    for n, vendor in enumerate(vendors):
        if not vendor.vendor_name.strip():
            raise HTTPFailure(400, f"Item {n}: VendorName: must not be empty.")
        names.append(vendor.vendor_name.strip())
    return names


def _vendor_list(names: list[str]) -> list[dict[str, str]]:
    return [{"VendorName": name} for name in names]


def get_vendors(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Product/Vendors``."""
    st = product_state(emu)
    with st.lock:
        return json_response(_vendor_list(st.vendors))


def put_vendors(emu: FakeWATS, req: Request) -> Response:
    """``PUT /api/Product/Vendors``: add the vendors that are not there yet."""
    names = _vendor_names(req)
    st = product_state(emu)
    with st.lock:
        known = {v.casefold() for v in st.vendors}
        for name in names:
            if name.casefold() not in known:
                st.vendors.append(name)
                known.add(name.casefold())
        return json_response(_vendor_list(st.vendors))


def delete_vendors(emu: FakeWATS, req: Request) -> Response:
    """``DELETE /api/Product/Vendors``: delete vendors; an unknown one deletes none (404)."""
    names = _vendor_names(req)
    st = product_state(emu)
    with st.lock:
        known = {v.casefold() for v in st.vendors}
        missing = [n for n in names if n.casefold() not in known]
        if missing:
            raise HTTPFailure(404, f"Vendor '{missing[0]}' was not found.")
        gone = {n.casefold() for n in names}
        st.vendors[:] = [v for v in st.vendors if v.casefold() not in gone]
        return json_response(_vendor_list(st.vendors))
