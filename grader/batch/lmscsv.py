"""CSV read so that it can be written back byte for byte, except the cells that are changed on purpose.

An LMS reads back the file it exported (Canvas's gradebook export, Moodle's grading worksheet) and
compares it with what it holds: a column renamed, a quote added or a line ending changed is at best
noise and at worst a refused import. So the file is kept as records of raw fields, each with the
text as written and the value it stands for; ``render`` writes the raw text of every field that was
not changed, and a changed field in the style of the one it replaces (quoted if it was quoted).

Bytes that are not UTF-8 travel through ``surrogateescape`` and are written back as they were.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import UsageError

MAX_BYTES = 32 << 20
BOM = "\ufeff"


@dataclass
class Field:
    raw: str
    value: str


@dataclass
class Record:
    fields: list[Field]
    end: str  # the line ending after the record ("" at the end of the file)

    @property
    def values(self) -> list[str]:
        return [f.value for f in self.fields]


@dataclass
class Table:
    """A CSV file as records; ``prefix`` is a byte-order mark when the file had one."""

    records: list[Record]
    prefix: str = ""
    path: Path | None = field(default=None, compare=False)

    @property
    def header(self) -> list[str]:
        return self.records[0].values if self.records else []

    def render(self) -> str:
        return self.prefix + "".join(",".join(f.raw for f in r.fields) + r.end for r in self.records)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.render().encode("utf-8", "surrogateescape"))


def needs_quotes(value: str) -> bool:
    return any(c in value for c in ',"\r\n') or value != value.strip()


def set_value(record: Record, index: int, value: str) -> None:
    """Set one cell, quoted like the cell it replaces (or when the value needs it)."""
    while len(record.fields) <= index:
        record.fields.append(Field("", ""))
    old = record.fields[index].raw
    quoted = old.startswith('"') or needs_quotes(value)
    record.fields[index] = Field('"' + value.replace('"', '""') + '"' if quoted else value, value)


def parse(text: str) -> Table:
    """Records of raw fields (RFC 4180, as Excel, Canvas and PHP's fputcsv write it)."""
    prefix = BOM if text.startswith(BOM) else ""
    text = text[len(prefix):]
    records: list[Record] = []
    if not text:
        return Table(records, prefix)
    i, n, fields = 0, len(text), []
    while True:
        start = i
        if i < n and text[i] == '"':
            i += 1
            value = []
            while i < n:
                if text[i] == '"':
                    if text[i + 1:i + 2] == '"':
                        value.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                value.append(text[i])
                i += 1
            while i < n and text[i] not in ",\r\n":  # text after a closing quote: kept, as readers do
                value.append(text[i])
                i += 1
            fields.append(Field(text[start:i], "".join(value)))
        else:
            while i < n and text[i] not in ",\r\n":
                i += 1
            fields.append(Field(text[start:i], text[start:i]))
        if i < n and text[i] == ",":
            i += 1
            continue
        if text[i:i + 2] == "\r\n":
            end, i = "\r\n", i + 2
        elif i < n:
            end, i = text[i], i + 1
        else:
            end = ""
        records.append(Record(fields, end))
        fields = []
        if i >= n:
            return Table(records, prefix)


def read(path: Path, what: str = "file") -> Table:
    """Read ``path`` as a ``Table``; a missing, huge or binary file is one plain sentence (exit 2)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the {what} {path}: {exc.strerror}") from None
    if len(data) > MAX_BYTES or b"\0" in data[:4096]:
        raise UsageError(f"the {what} {path} is not a CSV file (binary, or over {MAX_BYTES >> 20} MiB)")
    table = parse(data.decode("utf-8", "surrogateescape"))
    table.path = Path(path)
    return table
