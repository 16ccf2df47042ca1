"""Node configuration: one YAML file, validated once, a typed frozen value afterwards.

Every error names the field (`zones[0].polygon`) and says how to fix it. The reference for
every field is docs/configuration.md; `edge_node/example-config.yaml` is a worked example.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .profiles import BUNDLED_MODELS, DEFAULT_MODEL, ModelProfile, profile_for

ID_PATTERN = r"^[a-z0-9_-]{1,32}$"
BUNDLED_MODEL = DEFAULT_MODEL

Id = Annotated[str, Field(pattern=ID_PATTERN)]
Name = Annotated[str, Field(min_length=1, max_length=64)]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Point = tuple[Unit, Unit]


class ConfigError(ValueError):
    """The configuration cannot be used; the message lists every problem, one per line."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CameraConfig(_Model):
    source: str | int = Field(
        description="Video file path, rtsp:// or http(s):// URL, V4L2 device (/dev/video0 or "
        "an index), or 'picamera2' for the Raspberry Pi camera."
    )
    loop: bool = Field(False, description="Replay a video file forever (demos).")
    realtime: bool | None = Field(
        None,
        description="Pace a video file at its own frame rate, as a camera would deliver it. "
        "Defaults to on for `run`, off for `eval`/`bench`.",
    )
    width: int | None = Field(None, ge=16, le=8192)
    height: int | None = Field(None, ge=16, le=8192)
    reconnect_max_s: float = Field(
        30.0, gt=0, le=3600, description="Longest backoff between reconnects."
    )
    lost_after_s: float = Field(
        120.0, gt=0, description="Report the camera as lost after this long without frames."
    )


# Detections per second, or null for every frame; by default the model profile's rate, the one
# its thresholds were chosen at (edge_node/profiles.py, docs/benchmarks.md for a Pi's budget).
RateHz = Annotated[float, Field(gt=0, le=120)]


def default_threads() -> int:
    """All cores up to four: XNNPACK gains little beyond, and a Pi has four."""
    return max(1, min(4, os.cpu_count() or 1))


class DetectionConfig(_Model):
    model: str = Field(
        BUNDLED_MODEL,
        description="'bundled' (NanoDet-g), 'ssdlite', 'ssdlite-int8' or the path of a TFLite "
        "SSD model.",
    )
    labels: str | None = Field(None, description="Label map of a user model (one label per line).")
    person_label: str = "person"
    # Thresholds and tracker settings left out (null) come from the model's profile.
    score_threshold: Unit | None = Field(
        None, description="Detections below this never start a track."
    )
    low_score_threshold: Unit | None = Field(
        None, description="Weaker detections may still continue an existing track."
    )
    split_aspect: float | None = Field(
        None,
        ge=0,
        le=10,
        description="A box wider than this (width over height, in pixels) is two people side "
        "by side and is split in two (0 = never).",
    )
    rate_hz: RateHz | Literal["profile"] | None = Field(
        "profile",
        description="Run the detector this many times a second on average; null = every frame; "
        "'profile' (the default) = the rate the model's profile was chosen at.",
    )
    threads: int = Field(
        default_factory=default_threads,
        ge=1,
        le=16,
        description="CPU threads for the model; default: the CPU's cores, at most 4.",
    )

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> DetectionConfig:
        if self.low_score_threshold is None or self.score_threshold is None:
            return self  # checked with the profile's values by NodeConfig
        if self.low_score_threshold > self.score_threshold:
            raise ValueError(
                "low_score_threshold must not exceed score_threshold "
                f"({self.low_score_threshold} > {self.score_threshold})"
            )
        return self


class MotionConfig(_Model):
    enabled: bool = Field(False, description="Skip inference on frames where nothing moved.")
    min_area: float = Field(
        0.0005, ge=0, le=1, description="Smallest changed area, as a fraction of the frame."
    )
    keepalive_s: float = Field(
        1.0, gt=0, le=60, description="Run the detector at least this often even without motion."
    )


class TrackingConfig(_Model):
    # Every value left out (null) comes from the model's profile (edge_node/profiles.py).
    max_lost_s: float | None = Field(
        None, gt=0, le=60, description="Keep an unseen person's track this long for re-matching."
    )
    report_lost_s: float | None = Field(
        None, ge=0, le=60, description="An unseen person still counts as in view this long."
    )
    min_hits: int | None = Field(
        None, ge=1, le=30, description="Detections before a track counts as a person."
    )
    match_iou: Unit | None = Field(None, description="Smallest box overlap that continues a track.")
    stitch_gap_s: float | None = Field(
        None,
        ge=0,
        le=60,
        description="A person hidden at most this long who reappears close by, moving the same "
        "way, keeps their track (0 = off).",
    )
    stitch_distance: float | None = Field(
        None, gt=0, le=10, description="How close, in the person's heights, a reappearance must be."
    )
    max_weak_s: float | None = Field(
        None,
        ge=0,
        le=60,
        description="Weak detections alone keep a track going at most this long after its last "
        "confident one (0 = no limit).",
    )


class ZoneConfig(_Model):
    id: Id
    name: Name
    polygon: Annotated[list[Point], Field(min_length=3, max_length=64)]
    capacity: int | None = Field(None, ge=1, le=10000)


class LineConfig(_Model):
    id: Id
    name: Name
    start: Point
    end: Point
    invert: bool = Field(False, description="Swap which side counts as 'in'.")
    entrance: bool = Field(True, description="Crossings count as store footfall.")

    @model_validator(mode="before")
    @classmethod
    def _direction_in_point_order(cls, data: Any) -> Any:
        # One meaning of a line everywhere (description, layout, analytics): `in` follows
        # start -> end, so `invert: true` is the same line with its points swapped.
        if isinstance(data, dict) and data.get("invert") is True:
            return {**data, "start": data.get("end"), "end": data.get("start"), "invert": False}
        return data

    @model_validator(mode="after")
    def _has_length(self) -> LineConfig:
        if self.start == self.end:
            raise ValueError("start and end are the same point; a line needs two distinct points")
        return self


class ProductConfig(_Model):
    id: Id
    name: Name
    area: Annotated[list[Point], Field(min_length=3, max_length=64)] = Field(
        description="The product's part of the shelf (normalized polygon; its bounding box "
        "is split into `facings` columns)."
    )
    facings: int = Field(1, ge=1, le=64, description="Items side by side in the area when full.")
    photo: str | None = Field(None, description="Owner's photo of the product (JPEG/PNG).")


class ShelfConfig(_Model):
    id: Id
    name: Name
    polygon: Annotated[list[Point], Field(min_length=3, max_length=64)]
    products: Annotated[list[ProductConfig], Field(max_length=64)] = []
    facings: int = Field(4, ge=1, le=64, description="Columns compared when no products given.")
    settle_s: float = Field(
        0.5, ge=0, le=600, description="Nobody near the shelf this long before it is looked at."
    )
    look_s: float = Field(0.5, gt=0, le=600, description="Time between two quiet looks.")
    untouched_s: float = Field(
        5.0, ge=0, le=3600, description="A change no tracked person came near must last this long."
    )
    margin: float = Field(
        0.15, ge=0, le=2, description="A person's box grown by this share of its size."
    )
    change_threshold: float = Field(
        0.6,
        ge=-1,
        le=1,
        description="A facing correlating less than this with its reference has changed.",
    )
    min_texture: float = Field(
        6.0, ge=0, le=128, description="Grey-level spread below which a facing counts as plain."
    )
    restock_facings: int = Field(
        2, ge=2, le=64, description="Facings filled at once that count as restocking."
    )
    low_level: Unit = Field(0.34, description="Below this level the stock is low.")
    low_hysteresis: Unit = Field(0.1, description="Back to ok at low_level + this.")
    low_after_s: float = Field(60.0, ge=0, le=86400, description="Low this long before reported.")

    @model_validator(mode="after")
    def _unique_products(self) -> ShelfConfig:
        ids = [p.id for p in self.products]
        if len(ids) != len(set(ids)):
            raise ValueError("products: an id is used twice; product ids must be unique")
        return self


class AnalyticsConfig(_Model):
    zone_enter_s: float = Field(0.5, ge=0, le=60, description="Inside this long before counted.")
    zone_exit_s: float = Field(1.0, ge=0, le=60, description="Outside this long before released.")
    line_margin: float | None = Field(
        None, ge=0, le=0.25, description="Dead band around lines against jitter (normalized)."
    )
    min_visit_s: float = Field(2.0, ge=0, le=3600, description="Shorter visits are not reported.")


# --- personas: behaviour rules (docs/personas.md explains them to shop owners) -------------


class StaffConfig(_Model):
    zones: list[Id] = Field(
        [], max_length=32, description="Zones only staff use (behind the counter, stock room)."
    )
    zone_min_s: float = Field(
        20.0, ge=0, le=86400, description="This long in staff zones marks a person staff_like."
    )
    presence_min_s: float = Field(
        1800.0, gt=0, le=86400, description="In view this long marks a person staff_like."
    )


class GroupConfig(_Model):
    max_distance: float = Field(
        1.0, gt=0, le=10, description="Feet closer than this many body heights are together."
    )
    max_heading_deg: float = Field(45.0, ge=0, le=180, description="Walking the same way.")
    max_speed_ratio: float = Field(2.0, ge=1, le=10, description="Walking at a similar speed.")
    min_together_s: float = Field(4.0, ge=0, le=3600, description="Together at least this long.")
    min_fraction: Unit = Field(0.5, description="... and for this share of their shared time.")


class PersonaConfig(_Model):
    enabled: bool = Field(True, description="Give each visit a behavioural persona.")
    stop_speed: float = Field(
        0.2, gt=0, le=5, description="Slower than this (body heights/s) is standing still."
    )
    stop_min_s: float = Field(2.0, gt=0, le=600, description="Standing this long is a stop.")
    passer_max_s: float = Field(
        30.0, ge=0, le=3600, description="A passer-by is seen at most this long ..."
    )
    passer_min_straightness: Unit = Field(0.8, description="... on a path at least this straight.")
    lingerer_min_stop_s: float = Field(
        10.0, gt=0, le=86400, description="Standing this long in one place makes a lingerer."
    )
    staff: StaffConfig = StaffConfig()
    groups: GroupConfig = GroupConfig()


class TlsConfig(_Model):
    ca_file: str | None = Field(None, description="CA certificate that signed the broker's.")
    cert_file: str | None = Field(None, description="Client certificate (mutual TLS).")
    key_file: str | None = Field(None, description="Client certificate's private key.")
    insecure: bool = Field(False, description="Skip host name checks (testing only).")


class MqttConfig(_Model):
    host: str = Field(min_length=1)
    port: int | None = Field(None, ge=1, le=65535, description="Default 1883, or 8883 with TLS.")
    tls: TlsConfig | None = None
    username: str | None = None
    password: str | None = None
    password_file: str | None = Field(None, description="File holding the password.")
    client_id: str | None = Field(None, description="Default storefront-<node_id>.")
    keepalive_s: int = Field(30, ge=5, le=3600)
    topic_root: str = Field("storefront", pattern=r"^[a-z0-9_-]{1,32}(/[a-z0-9_-]{1,32}){0,3}$")
    state_interval_s: float = Field(60.0, ge=1, le=3600, description="Republish state this often.")
    health_interval_s: float = Field(30.0, ge=1, le=3600)
    reconnect_max_s: float = Field(60.0, ge=1, le=3600, description="Longest reconnect backoff.")

    @model_validator(mode="after")
    def _one_password(self) -> MqttConfig:
        if self.password is not None and self.password_file is not None:
            raise ValueError("give either password or password_file, not both")
        return self

    @property
    def effective_port(self) -> int:
        return self.port or (8883 if self.tls else 1883)

    def read_password(self) -> str | None:
        if self.password_file is None:
            return self.password
        try:
            return Path(self.password_file).read_text(encoding="utf-8").strip()
        except OSError as err:
            raise ConfigError(
                f"mqtt.password_file: cannot read {self.password_file} ({err.strerror})"
            ) from None


class OutboxConfig(_Model):
    path: str = Field("storefront-node.db", description="SQLite file for queued events.")
    max_events: int = Field(500_000, ge=10, le=100_000_000)
    max_mb: float = Field(256.0, gt=0, le=100_000)
    max_age_h: float = Field(168.0, gt=0, le=24 * 365)
    # A busy shop makes ~10,000 events a day; the log covers a day and a bit for Home Assistant
    # to ask again for what it missed.
    replay_events: int = Field(50_000, ge=0, le=10_000_000)
    replay_age_h: float = Field(26.0, ge=0, le=24 * 365)


class PrivacyConfig(_Model):
    snapshots: bool = Field(True, description="Allow on-request anonymised snapshots.")


class FeaturesConfig(_Model):
    attention: bool = Field(
        False, description="Run a face detector in display zones: watchers and attention time."
    )
    mood: bool = Field(
        False, description="Read facial expression of watchers, published only in aggregate."
    )

    @model_validator(mode="after")
    def _mood_needs_attention(self) -> FeaturesConfig:
        if self.mood and not self.attention:
            raise ValueError(
                "mood is read from the faces attention finds; set attention: true as well"
            )
        return self


class AudienceConfig(_Model):
    dwell_s: float = Field(
        2.0, ge=0, le=3600, description="In a display zone this long: an impression (dweller)."
    )
    min_look_s: float = Field(
        1.0, ge=0, le=60, description="A frontal face held this long makes a watcher."
    )
    face_model: Literal["short_range", "full_range"] = Field(
        "short_range", description="BlazeFace variant: short_range (128 px) or full_range (192 px)."
    )
    face_threshold: Unit = Field(0.75, description="Least face detector score.")
    max_yaw: float = Field(
        0.5,
        gt=0,
        le=2,
        description="Frontal when the nose is off the eyes' midpoint by at most this share of the "
        "eye distance.",
    )
    head_share: float = Field(
        0.35, gt=0, le=1, description="Upper share of a person box searched for a face."
    )
    mood_min_impressions: int = Field(
        5, ge=1, le=10000, description="Mood shares are published only over at least this many."
    )


class NodeConfig(_Model):
    node_id: Id
    name: Name | None = None
    timezone: str = "UTC"
    capacity: int | None = Field(None, ge=1, le=10000)
    camera: CameraConfig
    detection: DetectionConfig = DetectionConfig()
    motion: MotionConfig = MotionConfig()
    tracking: TrackingConfig = TrackingConfig()
    analytics: AnalyticsConfig = AnalyticsConfig()
    personas: PersonaConfig = PersonaConfig()
    zones: list[ZoneConfig] = []
    lines: list[LineConfig] = []
    displays: list[ZoneConfig] = []
    shelves: Annotated[list[ShelfConfig], Field(max_length=32)] = []
    mqtt: MqttConfig | None = None
    outbox: OutboxConfig = OutboxConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    features: FeaturesConfig = FeaturesConfig()
    audience: AudienceConfig = AudienceConfig()
    layout_file: str = Field(
        "layout.yaml",
        min_length=1,
        description="Where the layout drawn in Home Assistant is saved (relative to this file). "
        "Once it exists, its zones, lines, displays and shelves replace the ones written here.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {value!r}; use an IANA name such as 'Europe/Berlin'"
            ) from None
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> NodeConfig:
        for section in ("zones", "lines", "displays", "shelves"):
            seen: set[str] = set()
            for item in getattr(self, section):
                if item.id in seen:
                    raise ValueError(f"{section}: id {item.id!r} is used twice; ids must be unique")
                seen.add(item.id)
        return self

    @model_validator(mode="after")
    def _staff_zones_exist(self) -> NodeConfig:
        known = {zone.id for zone in self.zones}
        for index, zone_id in enumerate(self.personas.staff.zones):
            if zone_id not in known:
                raise ValueError(
                    f"personas.staff.zones[{index}]: no zone has id {zone_id!r}; "
                    "name a zone from the zones section"
                )
        return self

    @property
    def display_name(self) -> str:
        return self.name or self.node_id

    # --- model profile: thresholds and tracker settings the YAML leaves out
    def detection_rate(self) -> float | None:
        """Detections per second (None: on every frame): the YAML's, else the profile's."""
        rate = self.detection.rate_hz
        return self.tuning().rate_hz if rate == "profile" else rate

    def tuning(self) -> ModelProfile:
        """The detector's profile with every value the YAML sets replacing the profile's."""
        given = {
            **self.detection.model_dump(
                include={"score_threshold", "low_score_threshold", "split_aspect"}
            ),
            **self.tracking.model_dump(),
            "line_margin": self.analytics.line_margin,
        }
        return profile_for(self.detection.model).override(given)

    @model_validator(mode="after")
    def _profile_thresholds_ordered(self) -> NodeConfig:
        tuning = self.tuning()
        if tuning.low_score_threshold > tuning.score_threshold:
            raise ValueError(
                f"detection.low_score_threshold {tuning.low_score_threshold} exceeds "
                f"score_threshold {tuning.score_threshold} (with the model profile's values "
                "filled in); low_score_threshold must not exceed score_threshold"
            )
        return self


_HINTS = {
    "string_pattern_mismatch": "use 1-32 characters of a-z, 0-9, _ and -",
    "extra_forbidden": "unknown key; check its spelling against docs/configuration.md",
    "missing": "this field is required",
}


def _location(loc: tuple[int | str, ...], data: Any) -> str:
    """`lines[0] 'door'.start`: the path of a field, with the id of each list item it passes."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
            data = data[part] if isinstance(data, list) and part < len(data) else None
            if isinstance(data, dict) and isinstance(data.get("id"), str):
                text += f" {data['id'][:32]!r}"
        else:
            text += f".{part}" if text else str(part)
            data = data.get(part) if isinstance(data, dict) else None
    return text or "(top level)"


def _describe(error: Any, data: Any) -> str:
    hint = _HINTS.get(error["type"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{_location(error['loc'], data)}: {message}" + (f" ({hint})" if hint else "")


def validate_config(data: dict[str, Any], *, origin: str) -> NodeConfig:
    """A NodeConfig from a mapping, or one ConfigError listing every problem with its item."""
    try:
        return NodeConfig.model_validate(data)
    except ValidationError as err:
        problems = "\n".join(f"  {_describe(e, data)}" for e in err.errors())
        raise ConfigError(f"{origin}: {err.error_count()} problem(s):\n{problems}") from None


def parse_config(data: Any, *, origin: str = "config") -> NodeConfig:
    """Validate an already-loaded YAML document."""
    if not isinstance(data, dict):
        raise ConfigError(
            f"{origin}: the file must be a YAML mapping (key: value), not {type(data).__name__}"
        )
    return validate_config(data, origin=origin)


def load_config(path: str | Path) -> NodeConfig:
    """Read and validate a node's YAML file; relative camera/model paths are resolved from it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the configuration ({err.strerror})") from None
    data = _yaml(text, path)
    if isinstance(data, dict):
        data = _with_saved_layout(data, path)
    config = parse_config(data, origin=str(path))
    return _resolve_paths(config, path.parent)


def _yaml(text: str, path: Path) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None


LAYOUT_VERSION = 1
LAYOUT_SECTIONS = tuple(
    section
    for section in ("zones", "lines", "displays", "shelves")
    if section in NodeConfig.model_fields
)


def layout_path(config_path: Path, layout_file: str) -> Path:
    """The layout file of a node's YAML: `layout_file`, relative to the YAML's folder."""
    return config_path.parent / Path(layout_file).expanduser()


def _with_saved_layout(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """The YAML's mapping with the sections of its saved layout file, when there is one."""
    layout_file = data.get("layout_file", NodeConfig.model_fields["layout_file"].default)
    if not isinstance(layout_file, str) or not layout_file:
        return data  # refused with the field's own message by parse_config
    file = layout_path(path, layout_file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return data
    except OSError as err:
        raise ConfigError(f"{file}: cannot read the saved layout ({err.strerror})") from None
    layout = _yaml(text, file)
    if not isinstance(layout, dict) or layout.get("version") != LAYOUT_VERSION:
        raise ConfigError(
            f"{file}: not a layout file of version {LAYOUT_VERSION}; restore {file.name}.bak "
            "or delete the file to fall back to the layout in the YAML"
        )
    return {**data, **{section: layout.get(section, []) for section in LAYOUT_SECTIONS}}


_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def _resolve_photos(shelf: ShelfConfig, resolve: Callable[[str | None], str | None]) -> ShelfConfig:
    products = [p.model_copy(update={"photo": resolve(p.photo)}) for p in shelf.products]
    return shelf.model_copy(update={"products": products})


def _resolve_paths(config: NodeConfig, base: Path) -> NodeConfig:
    """Relative file paths in the YAML are relative to the YAML file, not to the caller."""
    camera = config.camera
    source = camera.source
    if isinstance(source, str) and not _URL.match(source) and source != "picamera2":
        source_path = Path(source).expanduser()
        if not source_path.is_absolute() and not source.startswith("/dev/"):
            source = str((base / source_path).resolve())

    def resolve(value: str | None) -> str | None:
        if not value or value in BUNDLED_MODELS or Path(value).expanduser().is_absolute():
            return value
        return str((base / Path(value).expanduser()).resolve())

    detection = config.detection
    updates: dict[str, Any] = {
        "camera": camera.model_copy(update={"source": source}),
        "detection": detection.model_copy(
            update={"model": resolve(detection.model), "labels": resolve(detection.labels)}
        ),
        "outbox": config.outbox.model_copy(update={"path": resolve(config.outbox.path)}),
        "shelves": [_resolve_photos(shelf, resolve) for shelf in config.shelves],
        "layout_file": resolve(config.layout_file),
    }
    if config.mqtt is not None:
        mqtt = config.mqtt
        tls = mqtt.tls
        if tls is not None:
            tls = tls.model_copy(
                update={k: resolve(getattr(tls, k)) for k in ("ca_file", "cert_file", "key_file")}
            )
        updates["mqtt"] = mqtt.model_copy(
            update={"tls": tls, "password_file": resolve(mqtt.password_file)}
        )
    return config.model_copy(update=updates)
