"""``api.software``: software packages for stations (tag Software).

Packages are created as Draft, filled with files from a zip, tagged, and walk the status
workflow Draft → Pending → Released (→ Revoked); stations look up released packages by name or
tag. See ``docs/software.md``.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

import httpx

from pywats._body import StreamBody
from pywats._call import Call, Flow, json_call, segment
from pywats._calls._software_args import (
    Id,
    as_enum,
    as_file_id,
    as_guid,
    as_name,
    as_version,
    encode_package,
)
from pywats._domain import Domain, ModeT, operation
from pywats._errors import InvalidArgumentError
from pywats._upload import UploadSource, multipart_upload
from pywats.models.software import (
    FileAttribute,
    Package,
    PackageFile,
    PackageStatus,
    PackageTag,
    VirtualFolder,
    tags_from,
)

__all__ = ["MAX_ZIP_SIZE", "SoftwareDomain"]

MAX_ZIP_SIZE = 30_000_000
"""The largest zip upload sent by default, in bytes: IIS's default request limit, which WATS
servers run behind (a server configured higher takes ``max_size=`` more)."""

Tags = Mapping[str, str] | list[PackageTag]


def _nothing(response: httpx.Response) -> None:
    """The answer of an operation described without a body: whatever it is, it is ignored."""
    return None


def _no_answer(
    method: str,
    path: str,
    *,
    params: Mapping[str, str | int | bool | None] | None = None,
    content: bytes | StreamBody | None = None,
    content_type: str | None = None,
    idempotent: bool | None = None,
) -> Call[None]:
    return Call(
        method=method,
        path=path,
        parse=_nothing,
        params=params,
        content=content,
        content_type=content_type,
        idempotent=idempotent,
    )


def _package_path(prefix: str, package_id: Id) -> str:
    return f"/api/Software/{prefix}/{segment(as_guid(package_id, 'package_id'))}"


def _status_call(package_id: Id, status: PackageStatus | str) -> Call[Package]:
    return json_call(
        "POST",
        _package_path("PackageStatus", package_id),
        Package,
        params={"status": as_enum(status, PackageStatus, "status").value},
        # Not safe to repeat: a second Draft -> Pending is refused (the package is Pending).
        idempotent=False,
    )


def _by_name_call(name: str, status: PackageStatus | str, version: int | None) -> Call[Package]:
    return json_call(
        "GET",
        "/api/Software/PackageByName",
        Package,
        params={
            "name": as_name(name),
            "status": as_enum(status, PackageStatus, "status").value,
            "version": as_version(version) if version is not None else None,
        },
    )


def _zip_call(
    package_id: Id,
    source: UploadSource,
    filename: str | None,
    clean_install: bool,
    max_size: int | None,
) -> Call[None]:
    path = _package_path("Package/UploadZip", package_id)
    # One file part of type application/zip, as the description asks, whatever the file's name;
    # a path or a seekable file is streamed from the file, never held in memory.
    body, content_type, _ = multipart_upload(
        "file",
        source,
        filename,
        max_size=max_size,
        what="the zip file",
        part_type="application/zip",
    )
    size = body.length if isinstance(body, StreamBody) else len(body)
    if max_size is not None and size > max_size:
        raise InvalidArgumentError(
            f"the zip upload is {size:,} bytes with its form-data framing; the limit is "
            f"{max_size:,} bytes (max_size): nothing was sent"
        )
    return _no_answer(
        "POST",
        path,
        params={"cleanInstall": True if clean_install else None},
        content=body,
        content_type=content_type,
        idempotent=True,  # the same zip twice leaves the same files
    )


def _upload_name(source: object) -> str | None:
    """The name to upload a zip under: a path's own (``None``), a file object's, else a default."""
    if isinstance(source, str | os.PathLike):
        return None
    name = getattr(source, "name", None)
    return os.path.basename(name) if isinstance(name, str) and name else "package.zip"


def _packages(answer: list[Package] | Package) -> list[Package]:
    # The description types these answers as one Package; the server sends a list of them.
    return answer if isinstance(answer, list) else [answer]


def _package_list_call(
    path: str, params: Mapping[str, str | None] | None = None
) -> Call[list[Package]]:
    call: Call[list[Package] | Package] = json_call(
        "GET", path, list[Package] | Package, params=params, empty=[]
    )
    return Call(
        method=call.method,
        path=call.path,
        parse=lambda response: _packages(call.parse(response)),
        params=call.params,
    )


class SoftwareDomain(Domain[ModeT]):
    """Software packages for stations: create, fill from a zip, tag, release, find, delete.

    Arguments that cannot be sent (a wrong type, an id that is not a GUID, an unknown status)
    raise :class:`~pywats.InvalidArgumentError` before anything is sent.
    """

    # --- reading ------------------------------------------------------------------------------

    @operation
    def get_packages(self) -> Call[list[Package]]:
        """Every package: each version of each name, in any status."""
        return _package_list_call("/api/Software/Packages")

    @operation
    def get_package(self, package_id: Id) -> Call[Package]:
        """One package (one version) by its id.

        Raises:
            NotFoundError: no package has that id.
        """
        return json_call("GET", _package_path("Package", package_id), Package)

    @operation
    def get_package_by_name(
        self,
        name: str,
        status: PackageStatus | str = PackageStatus.RELEASED,
        version: int | None = None,
    ) -> Call[Package]:
        """The package named ``name`` in ``status``: its highest version, or ``version``.

        The server needs a status; stations want the released one, hence the default.

        Raises:
            NotFoundError: no such package (in that status, of that version).
        """
        return _by_name_call(name, status, version)

    @operation
    def get_released_package(self, name: str) -> Call[Package]:
        """The highest released version of the package named ``name``.

        Raises:
            NotFoundError: no version of it is released.
        """
        return _by_name_call(name, PackageStatus.RELEASED, None)

    @operation
    def get_packages_by_tag(
        self, tag: str, value: str, status: PackageStatus | str = PackageStatus.RELEASED
    ) -> Call[list[Package]]:
        """The packages in ``status`` tagged ``tag`` = ``value`` (an empty list when none).

        The tag's name is compared case-sensitively, its value case-insensitively.

        Raises:
            InvalidArgumentError: ``tag`` is empty or contains ``=`` (the server splits
                ``name=value`` at it), or ``value`` is not a str.
        """
        if not isinstance(tag, str) or not tag or "=" in tag:
            raise InvalidArgumentError(f"tag must be a tag's name, without '=', not {tag!r}")
        if not isinstance(value, str):
            raise InvalidArgumentError(f"value must be a str, not {type(value).__name__}")
        return _package_list_call(
            "/api/Software/PackagesByTag",
            {"tag": f"{tag}={value}", "status": as_enum(status, PackageStatus, "status").value},
        )

    @operation
    def get_package_files(self, package_id: Id) -> Call[list[PackageFile]]:
        """The files of a package: names, folders and attributes (not their content).

        Raises:
            NotFoundError: no package has that id.
        """
        return json_call(
            "GET", _package_path("PackageFiles", package_id), list[PackageFile], empty=[]
        )

    @operation
    def get_virtual_folders(self) -> Call[list[VirtualFolder]]:
        """The virtual folders of the Production Manager's package tree."""
        return json_call("GET", "/api/Software/VirtualFolders", list[VirtualFolder], empty=[])

    # --- creating, changing, deleting ---------------------------------------------------------

    @operation
    def create_package(
        self,
        name: str,
        *,
        description: str | None = None,
        install_on_root: bool | None = None,
        priority: int | None = None,
        virtual_folder_id: Id | None = None,
        tags: Tags | None = None,
    ) -> Call[Package]:
        """Create a Draft package and return it; a name that exists gets its next version.

        Args:
            tags: ``{name: value}`` or a list of :class:`PackageTag`.
            virtual_folder_id: a :class:`VirtualFolder`'s id to file the package in.

        Raises:
            ValidationError: the server refused a value (it names it).
        """
        if tags is not None and not isinstance(tags, Mapping | list):
            raise InvalidArgumentError(f"tags must be a dict or a list, not {type(tags).__name__}")
        package = Package(
            name=as_name(name),
            description=description,
            install_on_root=install_on_root,
            priority=priority,
            virtual_folder_id=(
                as_guid(virtual_folder_id, "virtual_folder_id")
                if virtual_folder_id is not None
                else None
            ),
            tags=tags_from(tags),
        )
        return json_call("POST", "/api/Software/Package", Package, raw_body=encode_package(package))

    @operation
    def update_package(self, package: Package) -> Flow[Package]:
        """Overwrite a package with ``package`` (by its ``package_id``) and return it as stored.

        This replaces the package's details: get it, change what you want, pass it back. A Draft
        package may change everything; a Pending or Released one only its tags and status, and
        a status change follows the workflow (see :meth:`set_package_status`).

        Raises:
            InvalidArgumentError: not a :class:`Package`, or its ``package_id`` is not set.
            ValidationError: a change the package's status forbids, or a refused value.
            NotFoundError: no package has that id.
        """
        body = encode_package(package)
        assert isinstance(package, Package)  # encode_package checked it
        if package.package_id is None:
            raise InvalidArgumentError("package.package_id is not set: which package is it?")
        yield _no_answer(
            "PUT",
            _package_path("Package", package.package_id),
            content=body,
            content_type="application/json",
        )
        # The answer is described without a body: read the package back.
        stored: Package = yield json_call(
            "GET", _package_path("Package", package.package_id), Package
        )
        return stored

    @operation
    def delete_package(self, package_id: Id) -> Call[None]:
        """Delete a package (one version) with its files; only a Draft or Revoked one.

        Raises:
            ValidationError: the package is Pending or Released.
            NotFoundError: no package has that id.
        """
        return _no_answer("DELETE", _package_path("Package", package_id))

    @operation
    def delete_package_by_name(self, name: str, version: int) -> Call[None]:
        """Delete version ``version`` of the package named ``name``; only a Draft or Revoked one.

        Raises:
            ValidationError: that version is Pending or Released.
            NotFoundError: no such package version.
        """
        return _no_answer(
            "DELETE",
            "/api/Software/PackageByName",
            params={"name": as_name(name), "version": as_version(version)},
        )

    # --- the status workflow ------------------------------------------------------------------

    @operation
    def set_package_status(self, package_id: Id, status: PackageStatus | str) -> Call[Package]:
        """Move a package to ``status`` and return it.

        The server allows Draft → Pending, Pending → Draft or Released, Released → Revoked.

        Raises:
            ValidationError: a move the workflow does not allow (the message names the
                package's status and the one asked for).
            NotFoundError: no package has that id.
        """
        return _status_call(package_id, status)

    @operation
    def submit_for_review(self, package_id: Id) -> Call[Package]:
        """Draft → Pending: the package's content is frozen for review."""
        return _status_call(package_id, PackageStatus.PENDING)

    @operation
    def return_to_draft(self, package_id: Id) -> Call[Package]:
        """Pending → Draft: the package can be changed again."""
        return _status_call(package_id, PackageStatus.DRAFT)

    @operation
    def release_package(self, package_id: Id) -> Call[Package]:
        """Pending → Released: stations get the package."""
        return _status_call(package_id, PackageStatus.RELEASED)

    @operation
    def revoke_package(self, package_id: Id) -> Call[Package]:
        """Released → Revoked: stations stop getting the package (and may remove it)."""
        return _status_call(package_id, PackageStatus.REVOKED)

    # --- files --------------------------------------------------------------------------------

    @operation
    def upload_zip(
        self,
        package_id: Id,
        zip_file: UploadSource,
        *,
        clean_install: bool = False,
        max_size: int | None = MAX_ZIP_SIZE,
    ) -> Call[None]:
        """Add the files of a zip archive to a Draft package.

        Every file of the zip must be inside a folder (``myFolder/myFile.txt``, not
        ``myFile.txt``): the folders become the package's folders. Files are merged into the
        package (same path: replaced) unless ``clean_install``, which removes every file first.

        Args:
            zip_file: the zip's bytes, its path, or a binary file object, sent as
                ``multipart/form-data`` as the server expects. A path or a seekable file is
                streamed from the file (never read into memory; read again on a retry).
            max_size: refuse a larger upload before sending anything (``None``: no limit).

        Raises:
            InvalidArgumentError: ``zip_file`` is not bytes, a path or a binary file object,
                cannot be read, or is larger than ``max_size``.
            ValidationError: the package is not Draft, or the zip is refused (the message
                names the member: a file at the root, an absolute path, ``..``, a link).
            NotFoundError: no package has that id.
            HTTPError: 413 when the upload is larger than the server accepts.
        """
        return _zip_call(package_id, zip_file, _upload_name(zip_file), clean_install, max_size)

    @operation
    def upload_folder(
        self,
        package_id: Id,
        folder: str | os.PathLike[str],
        *,
        folder_name: str | None = None,
        clean_install: bool = False,
        max_size: int | None = MAX_ZIP_SIZE,
    ) -> Call[None]:
        """Zip a local folder and upload it (as :meth:`upload_zip`): its files land in the
        package's folder ``folder_name`` (default: the local folder's name), subfolders kept.

        Raises:
            InvalidArgumentError: ``folder`` is not a folder, ``folder_name`` is not one plain
                folder name, or the zip is larger than ``max_size``.
            ValidationError, NotFoundError: as :meth:`upload_zip`.
        """
        if not isinstance(folder, str | os.PathLike):
            raise InvalidArgumentError(f"folder must be a path, not {type(folder).__name__}")
        root = Path(folder)
        if not root.is_dir():
            raise InvalidArgumentError(f"folder: {root} is not a folder")
        top = folder_name if folder_name is not None else root.resolve().name
        if (
            not isinstance(top, str)
            or top.strip() in ("", ".", "..")
            or any(c in top for c in "/\\")
        ):
            raise InvalidArgumentError(f"folder_name must be one plain folder name, not {top!r}")
        return _zip_call(package_id, _zip_folder(root, top), f"{top}.zip", clean_install, max_size)

    @operation
    def update_file_attribute(self, file_id: Id, attribute: FileAttribute | str) -> Call[None]:
        """Set what stations do with a file (its :class:`FileAttribute`) in a Draft package.

        ``file_id`` is a :attr:`PackageFile.package_file_id` from :meth:`get_package_files`.

        Raises:
            ValidationError: the file's package is not Draft.
            NotFoundError: no file has that id.
        """
        return _no_answer(
            "POST",
            f"/api/Software/Package/FileAttribute/{segment(as_file_id(file_id))}",
            params={"attribute": as_enum(attribute, FileAttribute, "attribute").value},
            idempotent=True,  # it sets the attribute: twice is once
        )


def _zip_folder(root: Path, top: str) -> bytes:
    """The files under ``root`` as a zip whose one top folder is ``top``."""
    buffer = io.BytesIO()
    try:
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    archive.write(path, f"{top}/{path.relative_to(root).as_posix()}")
    except OSError as exc:
        raise InvalidArgumentError(f"folder: cannot read {root}: {exc}") from exc
    return buffer.getvalue()
