"""``shenjing.utils.get_file`` (keras.utils.get_file) on ``file://`` URLs: Keras 3's names and
folders, the cache, hashes (a bad download keeps nothing, a changed cached file is fetched
again), tar and zip archives unpacked whole or not at all, members that would escape refused,
and SHENJING_OFFLINE. No network is touched."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

import shenjing as keras


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SHENJING_OFFLINE", raising=False)
    return tmp_path / "home"


def _served(tmp_path, name, data):
    src = tmp_path / "server" / name
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(data)
    return src.as_uri()


def test_a_file_lands_in_the_cache_once_with_its_hash_checked(tmp_path, home, capsys):
    data = b"mpg,cylinders\n18,8\n"
    url = _served(tmp_path, "auto-mpg.data", data)
    path = keras.utils.get_file(origin=url)
    assert path == str(home / ".shenjing" / "datasets" / "auto-mpg.data")
    assert Path(path).read_bytes() == data and "Downloading data from" in capsys.readouterr().out
    os.remove(tmp_path / "server" / "auto-mpg.data")  # the cached copy serves from now on
    sha = hashlib.sha256(data).hexdigest()
    assert keras.utils.get_file("auto-mpg.data", url, file_hash=sha) == path
    assert capsys.readouterr().out == ""
    md5 = hashlib.md5(data).hexdigest()
    other = keras.utils.get_file("copy.data", _served(tmp_path, "x", data), md5_hash=md5,
                                 cache_dir=tmp_path / "mine", cache_subdir="here")
    assert other == str(tmp_path / "mine" / "here" / "copy.data")


def test_a_wrong_hash_keeps_nothing_and_a_changed_cached_file_is_fetched_again(tmp_path, home,
                                                                                 capsys):
    url = _served(tmp_path, "weights.bin", b"new")
    with pytest.raises(ValueError, match="checksum mismatch"):
        keras.utils.get_file(origin=url, file_hash="0" * 64)
    folder = home / ".shenjing" / "datasets"
    assert not (folder / "weights.bin").exists() and not list(folder.glob(".weights*"))
    folder.mkdir(parents=True, exist_ok=True)  # (the failed download removed the one it made)
    (folder / "weights.bin").write_bytes(b"old")
    path = keras.utils.get_file(origin=url, file_hash=hashlib.md5(b"new").hexdigest())
    assert Path(path).read_bytes() == b"new" and "does not match" in capsys.readouterr().out
    (folder / "weights.bin").write_bytes(b"stale")
    assert Path(keras.utils.get_file(origin=url, force_download=True)).read_bytes() == b"new"


def _tar(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _zip(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_archives_unpack_into_keras_folders(tmp_path, home):
    folder = home / ".shenjing" / "datasets"
    url = _served(tmp_path, "flowers.tgz", _tar({"flowers/a/1.txt": b"1", "flowers/b/2.txt": b"2"}))
    path = keras.utils.get_file(origin=url, extract=True)  # no fname: <name>, <name>_archive
    assert path == str(folder / "flowers.tgz")
    assert (folder / "flowers.tgz" / "flowers" / "b" / "2.txt").read_bytes() == b"2"
    assert (folder / "flowers.tgz_archive").is_file()
    path = keras.utils.get_file("photos.zip", _served(tmp_path, "p.zip", _zip({"x/y.txt": b"y"})),
                                extract=True)  # fname with an extension: <stem>_extracted
    assert path == str(folder / "photos_extracted") and (folder / "photos.zip").is_file()
    assert (folder / "photos_extracted" / "x" / "y.txt").read_bytes() == b"y"
    path = keras.utils.get_file("notes", _served(tmp_path, "n.tar.gz", _tar({"n.txt": b"n"})),
                                untar=True)  # fname without one: the folder's name
    assert path == str(folder / "notes") and (folder / "notes" / "n.txt").read_bytes() == b"n"


def test_bad_archives_and_names_are_refused(tmp_path, home):
    folder = home / ".shenjing" / "datasets"
    evil = _served(tmp_path, "evil.tar.gz", _tar({"ok.txt": b"1", "../../escaped.txt": b"x"}))
    with pytest.raises(ValueError, match="outside"):
        keras.utils.get_file(origin=evil, extract=True)
    assert not (folder / "evil.tar.gz").exists() and not (tmp_path / "escaped.txt").exists()
    assert not list(folder.glob(".evil*"))  # no half-unpacked folder left
    plain = _served(tmp_path, "plain.txt", b"not an archive")
    with pytest.raises(ValueError, match="not a tar or zip archive"):
        keras.utils.get_file(origin=plain, extract=True)
    with pytest.raises(ValueError, match="origin"):
        keras.utils.get_file("a.txt")
    with pytest.raises(ValueError, match="not a path"):
        keras.utils.get_file(os.path.join("sub", "a.txt"), plain)
    with pytest.raises(ValueError, match="hash_algorithm"):
        keras.utils.get_file(origin=plain, file_hash="ab", hash_algorithm="sha1")
    with pytest.raises(ValueError, match="archive_format=None unpacks nothing"):
        keras.utils.get_file(origin=plain, extract=True, archive_format=None)


def test_offline_stops_network_downloads_only(tmp_path, home, monkeypatch):
    monkeypatch.setenv("SHENJING_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="is not there.*SHENJING_OFFLINE"):
        keras.utils.get_file(origin="https://example.com/data.csv")
    (home / ".shenjing" / "datasets").mkdir(parents=True, exist_ok=True)
    (home / ".shenjing" / "datasets" / "data.csv").write_bytes(b"old")
    with pytest.raises(FileNotFoundError, match="does not match its hash"):
        keras.utils.get_file(origin="https://example.com/data.csv", file_hash="0" * 64)
    assert Path(keras.utils.get_file(origin=_served(tmp_path, "d.csv", b"1"))).read_bytes() == b"1"


def _tar_with_links(links, files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, target in links:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_links_cannot_lead_out_of_the_folder(tmp_path, home, monkeypatch):
    """A chain of links (a -> ., a/b -> ..) that passes each path check alone is stopped by
    tarfile's data filter; where this Python has none, an archive with links is refused."""
    chain = _tar_with_links([("a", "."), ("a/b", "..")], {"a/b/ESCAPED.txt": b"x"})
    url = _served(tmp_path, "chain.tar", chain)
    with pytest.raises(Exception, match="outside"):  # (tarfile's LinkOutsideDestinationError)
        keras.utils.get_file(origin=url, extract=True)
    link = _served(tmp_path, "link.tar", _tar_with_links([("passwd", "/etc/passwd")], {}))
    with pytest.raises(ValueError, match=r"member 'passwd' links to '/etc/passwd', outside"):
        keras.utils.get_file(origin=link, extract=True)
    monkeypatch.delattr(tarfile, "data_filter", raising=False)
    with pytest.raises(ValueError, match="holds links"):
        keras.utils.get_file(origin=url, extract=True, force_download=True)
    assert not list(home.rglob("ESCAPED.txt"))
