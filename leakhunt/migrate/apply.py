"""`--apply`: store each planned secret, read it back, enable rotation, then rewrite its code.

Secrets are handled one at a time, and each step is journaled before the next starts. A
secret whose storing, reading back or rotation fails keeps its code unchanged, and the run
goes on with the next secret.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from leakhunt.errors import MigrationError
from leakhunt.findings import Finding
from leakhunt.migrate.codemods import RewriteTarget
from leakhunt.migrate.evidence import EvidencePaths, build_evidence, existing_evidence, write_evidence
from leakhunt.migrate.files import atomic_write, content_hash
from leakhunt.migrate.helper import HELPER_MARKER, render_helper
from leakhunt.migrate.journal import JOURNAL_FILE, Journal
from leakhunt.migrate.options import ApplyOptions
from leakhunt.migrate.plan import STATE_FOLDER, Location, Plan, PlannedSecret
from leakhunt.migrate.preflight import Preflight, check_aws, check_offline
from leakhunt.migrate.resolve import Resolution, resolve
from leakhunt.migrate.rewrite import automatic, review, review_by_file, review_patch, rewrite
from leakhunt.migrate.store import SecretStore

log = logging.getLogger(__name__)

REVIEW_FOLDER = "review"
# Review patches hold the secret on their removed lines, so git must not pick them up.
STATE_GITIGNORE = "# Written by leakhunt migrate: review patches contain secret values.\nreview/\n"

TAG_VALUE_INVALID = re.compile(r"[^\w.:/=+\-@ ]")

Notify = Callable[[str], None]


@dataclass(frozen=True)
class SecretOutcome:
    name: str
    status: str
    message: str


@dataclass
class ApplyReport:
    """The result of one `--apply` run, secret by secret."""

    preflight: Preflight
    outcomes: list[SecretOutcome] = field(default_factory=list)
    evidence: EvidencePaths | None = None

    @property
    def failed(self) -> list[SecretOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == "failed"]


class Migration:
    """One `--apply` run over a plan."""

    def __init__(self, plan: Plan, root: Path, options: ApplyOptions, findings: Sequence[Finding],
                 notify: Notify, rescan: Callable[[], Sequence[Finding]]) -> None:
        self.plan = plan
        self.root = root
        self.options = options
        self.findings = findings
        self.notify = notify
        self.rescan = rescan
        self.state = root / STATE_FOLDER
        self.journal = Journal(self.state / JOURNAL_FILE)
        self.store: SecretStore | None = None
        self.resolution = Resolution()

    def run(self) -> ApplyReport:
        check_offline(self.plan, self.root, self.options, self.journal)
        self.store = SecretStore(self.options)
        preflight = check_aws(self.store, self.options)
        pending = [secret for secret in self.plan.secrets if not self.journal.of("done", secret.name)]
        if pending and not self.options.rotation.enabled:
            self.notify("WARNING: no --rotation-lambda given: the secrets will be stored WITHOUT rotation, "
                        "and the evidence says so")
        self.resolution = resolve(self.plan, self.root, self.findings)

        report = ApplyReport(preflight)
        for secret in self.plan.secrets:
            report.outcomes.append(self.migrate_secret(secret, preflight))
        self.write_review_patches()
        if any(outcome.status == "migrated" for outcome in report.outcomes):
            self.check_rescan()
        report.evidence = self.record_evidence(preflight)
        return report

    def record_evidence(self, preflight: Preflight) -> EvidencePaths | None:
        """Write the evidence, or keep the existing one when this run recorded no step.

        A plan made after an earlier `--apply` no longer lists the secrets it moved, so the
        evidence built from it alone would drop them. An unchanged journal keeps the files as
        they are, and otherwise `write_evidence` merges in what the earlier evidence recorded.
        """
        if not self.journal.records:
            return None
        existing = existing_evidence(self.state)
        if self.journal.appended == 0 and existing is not None:
            log.info("no step recorded in this run; keeping %s", existing.markdown)
            return existing
        evidence = build_evidence(self.plan, self.journal, self.options.region, preflight.account)
        return write_evidence(self.state, evidence)

    def migrate_secret(self, secret: PlannedSecret, preflight: Preflight) -> SecretOutcome:
        name = secret.name
        if self.journal.of("done", name):
            return SecretOutcome(name, "unchanged", "already migrated")
        if secret.manual_only and not self.options.upload_non_python:
            return SecretOutcome(name, "skipped", "only in non-Python files; pass --upload-non-python to store it")
        try:
            self.store_secret(secret, preflight)
            self.configure_rotation(secret)
            changed = self.rewrite_code(secret)
        except MigrationError as error:
            message = str(error) if str(error).startswith(f"secret {name}") else f"secret {name}: {error}"
            self.notify(f"FAILED {message}; its code was not changed")
            self.journal.append("failed", secret=name, reason=message,
                                locations=[location_record(location) for location in secret.locations])
            return SecretOutcome(name, "failed", message)
        self.journal.append("done", secret=name, locations=[location_record(location) for location in secret.locations])
        reviewed = review(self.resolution.targets.get(name, []))
        message = outcome_message(name, changed, len(reviewed), sorted({patch_path(path) for path, _ in reviewed}))
        self.notify(message)
        # A secret whose every location needs review is stored, but no code reads it yet.
        return SecretOutcome(name, "migrated" if changed else "stored", message)

    def store_secret(self, secret: PlannedSecret, preflight: Preflight) -> None:
        name = secret.name
        stored = self.journal.last("stored", name)
        if stored is not None and self.journal.has("verified", name, version_id=stored["version_id"]):
            return
        value = self.resolution.values.get(name)
        if value is None:
            raise MigrationError(f"secret {name}: its value is no longer in the files and the journal does not "
                                 "record storing it; run `leakhunt migrate PATH` again to refresh the plan")
        assert self.store is not None
        paths = sorted({location.path for location in secret.locations})
        tags = {"managed-by": "leakhunt", "leakhunt:repository": tag_value(self.plan.prefix),
                "leakhunt:source": tag_value(" ".join(paths)), **self.options.tags}
        result = self.store.store(
            name, value, description=truncate(f"Moved out of {', '.join(paths)} by leakhunt migrate", 2048),
            tags=tags, kms_key=self.options.kms_key, force=self.options.force,
        )
        log.info("secret %s: %s, version %s", name, result.outcome, result.version_id)
        self.journal.append("stored", secret=name, arn=result.arn, version_id=result.version_id,
                            outcome=result.outcome, region=self.options.region, kms_key=self.options.kms_key,
                            kms_key_arn=preflight.kms_key_arn, keys=list(secret.keys))
        self.store.verify(result, value)
        self.journal.append("verified", secret=name, version_id=result.version_id)

    def configure_rotation(self, secret: PlannedSecret) -> None:
        if self.journal.of("rotation", secret.name):
            return
        rotation = self.options.rotation
        if not rotation.enabled:
            self.journal.append("rotation", secret=secret.name, enabled=False)
            return
        assert self.store is not None and rotation.lambda_arn is not None
        changed = self.store.enable_rotation(secret.name, rotation)
        log.info("secret %s: rotation by %s %s", secret.name, rotation.lambda_arn, "enabled" if changed else "already on")
        self.journal.append("rotation", secret=secret.name, enabled=True, lambda_arn=rotation.lambda_arn,
                            rules=rotation.rules())

    def rewrite_code(self, secret: PlannedSecret) -> list[str]:
        changed = []
        targets = automatic(self.resolution.targets.get(secret.name, []))
        for path, file_targets in sorted(targets.items()):
            self.write_helper()
            source = self.read(path)
            result = rewrite(source, path, file_targets, self.plan.helper.module)
            check_values_removed(path, source, result.source, self.resolution.secret_texts.get(secret.name, set()),
                                 len(file_targets))
            before, after = content_hash(source), content_hash(result.source)
            self.journal.append("file-writing", secret=secret.name, path=path, before=before, after=after)
            atomic_write(self.root / path, result.source)
            log.info("secret %s: rewrote %s", secret.name, path)
            self.journal.append("file-written", secret=secret.name, path=path, before=before, after=after)
            changed.append(path)
        return changed

    def write_review_patches(self) -> None:
        """Write one patch per file for the review-only locations of every stored secret.

        Patches are made after all rewrites of the run, against the files as they are now,
        so a later rewrite of the same file cannot make them stale. A patch that exists with
        the same content is left alone.
        """
        stored = [secret for secret in self.plan.secrets if self.is_stored(secret.name)]
        secret_of = {secret.name: secret for secret in stored}
        entries = [entry for secret in stored for entry in self.resolution.targets.get(secret.name, [])]
        for path, targets in review_by_file(entries).items():
            try:
                self.write_file_patch(path, targets, secret_of)
            except MigrationError as error:
                self.notify(f"FAILED review patch for {path}: {error}")

    def is_stored(self, name: str) -> bool:
        stored = self.journal.last("stored", name)
        return stored is not None and self.journal.has("verified", name, version_id=stored["version_id"])

    def write_file_patch(self, path: str, targets: Sequence[RewriteTarget],
                         secret_of: dict[str, PlannedSecret]) -> None:
        patch_text, covered = review_patch(self.read(path), path, targets, self.plan.helper.module)
        patch = patch_text.encode("utf-8", "surrogateescape")
        relative = patch_path(path)
        if not patch or (self.root / relative).is_file() and (self.root / relative).read_bytes() == patch:
            return
        # The patched code imports the runtime helper, so it must exist before anyone applies it.
        self.write_helper()
        self.write_state_gitignore()
        # The patch contains the secrets on its removed lines, so only the owner may read it.
        atomic_write(self.root / relative, patch, new_mode=0o600)
        places = []
        for target in covered:
            secret = secret_of[target.secret_name]
            location = next((found for found in secret.locations_of("review")
                             if found.path == path and found.anchor == target.anchor), None)
            where = f"{path}:{location.line}" if location else path
            self.journal.append("patch-written", secret=secret.name, patch=relative, location=where)
            places.append(where)
        self.notify(f"review patch {relative} for {', '.join(sorted(places, key=line_order))}")

    def check_rescan(self) -> None:
        """Scan again and record whether a rewritten file still contains a migrated value.

        Findings are matched by fingerprint, which names the rule, the path and a hash of the
        value. Values that the plan also lists at review, report or manual locations are not
        counted, because those stay where they are.
        """
        migrated = {location.fingerprint for secret in self.plan.secrets if self.journal.of("done", secret.name)
                    for location in secret.locations_of("automatic") if location.fingerprint}
        kept = {location.fingerprint for secret in self.plan.secrets for location in secret.locations
                if location.disposition != "automatic"} | {location.fingerprint for location in self.plan.reported}
        changed = sorted({record["path"] for record in self.journal.of("file-written")})
        remaining = sorted(f"{finding.path}:{finding.line}" for finding in self.rescan()
                           if finding.path in changed and finding.fingerprint in migrated - kept)
        self.journal.append("rescanned", files=changed, remaining=remaining)
        if remaining:
            self.notify(f"WARNING: the rescan still finds migrated values at {', '.join(remaining)}")

    def write_helper(self) -> None:
        path = self.root / self.plan.helper.path
        content = render_helper(self.options.region)
        try:
            existing = path.read_bytes() if path.exists() else None
        except OSError as error:
            raise MigrationError(f"cannot read {self.plan.helper.path}: {error.strerror or error}") from error
        if existing == content:
            return
        if existing is not None and not existing.startswith(HELPER_MARKER.encode()):
            raise MigrationError(f"{self.plan.helper.path} exists and was not written by leakhunt; "
                                 "choose another module with [migrate] helper_module")
        atomic_write(path, content)
        self.journal.append("helper-written", path=self.plan.helper.path, module=self.plan.helper.module,
                            after=content_hash(content))

    def write_state_gitignore(self) -> None:
        path = self.state / ".gitignore"
        if not path.exists():
            atomic_write(path, STATE_GITIGNORE.encode("utf-8"))

    def read(self, path: str) -> bytes:
        try:
            return (self.root / path).read_bytes()
        except OSError as error:
            raise MigrationError(f"cannot read {path}: {error.strerror or error}") from error


def line_order(place: str) -> tuple[str, int]:
    """Sort `path:line` places by path, then by line number."""
    path, _, line = place.rpartition(":")
    return (path, int(line)) if line.isdigit() else (place, 0)


def patch_path(path: str) -> str:
    """Return the project-relative path of the review patch of the file at `path`."""
    return f"{STATE_FOLDER}/{REVIEW_FOLDER}/{path.replace('/', '__')}.patch"


def outcome_message(name: str, changed: Sequence[str], reviewed: int, patches: Sequence[str]) -> str:
    """Describe a stored secret: the files rewritten, else only stored, and the patches to review."""
    message = f"migrated {name}: rewrote {', '.join(changed)}" if changed else f"stored {name}"
    if reviewed == 1:
        message += f"; 1 location needs review: {patches[0]}"
    elif reviewed:
        message += f"; {reviewed} locations need review: {', '.join(patches)}"
    return message


def check_values_removed(path: str, before: bytes, after: bytes, texts: set[str], rewritten: int) -> None:
    """Raise unless the rewrite removed as many copies of each secret as it replaced literals."""
    for text in texts:
        needle = text.encode("utf-8", "surrogateescape")
        allowed = max(before.count(needle) - rewritten, 0)
        if after.count(needle) > allowed:
            raise MigrationError(f"{path}: the rewritten file still contains the secret; the file was left unchanged")


def location_record(location: Location) -> dict[str, object]:
    return {"path": location.path, "line": location.line, "column": location.column, "rule_id": location.rule_id,
            "kind": location.kind, "disposition": location.disposition}


def tag_value(text: str) -> str:
    """Return `text` as a valid tag value: at most 256 letters, digits, spaces and _.:/=+-@."""
    return truncate(TAG_VALUE_INVALID.sub("_", text), 256)


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
