"""Archives, scanned member by member in memory, checked through the JSON report of the real command line."""

from __future__ import annotations

import base64
import gzip
import io
import json
import random
import re
import shutil
import subprocess
import tarfile
import zipfile

import pytest
from scan_cli import finding_rows, github_token, leakhunt_fixture  # noqa: F401 - the fixture `leakhunt`

from leakhunt.config import Config
from leakhunt.inputs.archives import ArchiveLimits, ArchiveScanner
from leakhunt.scan import BatchOutcome, build_settings

BOMB_REASON = re.compile(r"possible archive bomb \(compression ratio \d+\.\d:1, limit 100:1\)")


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    return random.Random(request.node.name)


def zip_bytes(members: dict[str, bytes | str], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def tar_bytes(members: dict[str, bytes | str], mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, content in members.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def settings_module(token: str) -> str:
    return f'DEBUG = False\nALLOWED_HOSTS = ["*"]\nGITHUB_TOKEN = "{token}"\n'


def test_zip_member_found_with_member_path(leakhunt, tmp_path, rng):
    token = github_token(rng)
    (tmp_path / "bundle.zip").write_bytes(zip_bytes({"pkg/__init__.py": "", "pkg/settings.py": settings_module(token)}))

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("bundle.zip!pkg/settings.py", 3, 17, "github-pat-classic", token)]
    assert report["skipped"] == []
    assert report["stats"]["files_scanned"] == 2


@pytest.mark.parametrize(("name", "mode"), [("release.tar.gz", "w:gz"), ("release.tgz", "w:gz"),
                                             ("release.tar.bz2", "w:bz2"), ("release.tar.xz", "w:xz"),
                                             ("release.tar", "w")])
def test_tar_member_found(leakhunt, tmp_path, rng, name, mode):
    token = github_token(rng)
    (tmp_path / name).write_bytes(tar_bytes({"app/README": "docs\n", "app/conf/settings.py": settings_module(token)}, mode))

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [(f"{name}!app/conf/settings.py", 3, 17, "github-pat-classic", token)]


def test_wheel_member_found(leakhunt, tmp_path, rng):
    token = github_token(rng)
    wheel = zip_bytes({
        "acme/__init__.py": "__version__ = '1.0'\n",
        "acme/config.py": f"import os\n\nTOKEN = os.environ.get('ACME_TOKEN', '{token}')\n",
        "acme-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: acme\nVersion: 1.0\n",
        "acme-1.0.dist-info/RECORD": "",
    })
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "acme-1.0-py3-none-any.whl").write_bytes(wheel)

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("dist/acme-1.0-py3-none-any.whl!acme/config.py", 3, 39, "github-pat-classic", token)]


def test_zip_inside_zip(leakhunt, tmp_path, rng):
    token = github_token(rng)
    inner = zip_bytes({"conf/app.ini": f"[github]\ntoken = {token}\n"})
    (tmp_path / "outer.zip").write_bytes(zip_bytes({"libs/inner.zip": inner, "README.txt": "hello\n"}))

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("outer.zip!libs/inner.zip!conf/app.ini", 2, 9, "github-pat-classic", token)]


def test_third_archive_level_skipped(leakhunt, tmp_path, rng):
    token = github_token(rng)
    innermost = zip_bytes({"deep.txt": token})
    middle = zip_bytes({"inner.zip": innermost, "mid.txt": f"t={token}\n"})
    (tmp_path / "outer.zip").write_bytes(zip_bytes({"middle.zip": middle}))

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("outer.zip!middle.zip!mid.txt", 1, 3, "github-pat-classic", token)]
    assert report["skipped"] == [
        {"path": "outer.zip!middle.zip!inner.zip", "reason": "archive nested too deep (more than 2 levels)"},
    ]


def test_corrupt_zip_skipped_with_reason(leakhunt, tmp_path, rng):
    archive = zip_bytes({"pkg/settings.py": settings_module(github_token(rng))})
    (tmp_path / "broken.zip").write_bytes(archive[:60])
    (tmp_path / "ok.py").write_text("x = 1\n")

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 0
    assert report["findings"] == []
    assert report["skipped"] == [{"path": "broken.zip", "reason": "invalid zip archive (File is not a zip file)"}]
    assert report["stats"]["files_scanned"] == 1


def test_member_with_bad_crc_skipped(leakhunt, tmp_path, rng):
    token = github_token(rng)
    content = settings_module(token).encode()
    archive = bytearray(zip_bytes({"a.py": content, "b.py": content}, zipfile.ZIP_STORED))
    position = archive.index(content)
    archive[position] ^= 0x20
    (tmp_path / "damaged.zip").write_bytes(bytes(archive))

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("damaged.zip!b.py", 3, 17, "github-pat-classic", token)]
    assert report["skipped"] == [{"path": "damaged.zip!a.py", "reason": "unreadable archive member (Bad CRC-32 for file 'a.py')"}]


def test_high_ratio_member_skipped(leakhunt, tmp_path, rng):
    token = github_token(rng)
    (tmp_path / "bundle.zip").write_bytes(zip_bytes({"zeros.txt": b"0" * (10 * 1024 * 1024), "app.py": settings_module(token)}))

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("bundle.zip!app.py", 3, 17, "github-pat-classic", token)]
    assert [item["path"] for item in report["skipped"]] == ["bundle.zip!zeros.txt"]
    assert BOMB_REASON.fullmatch(report["skipped"][0]["reason"])


def test_high_ratio_tar_stream_stops(leakhunt, tmp_path, rng):
    token = github_token(rng)
    members = {"app/settings.py": settings_module(token), "app/zeros.txt": b"0" * (20 * 1024 * 1024), "app/late.py": token}
    (tmp_path / "release.tar.gz").write_bytes(tar_bytes(members))

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("release.tar.gz!app/settings.py", 3, 17, "github-pat-classic", token)]
    assert [item["path"] for item in report["skipped"]] == ["release.tar.gz"]
    assert BOMB_REASON.fullmatch(report["skipped"][0]["reason"])


@pytest.mark.skipif(shutil.which("zip") is None, reason="needs the Info-ZIP `zip` command to write an encrypted member")
def test_encrypted_member_skipped(leakhunt, tmp_path, rng):
    token = github_token(rng)
    source = tmp_path / "source"
    source.mkdir()
    (source / "secret.py").write_text(settings_module(token))
    (source / "plain.py").write_text(settings_module(token))
    subprocess.run(["zip", "-q", "-P", "pass-for-test", str(tmp_path / "locked.zip"), "secret.py"], cwd=source, check=True)
    subprocess.run(["zip", "-q", str(tmp_path / "locked.zip"), "plain.py"], cwd=source, check=True)
    shutil.rmtree(source)

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("locked.zip!plain.py", 3, 17, "github-pat-classic", token)]
    assert report["skipped"] == [{"path": "locked.zip!secret.py", "reason": "encrypted archive member"}]


def test_binary_member_skipped_like_binary_file(leakhunt, tmp_path, rng):
    token = github_token(rng)
    (tmp_path / "app.jar").write_bytes(zip_bytes({
        "META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n",
        "com/acme/App.class": b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + token.encode(),
        "application.properties": f"github.token={token}\n",
    }))

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("app.jar!application.properties", 1, 14, "github-pat-classic", token)]
    assert report["skipped"] == [{"path": "app.jar!com/acme/App.class", "reason": "binary"}]


def test_gzip_single_file(leakhunt, tmp_path, rng):
    token = github_token(rng)
    (tmp_path / "app.log.gz").write_bytes(gzip.compress(f"starting\nusing token {token}\n".encode()))

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("app.log.gz!app.log", 2, 13, "github-pat-classic", token)]


def test_traversal_member_name_only_a_label(leakhunt, tmp_path, rng):
    token = github_token(rng)
    target = tmp_path / "scan"
    target.mkdir()
    (target / "evil.zip").write_bytes(zip_bytes({"../../escaped.py": settings_module(token), "/abs/path.py": token}))

    run, report = leakhunt.scan_json(target)

    assert run.returncode == 1
    assert finding_rows(report) == [
        ("evil.zip!../../escaped.py", 3, 17, "github-pat-classic", token),
        ("evil.zip!/abs/path.py", 1, 1, "github-pat-classic", token),
    ]
    assert sorted(path.name for path in tmp_path.rglob("*")) == ["evil.zip", "scan"]


def test_text_with_archive_name_scanned_as_text(leakhunt, tmp_path, rng):
    token = github_token(rng)
    (tmp_path / "notes.zip").write_text(f"not really a zip\ntoken: {token}\n")

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("notes.zip", 2, 8, "github-pat-classic", token)]


def test_member_over_size_limit_skipped(leakhunt, tmp_path, rng):
    token = github_token(rng)
    big = settings_module(token).ljust(3200, "#") + "\n"
    (tmp_path / "bundle.zip").write_bytes(zip_bytes({"big.py": big, "small.py": settings_module(token)}))

    run, report = leakhunt.scan_json(tmp_path, "--max-file-size", str(2 / 1024))

    assert run.returncode == 1
    assert finding_rows(report) == [("bundle.zip!small.py", 3, 17, "github-pat-classic", token)]
    assert report["skipped"] == [{"path": "bundle.zip!big.py", "reason": "larger than the size limit (3.1 KiB > 2.0 KiB)"}]


def test_notebook_and_encoded_text_inside_archive(leakhunt, tmp_path, rng):
    in_cell, encoded = github_token(rng), github_token(rng)
    notebook = {"cells": [{"cell_type": "code", "source": ["x = 1\n", f"t = '{in_cell}'"], "metadata": {}, "outputs": []}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    secret_yaml = f"kind: Secret\ndata:\n  token: {base64.b64encode(encoded.encode()).decode()}\n"
    (tmp_path / "project.zip").write_bytes(zip_bytes({"nb/explore.ipynb": json.dumps(notebook), "k8s/secret.yaml": secret_yaml}))

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    rows = [(item["path"], item["line"], item["column"], item["secret"], item.get("cell"), item.get("decoded"))
            for item in report["findings"]]
    assert rows == [
        ("project.zip!k8s/secret.yaml", 3, 10, encoded, None, "base64"),
        ("project.zip!nb/explore.ipynb", 2, 6, in_cell, 1, None),
    ]


def test_tar_links_and_folders_ignored(leakhunt, tmp_path, rng):
    token = github_token(rng)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        folder = tarfile.TarInfo("app")
        folder.type = tarfile.DIRTYPE
        archive.addfile(folder)
        link = tarfile.TarInfo("app/passwd")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
        data = settings_module(token).encode()
        member = tarfile.TarInfo("app/settings.py")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    (tmp_path / "app.tgz").write_bytes(buffer.getvalue())

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("app.tgz!app/settings.py", 3, 17, "github-pat-classic", token)]
    assert report["skipped"] == []


def test_total_size_limit_skips_members(rng, tmp_path):
    token = github_token(rng)
    members = {f"part{index}.txt": rng.randbytes(3000).hex() for index in range(4)}
    members["part9.py"] = settings_module(token)
    outcome = BatchOutcome()
    scanner = ArchiveScanner(build_settings(Config(), cache_dir=tmp_path).matcher(),
                             ArchiveLimits(max_member_size=64 * 1024, max_total_size=20_000), outcome)

    scanner.scan_blob("parts.zip", zip_bytes(members), "parts.zip", depth=0)

    assert [(item.path, item.reason) for item in outcome.skipped] == [
        ("parts.zip!part3.txt", "archive size limit reached (more than 19.5 KiB uncompressed)"),
    ]
    assert [(provenance.path, [match.secret for match in matches]) for provenance, matches in outcome.matches] == [
        ("parts.zip!part9.py", [token]),
    ]
    assert outcome.files == 4
