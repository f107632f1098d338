"""The emulator's ``software`` routes:

Software packages for stations: files, zips, status workflow, tags (tag Software).

What the emulator does, as the server's description says (``docs/software.md``):

* A new package is Draft; a name that exists gets the next version (names compare
  case-insensitively). The workflow is Draft → Pending → Released → Revoked, with Pending →
  Draft; any other move is a 400 naming the package's status and the one asked for.
* Only a Draft package changes its content: details (PUT), files (zip upload) and file
  attributes. A Pending or Released package (and a Revoked one) changes only its tags and status;
  a PUT that changes anything else is a 400 naming the fields.
* Only a Draft or Revoked package may be deleted (a 400 otherwise); a delete answers 204.
* Look-ups with a status that is none of the four find nothing (the server filters by it): 404
  by name, an empty list by tag. A tag without ``=`` has an empty value.
* The files of a package are listed as uploaded, with their attribute (``None`` at first); their
  content is kept (:meth:`SoftwareState.file_content`): the server serves it only on internal
  routes, which the emulator does not have.
"""

from __future__ import annotations

import threading
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec

from pywats.models.software import (
    STATUS_MOVES,
    FileAttribute,
    Package,
    PackageFile,
    PackageStatus,
    PackageTag,
    VirtualFolder,
)
from pywats.testing._http import HTTPFailure, Request, Response, Router, decode_json, json_response
from pywats.testing._software_zip import ZipLimits, unpack_zip, zip_part

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["SoftwareState", "StoredFile", "add_software_routes", "software_state"]

_STATUSES = ", ".join(s.value for s in PackageStatus)
_ATTRIBUTES = ", ".join(a.value for a in FileAttribute)
# What a PUT may change on a package that is not Draft.
_FROZEN_FIELDS = (
    "name",
    "description",
    "install_on_root",
    "root_directory",
    "priority",
    "virtual_folder_id",
)


class _PackageIn(msgspec.Struct, kw_only=True, rename="camel"):
    """A package as a client sends it: ``tags`` also as ``<PackageInfo>`` XML text (the PUT's
    description asks for that format, while its body's type is a list)."""

    package_id: str | None = None
    name: str | None = None
    install_on_root: bool | None = None
    description: str | None = None
    root_directory: str | None = None
    tags: list[PackageTag] | str | None = None
    status: str | None = None
    priority: int | None = None
    virtual_folder_id: str | None = None


@dataclass
class StoredFile:
    """One file of a package, as uploaded."""

    file_id: str
    package_id: str
    folder: str
    name: str
    content: bytes
    attribute: FileAttribute = FileAttribute.NONE

    def dto(self) -> PackageFile:
        """The file as the server lists it."""
        return PackageFile(
            package_file_id=self.file_id,
            name=self.name,
            package_folder_name=self.folder,
            attributes=self.attribute.value,
        )


def _folder_id(name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"pywats-emulator/software/folder/{name}")


def default_virtual_folders() -> list[VirtualFolder]:
    """A small Production Manager tree: Software with test sequences (per line), firmware and
    tools."""

    def folder(name: str, parent: str | None, description: str) -> VirtualFolder:
        return VirtualFolder(
            id=_folder_id(name),
            parent_id=_folder_id(parent) if parent else None,
            name=name,
            description=description,
        )

    return [
        folder("Software", None, "Every package"),
        folder("Test sequences", "Software", "TestStand sequences and their code modules"),
        folder("Line 1", "Test sequences", "Sequences of production line 1"),
        folder("Firmware", "Software", "Images programmed into units"),
        folder("Tools", "Software", "Station tools and drivers"),
    ]


@dataclass
class SoftwareState:
    """The packages, their files and the virtual folders (``emu.domain_state("software", …)``).

    Attributes:
        zip_limits: how much one zip upload may hold (members, unpacked bytes, ratio).
    """

    packages: dict[str, Package] = field(default_factory=dict)  # lower-case id -> package
    files: dict[str, StoredFile] = field(default_factory=dict)  # lower-case file id -> file
    virtual_folders: list[VirtualFolder] = field(default_factory=default_virtual_folders)
    zip_limits: ZipLimits = field(default_factory=ZipLimits)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def package(self, package_id: str) -> Package:
        """A package by id (any letter case).

        Raises:
            HTTPFailure: 404.
        """
        found = self.packages.get(package_id.strip().lower())
        if found is None:
            raise HTTPFailure(404, f"Software package {package_id} was not found.")
        return found

    def package_files(self, package_id: str) -> list[StoredFile]:
        """The files of a package, by folder and name."""
        key = package_id.lower()
        found = [f for f in self.files.values() if f.package_id == key]
        return sorted(found, key=lambda f: (f.folder.casefold(), f.name.casefold()))

    def file_content(self, file_id: str) -> bytes:
        """The content of a package file as it was uploaded (for tests).

        Raises:
            KeyError: no file has that id.
        """
        return self.files[file_id.lower()].content

    def versions(self, name: str) -> list[Package]:
        """Every version of the package named ``name`` (case-insensitive), oldest first."""
        wanted = name.casefold()
        found = [p for p in self.packages.values() if (p.name or "").casefold() == wanted]
        return sorted(found, key=lambda p: p.version or 0)


def software_state(emu: FakeWATS) -> SoftwareState:
    """The emulator's software packages."""
    return emu.domain_state("software", SoftwareState)


def add_software_routes(router: Router) -> None:
    """Register the software routes on ``router``."""
    router.add("POST", "/api/Software/Package", post_package)
    router.add("GET", "/api/Software/Package/{id}", get_package)
    router.add("PUT", "/api/Software/Package/{id}", put_package)
    router.add("DELETE", "/api/Software/Package/{id}", delete_package)
    router.add("POST", "/api/Software/Package/FileAttribute/{id}", post_file_attribute)
    router.add("POST", "/api/Software/Package/UploadZip/{id}", post_zip)
    router.add("GET", "/api/Software/PackageByName", get_by_name)
    router.add("DELETE", "/api/Software/PackageByName", delete_by_name)
    router.add("GET", "/api/Software/PackageFiles/{id}", get_files)
    router.add("GET", "/api/Software/Packages", get_packages)
    router.add("GET", "/api/Software/PackagesByTag", get_by_tag)
    router.add("POST", "/api/Software/PackageStatus/{id}", post_status)
    router.add("GET", "/api/Software/VirtualFolders", get_virtual_folders)


# --- parameters -------------------------------------------------------------------------------


def _required(req: Request, name: str) -> str:
    value = req.param(name)
    if value is None or not value.strip():
        raise HTTPFailure(400, f"The {name} parameter is required.")
    return value.strip()


def _int(req: Request, name: str) -> int | None:
    value = req.param(name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not -(2**31) <= number < 2**31:
        raise HTTPFailure(400, f"The value '{value}' is not valid for {name}.")
    return number


def _bool(req: Request, name: str) -> bool:
    value = req.param(name)
    if value is None:
        return False
    if value.lower() not in ("true", "false"):
        raise HTTPFailure(400, f"The value '{value}' is not valid for {name}.")
    return value.lower() == "true"


def _status(value: str) -> PackageStatus | None:
    """A status given by name (case-insensitive, as the server parses enums), or ``None``."""
    for status in PackageStatus:
        if status.value.casefold() == value.strip().casefold():
            return status
    return None


def _command_status(value: str) -> PackageStatus:
    status = _status(value)
    if status is None:
        raise HTTPFailure(400, f"status: '{value}' is not a package status ({_STATUSES}).")
    return status


def _now() -> datetime:
    return datetime.now(UTC)


def _body(req: Request) -> _PackageIn:
    if not req.body.strip():
        raise HTTPFailure(400, "The request body is required: a software package.")
    return decode_json(req.body, _PackageIn, "The software package is invalid.")


# --- validating what a client sends ----------------------------------------------------------


def _tags(given: list[PackageTag] | str | None) -> list[PackageTag]:
    if given is None:
        return []
    if isinstance(given, str):
        return _xml_tags(given)
    out: list[PackageTag] = []
    for i, tag in enumerate(given):
        if not tag.key or not tag.key.strip():
            raise HTTPFailure(400, f"tags[{i}].key: a tag needs a name.")
        if "=" in tag.key:
            raise HTTPFailure(400, f"tags[{i}].key: a tag name cannot contain '=': {tag.key!r}.")
        out.append(PackageTag(key=tag.key, value=tag.value if tag.value is not None else ""))
    return out


def _xml_tags(text: str) -> list[PackageTag]:
    """``<PackageInfo><name>value</name>…</PackageInfo>`` as tags."""
    if not text.strip():
        return []
    if "<!" in text:  # no DOCTYPE, no entities: nothing to expand
        raise HTTPFailure(400, "tags: the PackageInfo XML may not declare a DOCTYPE or entities.")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise HTTPFailure(400, f"tags: not PackageInfo XML: {exc}") from None
    if root.tag != "PackageInfo":
        raise HTTPFailure(400, f"tags: the XML's root must be <PackageInfo>, not <{root.tag}>.")
    return [PackageTag(key=child.tag, value=(child.text or "").strip()) for child in root]


def _folder(state: SoftwareState, value: str | None) -> uuid.UUID | None:
    if value is None or not value.strip():
        return None
    try:
        wanted = uuid.UUID(value)
    except ValueError:
        raise HTTPFailure(400, f"virtualFolderId: '{value}' is not a GUID.") from None
    if wanted.int == 0:
        return None  # the empty GUID: no folder, as the description's example shows it
    if not any(f.id == wanted for f in state.virtual_folders):
        raise HTTPFailure(400, f"virtualFolderId: {wanted} is not a virtual folder.")
    return wanted


def _name(value: str | None) -> str:
    if value is None or not value.strip():
        raise HTTPFailure(400, "name: a software package needs a name.")
    if len(value) > 256:
        raise HTTPFailure(400, "name: at most 256 characters.")
    return value.strip()


def _check_move(package: Package, wanted: PackageStatus) -> None:
    current = package.status or PackageStatus.DRAFT
    if wanted not in STATUS_MOVES[current]:
        allowed = ", ".join(f"{a.value} to {b.value}" for a, bs in STATUS_MOVES.items() for b in bs)
        raise HTTPFailure(
            400,
            f"Software package {package.name} version {package.version} is {current.value}; "
            f"it cannot go to {wanted.value}. Status changes allowed: {allowed}.",
        )


def _moved(package: Package, wanted: PackageStatus, user: str | None) -> Package:
    now = _now()
    changes: dict[str, object] = {"status": wanted, "modified": now, "modified_by": user}
    if wanted is PackageStatus.RELEASED:
        changes.update(released=now, released_by=user)
    elif wanted is PackageStatus.REVOKED:
        changes.update(revoked=now, revoked_by=user)
    return msgspec.structs.replace(package, **changes)


def _require_draft(package: Package, what: str) -> None:
    if package.status is not PackageStatus.DRAFT:
        status = package.status.value if package.status else "?"
        raise HTTPFailure(
            400,
            f"Software package {package.name} version {package.version} is {status}; "
            f"only a Draft package's {what} can change.",
        )


# --- packages ---------------------------------------------------------------------------------


def post_package(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/Software/Package``: a new Draft package (the next version of its name)."""
    given = _body(req)
    state = software_state(emu)
    name = _name(given.name)
    tags = _tags(given.tags)
    folder = _folder(state, given.virtual_folder_id)
    now = _now()
    with state.lock:
        version = max((p.version or 0 for p in state.versions(name)), default=0) + 1
        package = Package(
            package_id=uuid.uuid4(),
            name=name,
            install_on_root=bool(given.install_on_root),
            version=version,
            description=given.description,
            tags=tags,
            status=PackageStatus.DRAFT,
            priority=given.priority if given.priority is not None else 0,
            virtual_folder_id=folder,
            created=now,
            created_by=req.user,
            modified=now,
            modified_by=req.user,
        )
        state.packages[str(package.package_id)] = package
    return json_response(package)


def get_package(emu: FakeWATS, req: Request, id: str) -> Response:  # noqa: A002 - route name
    """``GET /api/Software/Package/{id}``."""
    return json_response(software_state(emu).package(id))


def put_package(emu: FakeWATS, req: Request, id: str) -> Response:  # noqa: A002 - route name
    """``PUT /api/Software/Package/{id}``: overwrite a Draft package; tags and status of others."""
    given = _body(req)
    state = software_state(emu)
    wanted = _command_status(given.status) if given.status else None
    tags = _tags(given.tags) if given.tags is not None else None
    with state.lock:
        package = state.package(id)
        if package.status is PackageStatus.DRAFT:
            name = _name(given.name)
            clash = [p for p in state.versions(name) if p.version == package.version]
            if any(p.package_id != package.package_id for p in clash):
                raise HTTPFailure(400, f"name: version {package.version} of {name} exists already.")
            # The description: "Will overwrite any existing data for this Package".
            changed = msgspec.structs.replace(
                package,
                name=name,
                description=given.description,
                install_on_root=bool(given.install_on_root),
                root_directory=given.root_directory,
                priority=given.priority if given.priority is not None else 0,
                virtual_folder_id=_folder(state, given.virtual_folder_id),
                tags=tags or [],
            )
        else:
            refused = _frozen_changes(package, given)
            if refused:
                raise HTTPFailure(
                    400,
                    f"Software package {package.name} version {package.version} is "
                    f"{(package.status or PackageStatus.DRAFT).value}: only its status and tags "
                    f"can change, not {', '.join(refused)}.",
                )
            changed = package if tags is None else msgspec.structs.replace(package, tags=tags)
        changed = msgspec.structs.replace(changed, modified=_now(), modified_by=req.user)
        if wanted is not None and wanted is not package.status:
            _check_move(package, wanted)
            changed = _moved(changed, wanted, req.user)
        state.packages[str(package.package_id)] = changed
    return Response(status=200)


def _frozen_changes(package: Package, given: _PackageIn) -> list[str]:
    """The camelCase names of the fields ``given`` changes that a non-Draft package keeps."""
    out: list[str] = []
    for name in _FROZEN_FIELDS:
        value = getattr(given, name)
        if value is None:
            continue  # not sent: nothing to change
        current = getattr(package, name)
        if name == "virtual_folder_id":
            try:
                value = uuid.UUID(value) if uuid.UUID(value).int else None
            except ValueError:
                raise HTTPFailure(400, f"virtualFolderId: '{value}' is not a GUID.") from None
        if name == "name":
            same = value.strip().casefold() == (current or "").casefold()
        else:
            same = value == current or (name == "install_on_root" and not value and not current)
        if not same:
            out.append(_CAMEL[name])
    return out


_CAMEL = {
    "name": "name",
    "description": "description",
    "install_on_root": "installOnRoot",
    "root_directory": "rootDirectory",
    "priority": "priority",
    "virtual_folder_id": "virtualFolderId",
}


def _delete(state: SoftwareState, package: Package) -> Response:
    status = package.status or PackageStatus.DRAFT
    if status not in (PackageStatus.DRAFT, PackageStatus.REVOKED):
        raise HTTPFailure(
            400,
            f"Software package {package.name} version {package.version} is {status.value}; "
            "only a Draft or Revoked package can be deleted.",
        )
    key = str(package.package_id)
    del state.packages[key]
    for file in state.package_files(key):
        del state.files[file.file_id]
    return Response(status=204, content_type="text/plain; charset=utf-8")


def delete_package(emu: FakeWATS, req: Request, id: str) -> Response:  # noqa: A002 - route name
    """``DELETE /api/Software/Package/{id}``: only a Draft or Revoked package; 204."""
    state = software_state(emu)
    with state.lock:
        return _delete(state, state.package(id))


def get_by_name(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Software/PackageByName?name=&status=[&version=]``: the highest version in that
    status, or the given version if it is in it."""
    name = _required(req, "name")
    status_text = _required(req, "status")
    version = _int(req, "version")
    state = software_state(emu)
    with state.lock:
        versions = state.versions(name)
    if not versions:
        raise HTTPFailure(404, f"No software package is named {name}.")
    status = _status(status_text)
    found = [
        p for p in versions if p.status is status and (version is None or p.version == version)
    ]
    if not found:
        which = f"version {version} of {name}" if version is not None else name
        raise HTTPFailure(404, f"No {status_text} {which} was found (statuses: {_STATUSES}).")
    return json_response(found[-1])


def delete_by_name(emu: FakeWATS, req: Request) -> Response:
    """``DELETE /api/Software/PackageByName?name=&version=``: as the delete by id."""
    name = _required(req, "name")
    _required(req, "version")
    version = _int(req, "version")
    state = software_state(emu)
    with state.lock:
        found = [p for p in state.versions(name) if p.version == version]
        if not found:
            raise HTTPFailure(404, f"Version {version} of software package {name} was not found.")
        return _delete(state, found[0])


def get_packages(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Software/Packages``: every package (a list, although the description types
    the answer as one package), by name and version."""
    state = software_state(emu)
    with state.lock:
        found = sorted(
            state.packages.values(), key=lambda p: ((p.name or "").casefold(), p.version or 0)
        )
    return json_response(found)


def get_by_tag(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Software/PackagesByTag?tag=name=value&status=``: tag name case-sensitive,
    value not."""
    tag = _required(req, "tag")
    status = _status(_required(req, "status"))
    key, _, value = tag.partition("=")
    state = software_state(emu)
    with state.lock:
        found = [
            p
            for p in state.packages.values()
            if p.status is status
            and any(
                t.key == key and (t.value or "").casefold() == value.casefold()
                for t in p.tags or ()
            )
        ]
    found.sort(key=lambda p: ((p.name or "").casefold(), p.version or 0))
    return json_response(found)


def post_status(emu: FakeWATS, req: Request, id: str) -> Response:  # noqa: A002 - route name
    """``POST /api/Software/PackageStatus/{id}?status=``: one step of the workflow."""
    status_text = _required(req, "status")
    state = software_state(emu)
    with state.lock:
        package = state.package(id)
        wanted = _command_status(status_text)
        _check_move(package, wanted)
        changed = _moved(package, wanted, req.user)
        state.packages[str(package.package_id)] = changed
    return json_response(changed)


# --- files ------------------------------------------------------------------------------------


def get_files(emu: FakeWATS, req: Request, id: str) -> Response:  # noqa: A002 - route name
    """``GET /api/Software/PackageFiles/{id}``: the files' descriptions, not their content."""
    state = software_state(emu)
    with state.lock:
        package = state.package(id)
        files = state.package_files(str(package.package_id))
    return json_response([f.dto() for f in files])


def post_file_attribute(emu: FakeWATS, req: Request, id: str) -> Response:  # noqa: A002
    """``POST /api/Software/Package/FileAttribute/{id}?attribute=``: ``id`` is a file's id."""
    text = _required(req, "attribute")
    state = software_state(emu)
    with state.lock:
        file = state.files.get(id.strip().lower())
        if file is None:
            raise HTTPFailure(404, f"Software package file {id} was not found.")
        attribute = next((a for a in FileAttribute if a.value.casefold() == text.casefold()), None)
        if attribute is None:
            raise HTTPFailure(400, f"attribute: '{text}' is not a file attribute ({_ATTRIBUTES}).")
        _require_draft(state.package(file.package_id), "file attributes")
        file.attribute = attribute
    return Response(status=200)


def post_zip(emu: FakeWATS, req: Request, id: str) -> Response:  # noqa: A002 - route name
    """``POST /api/Software/Package/UploadZip/{id}[?cleanInstall=true]``: multipart/form-data
    with one application/zip file; every file inside a folder. Merges unless ``cleanInstall``."""
    clean = _bool(req, "cleanInstall")
    state = software_state(emu)
    with state.lock:
        package = state.package(id)
        _require_draft(package, "files")
        limits = state.zip_limits
    # Unpacked outside the lock: checking a large zip must not stall the other routes.
    unpacked = unpack_zip(zip_part(req.body, req.headers.get("content-type")), limits)
    key = str(package.package_id)
    with state.lock:
        package = state.package(id)
        _require_draft(package, "files")  # it may have moved on while the zip was read
        existing = {(f.folder.casefold(), f.name.casefold()): f for f in state.package_files(key)}
        if clean:
            for file in existing.values():
                del state.files[file.file_id]
            existing = {}
        for item in unpacked:
            old = existing.get((item.folder.casefold(), item.name.casefold()))
            if old is not None:  # same path: the content is replaced, id and attribute stay
                old.content = item.content
                continue
            file_id = str(uuid.uuid4())
            state.files[file_id] = StoredFile(file_id, key, item.folder, item.name, item.content)
        state.packages[key] = msgspec.structs.replace(
            package, modified=_now(), modified_by=req.user
        )
    return Response(status=200)


def get_virtual_folders(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Software/VirtualFolders``."""
    return json_response(software_state(emu).virtual_folders)
