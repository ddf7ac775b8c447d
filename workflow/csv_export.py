"""CSV for download, streamed a chunk at a time: a byte-order mark first, so that Excel opens
the UTF-8 file with its Chinese intact, and every cell Excel would run as a formula made
plain text. The API's export (the scripts' contract) and the auditors' page both write
through here."""

import csv
import io
from collections.abc import Iterable, Iterator

# How a cell starts when Excel would take it for a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def plain_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text[:1] in FORMULA_STARTS:
        return "'" + text
    return text


def stream_csv(
    header: Iterable[object], rows: Iterable[Iterable[object]], *, chunk_rows: int = 500
) -> Iterator[str]:
    """The CSV of `header` and `rows`, as strings of up to `chunk_rows` rows each."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def written() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return value

    yield "\ufeff"
    writer.writerow([str(name) for name in header])
    yield written()
    for count, row in enumerate(rows, start=1):
        writer.writerow([plain_cell(value) for value in row])
        if count % chunk_rows == 0:
            yield written()
    yield written()
