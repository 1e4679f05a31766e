"""Evidence packages as zip archives: writing the console's zip, and opening a zip or an
unzipped folder for the verifier (issue 22, item 6).

A zip handed to ``oversight evidence verify`` is untrusted input: before anything is
written its members are checked (count, total uncompressed size, no absolute path or
``..`` component, no symbolic link), then it is extracted into a private temporary
directory (mode 0700, removed afterwards) and never next to the zip. The declared sizes
bound what is written: ``zipfile`` stops each member at its declared size, and the copy
below counts the bytes again.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from oversight.errors import InvalidInput, NotFound
from oversight.evidence import manifest as mf

# Video is compressed already: storing it spares CPU; text files are deflated.
_STORED = (".mp4", ".mkv", ".m4s", ".zip")
_CHUNK = 1 << 20


def zip_package(directory: Path, target: Path, top: str) -> None:
    """Write the package in ``directory`` to the zip ``target``, every member under the
    folder ``top`` (so unzipping it makes one folder, named like the zip)."""
    with zipfile.ZipFile(target, "x", allowZip64=True) as zf:
        for path in sorted(directory.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            method = zipfile.ZIP_STORED if path.suffix in _STORED else zipfile.ZIP_DEFLATED
            zf.write(path, f"{top}/{path.relative_to(directory).as_posix()}", method)


def package_root(directory: Path) -> Path:
    """The package in ``directory``: the directory itself if it holds ``manifest.json``,
    else its one sub-directory that does (the folder a zip was unzipped into)."""
    if (directory / mf.MANIFEST).exists() or (directory / mf.MANIFEST).is_symlink():
        return directory
    children = list(directory.iterdir())
    if len(children) == 1:
        [inner] = children
        if inner.is_dir() and not inner.is_symlink() and (inner / mf.MANIFEST).is_file():
            return inner
    return directory  # the verifier reports what is missing


def _check_member(archive: Path, info: zipfile.ZipInfo) -> PurePosixPath:
    name = info.filename
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or (path.parts and path.parts[0].endswith(":")):
        raise InvalidInput(f"{archive}: member {name!r} has an absolute path")
    if ".." in path.parts:
        raise InvalidInput(f"{archive}: member {name!r} leaves its folder (zip-slip)")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise InvalidInput(f"{archive}: member {name!r} is a symbolic link")
    return path


def _check_zip(archive: Path, zf: zipfile.ZipFile, max_members: int, max_bytes: int) -> None:
    infos = zf.infolist()
    if len(infos) > max_members:
        raise InvalidInput(
            f"{archive}: {len(infos)} members, more than {max_members} "
            "(OVERSIGHT_EVIDENCE_ZIP_MAX_MEMBERS)"
        )
    total = sum(i.file_size for i in infos)
    if total > max_bytes:
        raise InvalidInput(
            f"{archive}: {total} bytes uncompressed, more than {max_bytes} bytes "
            "(OVERSIGHT_EVIDENCE_ZIP_MAX_BYTES)"
        )
    seen: set[PurePosixPath] = set()
    for info in infos:
        path = _check_member(archive, info)
        if path in seen:
            raise InvalidInput(f"{archive}: member {info.filename!r} is in the zip twice")
        seen.add(path)


def _extract(archive: Path, zf: zipfile.ZipFile, into: Path, max_bytes: int) -> None:
    written = 0
    for info in zf.infolist():
        target = into.joinpath(*PurePosixPath(info.filename.replace("\\", "/")).parts)
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(info) as src, target.open("xb") as dst:
            while chunk := src.read(_CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise InvalidInput(f"{archive}: more than {max_bytes} bytes uncompressed")
                dst.write(chunk)


@contextmanager
def opened(path: Path, *, max_members: int, max_bytes: int) -> Iterator[Path]:
    """The package directory of ``path``: a package folder, the folder a package zip was
    unzipped into, or a package zip (checked, then extracted into a private temporary
    directory that is removed when the block ends)."""
    if path.is_dir():
        yield package_root(path)
        return
    if not path.is_file():
        raise NotFound(f"{path} is neither a directory nor a zip file")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput(f"{path}: not a zip archive ({exc})") from None
    with zf:
        _check_zip(path, zf, max_members, max_bytes)
        tmp = Path(tempfile.mkdtemp(prefix="oversight-verify-"))
        try:
            try:
                _extract(path, zf, tmp, max_bytes)
            except (zipfile.BadZipFile, EOFError, OSError) as exc:
                raise InvalidInput(f"{path}: the zip is damaged ({exc})") from None
            yield package_root(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
