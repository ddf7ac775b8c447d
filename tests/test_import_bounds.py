"""Every import file the upload limit admits is read in bounded time and memory, or refused
with 413 naming the limit it exceeds (or 400 when it is malformed), before anything is
created: .docx zip bombs, lying zip headers, XML and line floods, too many texts; and the
API, the page and the command apply the same limits (issue 7, points 3 and 9)."""

import contextlib
import io
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from submissions.importer import ImportFormatError, ImportLimits, parse_texts
from submissions.models import PendingImport, ProjectText
from workflow.exceptions import TooLarge
from workflow.models import AuditEvent

SAMPLE = Path(__file__).resolve().parents[2] / "shared/data/xinping-2025-org-dept-project-texts.txt"
MB = 1 << 20
DEFLATED = zipfile.ZIP_DEFLATED

# One MiB of zeros as a self-contained deflate block (a full flush resets the dictionary,
# so the block can be repeated): 1,037 bytes. A 1 MB file of them inflates to 1 GiB, the
# shape of the bomb (1.09 MB, 2.1 GB).
_ZEROS = zlib.compressobj(9, zlib.DEFLATED, -15)
ZERO_MIB_BLOCK = _ZEROS.compress(bytes(MB)) + _ZEROS.flush(zlib.Z_FULL_FLUSH)
FINAL_BLOCK = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # an empty last block


def zeros_stream(mebibytes: int) -> bytes:
    return ZERO_MIB_BLOCK * mebibytes + FINAL_BLOCK


def deflated(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def hand_built_zip(members: list[dict]) -> bytes:
    """A zip whose headers say what each member dict says, whatever its stream holds:
    name, stream, size (the declared inflated size), and optionally method (deflated),
    crc, flags and version (needed to extract: 2.0)."""
    body, directory = bytearray(), bytearray()
    for member in members:
        name = member["name"].encode()
        stream = member["stream"]
        fields = (
            member.get("flags", 0),
            member.get("method", DEFLATED),
            0,  # time
            0,  # date
            member.get("crc", 0),
            len(stream),
            member["size"],
            len(name),
        )
        version = member.get("version", 20)
        offset = len(body)
        body += struct.pack("<4sH2H2H3LHH", b"PK\x03\x04", version, *fields, 0) + name + stream
        directory += (
            struct.pack(
                "<4s2H2H2H3LH4H2L", b"PK\x01\x02", 20, version, *fields, 0, 0, 0, 0, 0, offset
            )
            + name
        )
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), len(body), 0
    )
    return bytes(body + directory + end)


def sample_docx() -> bytes:
    """Both sample texts as python-docx writes them, one paragraph a line."""
    document = docx.Document()
    for line in SAMPLE.read_text(encoding="utf-8").split("\n"):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


DOCUMENT = 4  # the index of word/document.xml among python-docx's parts


def sample_members() -> list[dict]:
    """The parts of sample_docx() as hand_built_zip members, honestly declared."""
    source = zipfile.ZipFile(io.BytesIO(sample_docx()))
    members = []
    for info in source.infolist():
        data = source.read(info)
        members.append(
            {
                "name": info.filename,
                "data": data,
                "stream": deflated(data),
                "size": len(data),
                "crc": zlib.crc32(data),
            }
        )
    assert members[DOCUMENT]["name"] == "word/document.xml"
    return members


def with_document_xml(package: bytes, replace: Callable[[bytes], bytes]) -> bytes:
    """The package with its word/document.xml changed, everything else as it was."""
    source = zipfile.ZipFile(io.BytesIO(package))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(
                info.filename, replace(data) if info.filename == "word/document.xml" else data
            )
    return buffer.getvalue()


def body_of(paragraphs_xml: str) -> Callable[[bytes], bytes]:
    def replace(document_xml: bytes) -> bytes:
        text = document_xml.decode()
        head = text[: text.index("<w:body>") + len("<w:body>")]
        return (head + paragraphs_xml + "</w:body></w:document>").encode()

    return replace


def traced_peak(action: Callable[[], object]) -> tuple[object, int]:
    """What ``action`` returned or raised, and the most memory Python held meanwhile beyond
    what it held before. Allocation counts are deterministic, unlike wall time."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        try:
            outcome: object = action()
        except Exception as error:
            outcome = error
        return outcome, tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def refusal(outcome: object, kind: type[Exception]) -> str:
    assert isinstance(outcome, kind), outcome
    return str(outcome)


# --- .docx: sizes declared in the zip's directory ------------------------------------------


def test_a_docx_declaring_gigabytes_is_refused_from_its_directory_alone(settings):
    # 1 MB on the wire, 1 GiB declared and really there: nothing of it is inflated.
    bomb = hand_built_zip(
        [
            {"name": "word/document.xml", "stream": zeros_stream(1024), "size": 1024 * MB},
            {"name": "[Content_Types].xml", "stream": deflated(b"<Types/>"), "size": 8},
        ]
    )
    assert len(bomb) < settings.IMPORT_MAX_BYTES

    outcome, peak = traced_peak(lambda: parse_texts(bomb, "bomb.docx"))

    message = refusal(outcome, TooLarge)
    assert str(settings.IMPORT_MAX_INFLATED_BYTES) in message
    assert peak < 2 * len(bomb) + MB


def test_parts_that_together_inflate_past_the_limit_are_refused_before_any_is_read(settings):
    settings.IMPORT_MAX_INFLATED_BYTES = 8 * MB
    parts = [
        {"name": f"word/media/part{n}.bin", "stream": zeros_stream(3), "size": 3 * MB}
        for n in range(3)
    ]

    outcome, peak = traced_peak(lambda: parse_texts(hand_built_zip(parts), "parts.docx"))

    assert "8388608" in refusal(outcome, TooLarge)
    assert peak < MB


def test_a_member_inflating_past_its_declared_size_is_read_only_up_to_that_size():
    """A lying header: word/document.xml declares its true size and checksum, and its
    deflate stream then goes on for 1 GiB of zeros. zipfile stops a member at its
    declared size, but ZipFile.read() would inflate up to 1 GiB in one call before
    cutting; read in bounded chunks, the file imports as if the tail were not there."""
    members = sample_members()
    document = members[DOCUMENT]
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(document["data"]) + compressor.flush(zlib.Z_FULL_FLUSH)
    members[DOCUMENT] = {**document, "stream": head + zeros_stream(1024)}
    lying = hand_built_zip(members)

    outcome, peak = traced_peak(lambda: parse_texts(lying, "lying.docx"))

    assert outcome == parse_texts(sample_docx(), "honest.docx")
    assert peak < 32 * MB  # the honest file alone peaks at ~2 MB; the tail is 1,024 MB


def test_a_docx_zipped_again_with_folder_entries_still_imports():
    # `zip -r` and some editors add an entry per folder; the re-packing keeps them
    source = zipfile.ZipFile(io.BytesIO(sample_docx()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", DEFLATED) as archive:
        for folder in ("_rels/", "docProps/", "word/"):
            archive.writestr(folder, b"")
        for info in source.infolist():
            archive.writestr(info.filename, source.read(info))

    assert parse_texts(buffer.getvalue(), "zipped.docx") == parse_texts(sample_docx(), "s.docx")


def test_a_lying_member_whose_checksum_then_fails_is_400_without_inflating_its_stream():
    members = sample_members()
    members[DOCUMENT] = {**members[DOCUMENT], "stream": zeros_stream(256), "size": 1000}

    outcome, peak = traced_peak(lambda: parse_texts(hand_built_zip(members), "lying.docx"))

    assert refusal(outcome, ImportFormatError) == "不是有效的 .docx 文件"
    assert peak < MB


def test_a_docx_with_more_parts_than_the_limit_is_refused(settings):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n in range(settings.IMPORT_MAX_PARTS + 1):
            archive.writestr(f"customXml/item{n}.xml", "<a/>")

    outcome, _peak = traced_peak(lambda: parse_texts(buffer.getvalue(), "parts.docx"))

    assert f"最多 {settings.IMPORT_MAX_PARTS} 个" in refusal(outcome, TooLarge)


@pytest.mark.parametrize(
    # zipfile inflates bzip2 and lzma with no bound on one call's output; Word and
    # LibreOffice write only stored and deflated members.
    "method",
    [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA],
    ids=["bzip2", "lzma"],
)
def test_a_docx_compressed_otherwise_than_word_does_is_400(method):
    source = zipfile.ZipFile(io.BytesIO(sample_docx()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", DEFLATED) as target:
        for info in source.infolist():
            kind = method if info.filename == "word/document.xml" else DEFLATED
            target.writestr(info.filename, source.read(info), compress_type=kind)

    with pytest.raises(ImportFormatError, match=r"不是有效的 \.docx 文件"):
        parse_texts(buffer.getvalue(), "odd.docx")


@pytest.mark.parametrize(
    # zipfile raises RuntimeError (a password is needed) or NotImplementedError for these:
    # they were 500s
    "flag",
    [0x1, 0x20, 0x40],
    ids=["encrypted", "patched data", "strong encryption"],
)
def test_a_docx_member_zipfile_cannot_read_is_400(flag):
    members = sample_members()
    members[DOCUMENT] = {**members[DOCUMENT], "flags": flag}

    with pytest.raises(ImportFormatError, match=r"不是有效的 \.docx 文件"):
        parse_texts(hand_built_zip(members), "encrypted.docx")


def test_a_docx_needing_a_zip_version_zipfile_does_not_know_is_400():
    # zipfile raises NotImplementedError: a 500 (found by mutating the sample's bytes)
    members = sample_members()
    members[DOCUMENT] = {**members[DOCUMENT], "version": 247}

    with pytest.raises(ImportFormatError, match=r"不是有效的 \.docx 文件"):
        parse_texts(hand_built_zip(members), "future.docx")


def test_a_docx_naming_one_part_twice_is_400():
    members = sample_members()

    with pytest.raises(ImportFormatError, match=r"不是有效的 \.docx 文件"):
        parse_texts(hand_built_zip([*members, members[DOCUMENT]]), "twice.docx")


# --- .docx: what the parts hold ------------------------------------------------------------


def test_a_docx_whose_xml_holds_more_elements_than_the_limit_is_refused_while_inflating(
    settings,
):
    # 600,000 empty paragraphs: 3.6 MB of XML in a 40 KB file. python-docx took 19 s and
    # 280 MB for 5 MB of them; the count stops it while the parts are being inflated.
    flood = with_document_xml(sample_docx(), body_of("<w:p/>" * 600_000))

    outcome, peak = traced_peak(lambda: parse_texts(flood, "flood.docx"))

    assert f"最多 {settings.IMPORT_MAX_XML_ELEMENTS} 个 XML 元素" in refusal(outcome, TooLarge)
    assert peak < 16 * MB


def test_a_docx_with_more_lines_than_the_limit_is_refused(settings):
    settings.IMPORT_MAX_LINES = 100  # the sample has 122

    with pytest.raises(TooLarge, match="最多 100 行"):
        parse_texts(sample_docx(), "sample.docx")


def test_the_costliest_docx_within_the_limits_is_read_in_bounded_time(settings):
    # Runs are what cost most per element (python-docx's own Paragraph.text took ~30 µs a
    # run, 30 s for a million); this fills the element limit with them in one paragraph.
    runs = (settings.IMPORT_MAX_XML_ELEMENTS - 30_000) // 2
    heavy = with_document_xml(
        sample_docx(), body_of("<w:p>" + "<w:r><w:t>字</w:t></w:r>" * runs + "</w:p>")
    )

    started = time.perf_counter()
    with pytest.raises(ImportFormatError):
        parse_texts(heavy, "heavy.docx")
    # Measured 0.55 s (median of 5); the ceiling is 10x that.
    assert time.perf_counter() - started < 6


# --- .txt ------------------------------------------------------------------------------------

FILE_BYTES = 5 * MB
SAMPLE_LINES = SAMPLE.read_text(encoding="utf-8").split("\n")
FIRST_TEXT = "\n".join(SAMPLE_LINES[:23]) + "\n"
UNLIMITED = ImportLimits(
    inflated_bytes=10**10, parts=10**6, xml_elements=10**9, lines=10**9, texts=10**9
)


def _around(line: str, at: int) -> str:
    """The sample's first text with ``line`` put in as its line ``at`` (1-based)."""
    lines = SAMPLE_LINES[:23]
    return "\n".join([*lines[: at - 1], line, *lines[at - 1 :]])


ADVERSARIAL_TXT = {
    # section 一 opening with millions of blank lines (was quadratic: over a minute)
    "blank lines": lambda: _around("\n" * (FILE_BYTES - 3000), 4),
    "only headings": lambda: "一、项目名称\n" * (FILE_BYTES // 19),
    # a line of unclosed bookmark markers (was quadratic: over a minute)
    "bookmark debris": lambda: _around("[bookmark:" * (FILE_BYTES // 10 - 300), 4),
    "one line of numbers": lambda: _around("1 " * (FILE_BYTES // 2 - 1500), 19),
    "one line of grouped digits": lambda: _around("1,234" * (FILE_BYTES // 5 - 600), 19),
    "texts": lambda: FIRST_TEXT * (FILE_BYTES // len(FIRST_TEXT.encode())),
}


@pytest.mark.parametrize("shape", ADVERSARIAL_TXT)
def test_a_5_mb_adversarial_txt_is_parsed_in_bounded_time_even_without_limits(shape):
    """The parser itself is linear: an operator who raises the limits gets slower answers,
    not quadratic ones."""
    data = ADVERSARIAL_TXT[shape]().encode()
    assert len(data) > 4 * MB

    started = time.perf_counter()
    with contextlib.suppress(ImportFormatError):
        parse_texts(data, "adversarial.txt", UNLIMITED)
    # The slowest shape (5 million blank lines) measured 2.4 s; the ceiling is 10x that.
    assert time.perf_counter() - started < 25


def test_a_txt_with_more_lines_than_the_limit_is_refused_at_once(settings):
    data = ("\n" * settings.IMPORT_MAX_LINES).encode()  # one line more than the limit

    with pytest.raises(TooLarge, match=f"最多 {settings.IMPORT_MAX_LINES} 行"):
        parse_texts(data, "blank.txt")


def test_a_file_with_more_texts_than_the_limit_names_the_limit_and_where_it_is_passed(settings):
    settings.IMPORT_MAX_TEXTS = 3
    data = (FIRST_TEXT * 4).encode()  # 23 lines a text: the fourth starts on line 70

    with pytest.raises(TooLarge) as refused:
        parse_texts(data, "four.txt")

    assert str(refused.value) == "文件中的项目文本过多：每个文件最多 3 份，第70行起是第 4 份。"


def test_a_file_of_exactly_the_limit_of_texts_imports(settings):
    settings.IMPORT_MAX_TEXTS = 3

    assert len(parse_texts((FIRST_TEXT * 3).encode(), "three.txt")) == 3


# --- every way in applies the same limits --------------------------------------------------


def _api_upload(api, user, name: str, data: bytes):
    upload = io.BytesIO(data)
    upload.name = name
    return api(user).post("/api/v1/texts/import/", {"file": upload}, format="multipart")


def test_the_api_refuses_a_file_over_the_text_limit_with_413_and_creates_nothing(
    api, cast, settings
):
    settings.IMPORT_MAX_TEXTS = 1  # the sample holds 2
    events = AuditEvent.objects.count()

    response = _api_upload(api, cast.org_drafter, SAMPLE.name, SAMPLE.read_bytes())

    assert response.status_code == 413, response.content
    assert "最多 1 份" in response.json()["detail"]
    assert not ProjectText.objects.exists()
    assert AuditEvent.objects.count() == events


def test_the_api_refuses_a_docx_bomb_with_413_not_500(api, cast):
    bomb = hand_built_zip(
        [{"name": "word/document.xml", "stream": zeros_stream(1024), "size": 1024 * MB}]
    )

    response = _api_upload(api, cast.org_drafter, "bomb.docx", bomb)

    assert response.status_code == 413, response.content
    assert not ProjectText.objects.exists()


def test_the_import_page_refuses_a_file_over_the_text_limit_with_413(cast, client, settings):
    settings.IMPORT_MAX_TEXTS = 1
    client.force_login(cast.org_drafter)
    upload = SimpleUploadedFile(SAMPLE.name, SAMPLE.read_bytes())

    response = client.post("/texts/import/", {"step": "preview", "file": upload})

    assert response.status_code == 413
    assert "最多 1 份" in response.content.decode()
    assert not PendingImport.objects.exists()


def test_the_import_page_refuses_a_docx_bomb_with_413(cast, client):
    client.force_login(cast.org_drafter)
    bomb = hand_built_zip(
        [{"name": "word/document.xml", "stream": zeros_stream(1024), "size": 1024 * MB}]
    )

    response = client.post(
        "/texts/import/", {"step": "preview", "file": SimpleUploadedFile("bomb.docx", bomb)}
    )

    assert response.status_code == 413
    assert not PendingImport.objects.exists()


def test_the_import_command_refuses_a_file_over_the_text_limit(cast, settings):
    settings.IMPORT_MAX_TEXTS = 1

    with pytest.raises(CommandError, match="最多 1 份"):
        call_command("import_texts", str(SAMPLE), "--user", "org_drafter")
    assert not ProjectText.objects.exists()
