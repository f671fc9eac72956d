"""A PEP 517 / PEP 660 build backend for the learn package, with the standard library only
(so that pip builds it offline, with no build requirements to download).

build_wheel: a py3-none-any wheel of learn/*.py; build_editable: a wheel holding a .pth file
that points at this directory (pip install -e); build_sdist: a .tar.gz of this directory's
sources. The version is learn/__init__.py's __version__ (tests keep it equal to learn.h's).
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = "learn"
SUMMARY = "LLM knowledge for recommendation, on the CPU, from one model file (ctypes over liblearn)"
REQUIRES = ["numpy"]


def _version():
    with open(os.path.join(HERE, NAME, "__init__.py"), encoding="utf-8") as f:
        m = re.search(r'^__version__ = "([0-9][0-9a-z.]*)"$', f.read(), re.M)
    if not m:
        raise RuntimeError("learn/__init__.py has no __version__")
    return m.group(1)


def _metadata():
    lines = ["Metadata-Version: 2.1", "Name: " + NAME, "Version: " + _version(),
             "Summary: " + SUMMARY, "License: MIT", "Requires-Python: >=3.8"]
    lines += ["Requires-Dist: " + r for r in REQUIRES]
    return "\n".join(lines) + "\n"


def _dist_info():
    return "%s-%s.dist-info" % (NAME, _version())


def _sources():
    """learn/*.py, relative to HERE, sorted."""
    pkg = os.path.join(HERE, NAME)
    return sorted(NAME + "/" + f for f in os.listdir(pkg) if f.endswith(".py"))


def _write_wheel(directory, files):
    """files: [(archive name, bytes)]; adds the dist-info files and RECORD."""
    di = _dist_info()
    files = list(files) + [
        (di + "/METADATA", _metadata().encode()),
        (di + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: learn-backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
        (di + "/top_level.txt", (NAME + "\n").encode()),
    ]
    record = []
    for name, data in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (name, digest, len(data)))
    record.append(di + "/RECORD,,")
    files.append((di + "/RECORD", ("\n".join(record) + "\n").encode()))
    wheel = "%s-%s-py3-none-any.whl" % (NAME, _version())
    tmp = os.path.join(directory, wheel + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    os.replace(tmp, os.path.join(directory, wheel))
    return wheel


def _read(rel):
    with open(os.path.join(HERE, rel), "rb") as f:
        return f.read()


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    di = os.path.join(metadata_directory, _dist_info())
    os.makedirs(di, exist_ok=True)
    with open(os.path.join(di, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata())
    return _dist_info()


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, [(rel, _read(rel)) for rel in _sources()])


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, [("learn_editable.pth", (HERE + "\n").encode())])


def build_sdist(sdist_directory, config_settings=None):
    base = "%s-%s" % (NAME, _version())
    name = base + ".tar.gz"
    tmp = os.path.join(sdist_directory, name + ".tmp")
    files = ["pyproject.toml", "_build/backend.py"] + _sources()
    with tarfile.open(tmp, "w:gz", format=tarfile.PAX_FORMAT) as t:
        members = [(rel, _read(rel)) for rel in files]
        members.append(("PKG-INFO", _metadata().encode()))
        for rel, data in members:
            info = tarfile.TarInfo(base + "/" + rel)
            info.size = len(data)
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    os.replace(tmp, os.path.join(sdist_directory, name))
    return name
