"""One Settings object for the whole portal, read from the environment (or a .env file)."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# 12 or 24; the environment gives text ("24"), which a bare Literal[12, 24] refuses.
ClockHours = Annotated[Literal[12, 24], BeforeValidator(int)]


class Settings(BaseSettings):
    """Every setting has a default that gives a working demo; override with env vars."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'portal.db'}",
        description="SQLAlchemy URL; SQLite file by default, postgresql+psycopg://... to scale.",
    )
    state_dir: Path = Field(
        default=PROJECT_ROOT / "var",
        description="Folder for runtime state kept out of git: secrets, demo logins.",
    )
    clinic_name: str = Field(default="Riverside Family Clinic", description="Shown in the header.")
    clinic_timezone: str = Field(
        default="America/New_York", description="IANA zone used to show times; storage is UTC."
    )
    clock_hours: ClockHours = Field(
        default=12,
        description="How times are shown to people everywhere: 12 (3:05 PM) or 24 (15:05).",
    )
    demo_patients: int = Field(default=50, description="Patients the demo clinic seeds.")
    demo_seed: int = Field(default=20261124, description="Seed of the demo generator.")
    cookie_key: str | None = Field(
        default=None,
        description="Login cookie signing key; generated into state_dir on first start if unset.",
    )
    cookie_name: str = Field(default="clinic_portal_auth", description="Login cookie name.")
    cookie_expiry_days: float = Field(default=0.5, description="Login cookie lifetime in days.")
    login_sleep_seconds: float = Field(
        default=0.7, description="Pause before the login form (slows password guessing)."
    )

    # --- patient requests and the triage inbox ------------------------------------------------
    message_max_chars: int = Field(
        default=10_000, description="Longest message a patient or staff member may send."
    )
    attachment_max_bytes: int = Field(
        default=10 * 1024 * 1024, description="Largest attachment accepted (bytes); 10 MB."
    )
    attachments_per_message: int = Field(default=5, description="Most files on one message.")
    business_hours_start: int = Field(
        default=8, description="Hour (clinic time) the clinic opens on business days; SLA clock."
    )
    business_hours_end: int = Field(
        default=17, description="Hour (clinic time) the clinic closes on business days."
    )
    business_days: list[int] = Field(
        default=[0, 1, 2, 3, 4], description="Weekdays the clinic works (0 = Monday)."
    )
    triage_sla_hours: dict[str, float] = Field(
        default={"message": 8, "refill": 16, "profile_change": 24, "reading_alert": 4},
        description="Business hours until a triage item of each kind is due (JSON in env).",
    )
    triage_sla_default_hours: float = Field(
        default=16, description="Business hours until due for kinds not in triage_sla_hours."
    )
    triage_urgent_sla_hours: float = Field(
        default=1,
        gt=0,
        description="Business hours until an urgent triage item (any kind) is due.",
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP server for notification emails; unset means no email."
    )
    smtp_port: int = Field(default=587, description="SMTP port.")
    smtp_username: str | None = Field(default=None, description="SMTP login, if it needs one.")
    smtp_password: str | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(default=True, description="Upgrade the SMTP link with STARTTLS.")
    smtp_from: str = Field(
        default="portal@clinic.invalid", description="From address of notification emails."
    )

    # --- the audit trail's anchor outside the database (issue 15) ----------------------------
    audit_key: str | None = Field(
        default=None,
        description="HMAC key of the audit chain and its checkpoints; generated into state_dir's "
        "secrets on first use if unset. Keep it out of the database and back it up.",
    )
    audit_checkpoint_path: Path | None = Field(
        default=None,
        description="Append-only file of signed audit checkpoints (entry count, newest hash, "
        "time); state_dir/audit/checkpoints-<digest of DATABASE_URL>.log if unset. Keep it off "
        "the database server.",
    )
    audit_checkpoint_syslog: bool = Field(
        default=False, description="Also send each signed checkpoint to the local syslog."
    )

    # --- home readings imports (issue 15): one bad or huge file must not hold the server -----
    # Measured on one core (docs in README): about 6,000 Apple Health records a second, so the
    # time limits, not the sizes, bound the worst case.
    csv_import_max_bytes: int = Field(
        default=10 * 1024 * 1024, description="Largest CSV file of readings accepted (bytes)."
    )
    csv_import_max_rows: int = Field(
        default=100_000, description="Most lines one CSV import reads; more refuses the file."
    )
    csv_import_max_field_chars: int = Field(
        default=1_000, description="Longest single CSV field (a longer one refuses the file)."
    )
    csv_import_max_seconds: float = Field(
        default=60, description="Longest a CSV import may run before it is refused, unstored."
    )
    apple_health_import_max_bytes: int = Field(
        default=100 * 1024 * 1024,
        description="Largest Apple Health upload (export.zip or export.xml) accepted (bytes).",
    )
    apple_health_import_max_xml_bytes: int = Field(
        default=1024 * 1024 * 1024,
        description="Largest export.xml read out of an export.zip (decompressed bytes; stops "
        "zip bombs).",
    )
    apple_health_import_max_records: int = Field(
        default=1_500_000,
        description="Most Apple Health records (of any type) one import reads.",
    )
    apple_health_import_max_depth: int = Field(
        default=16, description="Deepest XML nesting accepted (Apple's exports use 4)."
    )
    apple_health_import_max_seconds: float = Field(
        default=180, description="Longest an Apple Health import may run before it is refused."
    )
    fhir_import_max_bytes: int = Field(
        default=20 * 1024 * 1024, description="Largest FHIR JSON file of readings accepted."
    )
    fhir_import_max_entries: int = Field(
        default=20_000, description="Most bundle entries one FHIR import reads."
    )
    fhir_import_max_depth: int = Field(
        default=64, description="Deepest JSON nesting accepted in a FHIR file."
    )
    fhir_import_max_seconds: float = Field(
        default=60, description="Longest a FHIR import may run before it is refused."
    )

    # --- scheduling -----------------------------------------------------------------------------
    cancel_cutoff_hours: int = Field(
        default=24,
        description="Patients may not cancel or reschedule online this close to a visit (hours).",
    )
    cancel_grace_minutes: int = Field(
        default=60,
        description="A visit may still be cancelled or moved online this many minutes after it "
        "was booked, even inside the cut-off (a visit booked today for tomorrow).",
    )
    booking_horizon_days: int = Field(
        default=60, description="How far ahead patients may book (days)."
    )
    reminder_schedule_hours: str = Field(
        default="72,24",
        description="Hours before a visit that reminders go out, comma-separated (e.g. 72,24).",
    )
    video_base_url: str = Field(
        default="https://meet.jit.si",
        description="Video server (e.g. a Jitsi Meet server); a room name is appended to it.",
    )
    waitlist_offer_minutes: int = Field(
        default=120, description="How long a freed slot is held for a waitlisted patient (minutes)."
    )
    portal_url: str = Field(
        default="http://localhost:8501", description="Portal address used in reminder emails."
    )

    # --- security: sessions, lockout, MFA, account codes (issue 6) -----------------------------
    session_idle_minutes: float = Field(
        default=15, description="Sign out after this many minutes without activity (server-side)."
    )
    session_absolute_hours: float = Field(
        default=12, description="Longest a sign-in lasts, active or not, before a new sign-in."
    )
    login_free_attempts: int = Field(
        default=5,
        description="Failed sign-ins in a row an account (or a device) may make before each "
        "further attempt has to wait.",
    )
    login_account_max_wait_seconds: float = Field(
        default=60,
        description="Longest wait between sign-in attempts on one account: the waits double "
        "(1 s, 2 s, 4 s ...) up to this, so a stranger cannot keep the owner out for longer.",
    )
    login_client_max_wait_seconds: float = Field(
        default=900,
        description="Longest wait for one device (IP address) that keeps failing, whatever "
        "accounts it tries; forgotten an hour after its last failure.",
    )
    login_hard_limit: int = Field(
        default=100,
        description="Failed sign-ins in a row after which an account takes no password until it "
        "is reset with a clinic code or unlocked by an admin (NIST SP 800-63B 5.2.2 allows 100).",
    )
    trust_proxy_headers: bool = Field(
        default=False,
        description="Behind a reverse proxy on this machine: take the client's address from the "
        "last X-Forwarded-For entry (for sign-in throttling) instead of the proxy's address.",
    )
    mfa_required_for_staff: bool = Field(
        default=True, description="Staff must enrol an authenticator app before using the portal."
    )
    account_code_hours: float = Field(
        default=72, description="Hours an activation or password-reset code stays usable."
    )
    password_min_length: int = Field(
        default=12, description="Shortest password the portal accepts when one is chosen."
    )

    # --- EHR sync over FHIR R4 (issue 5) --------------------------------------------------------
    fhir_base_url: str | None = Field(
        default=None,
        description="FHIR R4 base URL of the clinic's EHR (http://127.0.0.1:8103/fhir/R4); unset "
        "means no sync.",
    )
    fhir_source: str = Field(
        default="ehr", description="Name stored as the source of every row the sync imports."
    )
    fhir_auth: str = Field(
        default="none", description="EHR authentication: none, bearer, or smart (Backend Services)."
    )
    fhir_bearer_token: str | None = Field(
        default=None, description="Access token sent when fhir_auth is bearer."
    )
    fhir_token_url: str | None = Field(
        default=None, description="SMART token endpoint, when fhir_auth is smart."
    )
    fhir_client_id: str | None = Field(
        default=None, description="SMART client id registered with the EHR."
    )
    fhir_private_key_path: Path | None = Field(
        default=None, description="PEM file of the RSA private key that signs client assertions."
    )
    fhir_key_id: str | None = Field(
        default=None, description="kid of that key in the JWKS registered with the EHR."
    )
    fhir_scope: str = Field(default="system/*.read", description="SMART scopes requested.")
    fhir_timeout_seconds: float = Field(default=30, description="Time-out of one EHR request.")
    fhir_max_attempts: int = Field(
        default=6, description="Tries per EHR request before a run gives up on it."
    )
    fhir_backoff_max_seconds: float = Field(
        default=30, description="Longest pause between retries (also caps Retry-After)."
    )
    fhir_page_size: int = Field(default=100, description="_count asked of the EHR per page.")
    sync_interval_minutes: float = Field(
        default=15,
        description="Minutes between scheduler ticks: EHR sync, outbox delivery, visit reminders "
        "and waitlist offer expiry (0 turns the scheduler off).",
    )
    sync_overlap_seconds: float = Field(
        default=120,
        description="Incremental syncs re-read this much before the newest lastUpdated seen, "
        "for clock skew and resources committed late, when the EHR does not stamp its search "
        "Bundles with its own clock (with the server's clock, 5 s is enough).",
    )
    outbox_max_attempts: int = Field(
        default=12, description="Deliveries tried before an outbox item is marked stuck."
    )
    fhir_write_back: bool = Field(
        default=True,
        description="Send approved refills, bookings and cancellations, and patient messages to "
        "the EHR (only when fhir_base_url is set).",
    )
    scheduler_enabled: bool = Field(
        default=True,
        description="Run the periodic jobs (EHR sync, outbox, reminders, waitlist offers) in the "
        "portal's server process; turn off to run them from cron with python -m portal.cli sync.",
    )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.clinic_timezone)


@lru_cache
def get_settings() -> Settings:
    return Settings()
