"""What the mock derives from a spec file, kept between starts and keyed by the file's bytes.

Why: parsing the 100 KB YAML contract costs 8-17 ms (libyaml, plus ~7 ms to import PyYAML),
deriving its strict view ~4 ms and compiling every validator another ~15 ms, on each start of
a mock that CI starts many times with the same spec. The cache keeps, in one JSON file per
spec (sha256 of its bytes):

- the parsed document, read back with orjson (~1 ms). It is written only when the JSON text
  gives back exactly the document YAML gave (a YAML date or an integer key would not survive
  JSON: such a spec is simply parsed every time);
- for one code fingerprint: that every validator of the document compiled, and the strict view
  `derive` made of it. With the running code's fingerprint, the mock adopts that view and
  compiles each validator on first use (`SpecRuntime`); without, it derives and compiles them
  all before serving, as before, so a spec whose schema does not compile still stops the
  start. The fingerprint names the files a compile or a view depends on (the `spec` package,
  `mock/runtime.py`, jsonschema-rs) by size and mtime.

Validation is as strict either way: the same schemas are compiled from the same document; only
the moment they are compiled moves. The folder is `$LENZ_CONTRACT_CACHE`, else `$XDG_CACHE_HOME/lenz-contract`,
else `~/.cache/lenz-contract`; `LENZ_CONTRACT_CACHE=off` turns the cache off. A folder that
cannot be written is no error: the mock then starts the slow way.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

CACHE_ENV = "LENZ_CONTRACT_CACHE"
FORMAT = 2


@dataclass
class CachedSpec:
    document: dict[str, Any]
    fingerprint: str = ""
    """The code under which every validator compiled and `views` were derived (or "")."""
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Derived views of `document` by their name (`spec.View` values), under `fingerprint`."""


def cache_folder() -> Path | None:
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "false", "no") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lenz-contract"


def spec_key(source: bytes) -> str:
    return f"spec-{FORMAT}-{hashlib.sha256(source).hexdigest()[:40]}.json"


def code_fingerprint() -> str:
    """Size and mtime of every file a validator's compile depends on (one stat each)."""
    import jsonschema_rs

    from ..spec import schemas

    spec_dir = Path(schemas.__file__).parent
    files = [*sorted(spec_dir.glob("*.py")), Path(__file__).with_name("runtime.py")]
    files.append(Path(jsonschema_rs.__file__))
    parts = []
    for path in files:
        try:
            info = path.stat()
        except OSError:
            continue
        parts.append(f"{path.name}:{info.st_size}:{info.st_mtime_ns}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def read(source: bytes) -> CachedSpec | None:
    folder = cache_folder()
    if folder is None:
        return None
    try:
        data = orjson.loads((folder / spec_key(source)).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    document, fingerprint, views = data.get("document"), data.get("fingerprint"), data.get("views")
    if not isinstance(document, dict) or not isinstance(fingerprint, str):
        return None
    if not isinstance(views, dict) or not all(isinstance(v, dict) for v in views.values()):
        return None
    return CachedSpec(document, fingerprint, views)


def write(source: bytes, entry: CachedSpec) -> bool:
    """Keep `entry` for `source` (atomically: a reader sees the old file or the new one)."""
    folder = cache_folder()
    if folder is None:
        return False
    try:
        text = orjson.dumps({"format": FORMAT, **entry.__dict__})
        back = orjson.loads(text)
        if back["document"] != entry.document or back["views"] != entry.views:
            return False  # not plain JSON (dates, integer keys, NaN): parse it each time
    except (TypeError, orjson.JSONEncodeError):
        return False
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".spec-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(text)
            os.replace(temporary, folder / spec_key(source))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        return False
    return True
