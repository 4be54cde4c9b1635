"""The tools registry: one YAML file per tool under docs/data/tools/, and the parts in parts.yaml.

The schema is declared here once; every card, part index, timeline and selector reads
``load_registry``. A bad file stops the build naming the file, the tool and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

from scripts.site.datafiles import Field, load_yaml, validate_record
from scripts.site.errors import BuildError

# Each choice a tool file may make, with the label the site shows for it.
STATUSES = {"active": "Active", "maintenance": "Maintenance only", "deprecated": "Deprecated", "renamed": "Renamed"}
PLATFORMS = {"linux": "Linux", "macos": "macOS", "windows": "Windows", "android": "Android", "ios": "iOS",
             "web": "Web", "cloud": "Cloud service"}
HARDWARE = {"cpu": "CPU", "nvidia": "NVIDIA GPU", "amd": "AMD GPU", "intel": "Intel GPU", "apple": "Apple silicon",
            "tpu": "Google TPU", "mobile": "Mobile SoC / NPU", "other": "Other accelerators"}
EXECUTION_MODES = ("main", "side", "recorded", "none")
# Statuses of tools whose pages mostly point to a successor: they follow the current tools of a part.
RETIRED = ("deprecated", "renamed")
# What a reader may want to do, and the languages a tool is used from: the stack selector's filters.
USES = {"train": "Train", "fine-tune": "Fine-tune", "serve": "Serve", "on-device": "Run on a device",
        "kernels": "Write kernels"}
LANGUAGES = {"python": "Python", "cpp": "C++", "c": "C", "swift": "Swift", "java-kotlin": "Java / Kotlin",
             "javascript": "JavaScript", "csharp": "C#", "any": "any language (a service with APIs and SDKs)"}
# Facts that each need their own source URL.
SOURCED_FACTS = ("maintainer", "license", "first_release", "status", "platforms", "hardware", "languages")
# What the scaffold (scripts/commands/new_tool.py) writes where a checked fact belongs: the word TODO, and
# URLs on the domains reserved for examples (RFC 2606). A tool file holding either is refused.
PLACEHOLDER_WORD = re.compile(r"\bTODO\b")
EXAMPLE_DOMAINS = ("example.org", "example.com", "example.net")
# A licence that is not an SPDX expression (a service, a standard, proprietary terms) is described
# in a few words; anything longer belongs on the tool's page.
LICENSE_DESCRIPTION_MAX = 120
# Text written like an SPDX expression: identifiers with a digit, dot, plus or hyphen (MIT-style
# plain words excepted), joined by the operators. Such text must then be a valid expression, so a
# mistyped identifier is refused instead of being shown as a description.
_SPDX_OPERATORS = {"AND", "OR", "WITH"}
_SPDX_LIKE_ID = re.compile(r"^[A-Za-z0-9.+:-]*[0-9.+-][A-Za-z0-9.+:-]*$")

def part_fields(tool_ids: tuple[str, ...]) -> tuple[Field, ...]:
    """A part's fields; ``tools`` names every tool of the part, in the order a reader should meet them."""
    return (
        Field("id", "slug"),
        Field("title"),
        Field("summary"),
        Field("layer", "slug"),  # the stack diagram's layer of its tools (docs/data/stack.yaml)
        Field("tools", "choices", choices=tool_ids, required=False, nullable=True),  # none in a new part
    )

TOOL_FIELDS = (
    Field("id", "slug"),
    Field("name"),
    Field("part", "slug"),
    Field("description"),
    Field("maintainer"),
    Field("license"),  # an SPDX expression, or a short description in words (see _check_license)
    Field("first_release", "partial-date"),
    Field("status", "choice", choices=tuple(STATUSES)),
    Field("successor", "slug", required=False, nullable=True),
    Field("status_note", required=False, nullable=True),
    # The stack diagram's layer, where it differs from the part's (a compiler among runtimes).
    Field("layer", "slug", required=False, nullable=True),
    Field("platforms", "choices", choices=tuple(PLATFORMS)),
    Field("hardware", "choices", choices=tuple(HARDWARE)),
    Field("uses", "choices", choices=tuple(USES)),
    Field("languages", "choices", choices=tuple(LANGUAGES)),
    Field("links", "record", fields=(
        Field("home", "url"),
        Field("docs", "url"),
        Field("repository", "url", nullable=True),
    )),
    Field("execution", "record", fields=(
        Field("mode", "choice", choices=EXECUTION_MODES),
        Field("env", "slug", required=False, nullable=True),
        Field("gpu", required=False, nullable=True),
        Field("reason", required=False, nullable=True),
    )),
    Field("sources", "record", fields=tuple(Field(name, "url") for name in SOURCED_FACTS)),
    Field("verified", "date"),
)


@dataclass(frozen=True)
class Part:
    id: str
    title: str
    summary: str
    layer: str
    tools: list


@dataclass(frozen=True)
class Tool:
    id: str
    name: str
    part: str
    description: str
    maintainer: str
    license: str
    first_release: str
    status: str
    successor: str | None
    status_note: str | None
    layer: str | None
    platforms: list
    hardware: list
    uses: list
    languages: list
    links: dict
    execution: dict
    sources: dict
    verified: object
    path: Path

    @property
    def page(self) -> str:
        """The tool page's path relative to docs/."""
        return f"{self.part}/{self.id}.md"

    @property
    def license_is_spdx(self) -> bool:
        """True when ``license`` is an SPDX expression, False when it is a description in words."""
        return spdx_expression(self.license) is not None


@dataclass(frozen=True)
class Registry:
    parts: dict[str, Part]
    tools: dict[str, Tool]

    def tool(self, tool_id: str, where: str) -> Tool:
        if tool_id not in self.tools:
            raise BuildError(where, f"unknown tool id {tool_id!r}; known ids are listed in docs/data/tools/")
        return self.tools[tool_id]

    def part(self, part_id: str, where: str) -> Part:
        if part_id not in self.parts:
            raise BuildError(where, f"unknown part {part_id!r}; expected one of {', '.join(self.parts)}")
        return self.parts[part_id]

    def tools_in(self, part_id: str) -> list[Tool]:
        """The part's tools in its declared teaching order, current tools first, then retired ones."""
        tools = [self.tools[t] for t in self.parts[part_id].tools]
        return [t for t in tools if t.status not in RETIRED] + [t for t in tools if t.status in RETIRED]

    def in_teaching_order(self) -> list[Tool]:
        """Every tool: the parts in their declared order, each part's tools as ``tools_in``."""
        return [tool for part in self.parts for tool in self.tools_in(part)]

    def layer_of(self, tool: Tool) -> str:
        return tool.layer or self.parts[tool.part].layer


def load_parts(path: Path, tool_ids: tuple[str, ...] = ()) -> dict[str, Part]:
    """The parts, in their declared order; ``tool_ids`` are the ids a part's ``tools`` may name."""
    data = load_yaml(path)
    if not isinstance(data, list) or not data:
        raise BuildError(str(path), "expected a list of parts")
    parts: dict[str, Part] = {}
    for i, item in enumerate(data, start=1):
        name = item.get("id") if isinstance(item, dict) else None
        clean = validate_record(item, part_fields(tool_ids), f"{path}, part '{name}'" if name else f"{path}, part {i}")
        if clean["id"] in parts:
            raise BuildError(f"{path}, part '{clean['id']}'", "duplicate id")
        parts[clean["id"]] = Part(**{**clean, "tools": clean["tools"] or []})
    return parts


def spdx_expression(text: str) -> str | None:
    """The canonical form of ``text`` as an SPDX licence expression, or None if it is not one."""
    try:
        return canonicalize_license_expression(text)
    except InvalidLicenseExpression:
        return None


def _reads_as_spdx(text: str) -> bool:
    tokens = text.replace("(", " ").replace(")", " ").split()
    ids = [t for t in tokens if t.upper() not in _SPDX_OPERATORS]
    return bool(ids) and all(_SPDX_LIKE_ID.match(t) for t in ids)


def _check_license(text: str, where: str) -> None:
    """An SPDX expression in its canonical spelling, or a short description in words."""
    field = f"{where}, field 'license'"
    canonical = spdx_expression(text)
    if canonical is not None:
        if canonical != text:
            raise BuildError(field, f"write the SPDX expression {text!r} as {canonical!r}")
        return
    if _reads_as_spdx(text):
        raise BuildError(field, f"{text!r} is written like an SPDX expression but is not a valid one (identifiers "
                                f"are listed at https://spdx.org/licenses/); terms without an SPDX identifier "
                                f"are described in words")
    if len(text) > LICENSE_DESCRIPTION_MAX:
        raise BuildError(field, f"a licence described in words takes at most {LICENSE_DESCRIPTION_MAX} characters, "
                                f"got {len(text)}; say the rest on the tool's page")


def _placeholders(value, field: str = ""):
    """(field, what) for each scaffold placeholder in a raw tool record, nested fields dotted."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _placeholders(item, f"{field}.{key}" if field else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _placeholders(item, field)
    elif isinstance(value, str):
        if PLACEHOLDER_WORD.search(value):
            yield field, f"still holds the scaffold's placeholder {value!r}"
        host = (urlsplit(value.strip()).hostname or "") if "://" in value else ""
        if any(host == d or host.endswith("." + d) for d in EXAMPLE_DOMAINS):
            yield field, f"still holds the scaffold's placeholder URL {value!r} (a domain reserved for examples)"


def _refuse_placeholders(data, where: str) -> None:
    found = next(_placeholders(data), None)
    if found:
        field, what = found
        raise BuildError(f"{where}, field '{field}'", f"{what}: replace it with a checked fact and the page "
                                                      f"that states it")


def _check_tool(tool: dict, where: str, parts: dict[str, Part]) -> None:
    if tool["part"] not in parts:
        raise BuildError(f"{where}, field 'part'", f"unknown part {tool['part']!r}; expected one of {', '.join(parts)}")
    if tool["status"] == "renamed" and not tool["successor"]:
        raise BuildError(f"{where}, field 'successor'", "a renamed tool must name its successor")
    if tool["status"] == "active" and tool["successor"]:
        raise BuildError(f"{where}, field 'successor'", "an active tool has no successor")
    _check_license(tool["license"], where)
    execution = tool["execution"]
    needs = {"side": "env", "recorded": "gpu", "none": "reason"}.get(execution["mode"])
    if needs and not execution[needs]:
        raise BuildError(f"{where}, field 'execution.{needs}'", f"required when execution.mode is {execution['mode']}")


def _check_teaching_order(parts: dict[str, Part], tools: dict[str, Tool], path: Path) -> None:
    """Each part's ``tools`` lists exactly the tools whose files name that part."""
    for part in parts.values():
        where = f"{path}, part '{part.id}', field 'tools'"
        for tool_id in part.tools:
            if tools[tool_id].part != part.id:
                raise BuildError(where, f"lists {tool_id!r}, which {tools[tool_id].path} puts in part "
                                        f"{tools[tool_id].part!r}")
        for tool in tools.values():
            if tool.part == part.id and tool.id not in part.tools:
                raise BuildError(where, f"does not list {tool.id!r} ({tool.path}): add it where a reader of "
                                        f"this part should meet it")


def load_registry(data_dir: Path) -> Registry:
    files = sorted((data_dir / "tools").glob("*.yaml"))
    if not files:
        raise BuildError(str(data_dir / "tools"), "no tool files found")
    parts = load_parts(data_dir / "parts.yaml", tuple(path.stem for path in files))
    tools: dict[str, Tool] = {}
    entries = []
    for path in files:
        data = load_yaml(path)
        name = data.get("id") if isinstance(data, dict) else None
        where = f"{path}, tool '{name or path.stem}'"
        _refuse_placeholders(data, where)  # first, so a TODO is reported as such rather than as a bad value
        entries.append((path, where, validate_record(data, TOOL_FIELDS, where)))
    declared: dict[str, Path] = {}
    for path, where, clean in entries:  # duplicates first: a copied file also has the wrong name
        if clean["id"] in declared:
            other = declared[clean["id"]]
            raise BuildError(f"{where}, field 'id'", f"duplicate id, also declared by {other}")
        declared[clean["id"]] = path
    for path, where, clean in entries:
        if clean["id"] != path.stem:
            raise BuildError(f"{where}, field 'id'", f"must equal the file name {path.stem!r}")
        _check_tool(clean, where, parts)
        tools[clean["id"]] = Tool(**clean, path=path)
    for tool in tools.values():
        if tool.successor and tool.successor not in tools:
            raise BuildError(f"{tool.path}, tool '{tool.id}', field 'successor'",
                             f"names {tool.successor!r}, which is not a tool in the registry")
    _check_teaching_order(parts, tools, data_dir / "parts.yaml")
    return Registry(parts, tools)
