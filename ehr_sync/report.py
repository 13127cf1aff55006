"""What one import did, counted per FHIR resource type."""

from dataclasses import dataclass, field


@dataclass
class TypeCounts:
    created: int = 0
    updated: int = 0
    quarantined: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.quarantined


@dataclass
class ImportReport:
    """Counts of resources (not rows: a blood pressure is one resource, two rows) by type."""

    by_type: dict[str, TypeCounts] = field(default_factory=dict)

    def counts(self, resource_type: str) -> TypeCounts:
        """The counts for one type; zeros if none of that type came in."""
        return self.by_type.get(resource_type, TypeCounts())

    def add(
        self, resource_type: str, *, created: int = 0, updated: int = 0, quarantined: int = 0
    ) -> None:
        counts = self.by_type.setdefault(resource_type, TypeCounts())
        counts.created += created
        counts.updated += updated
        counts.quarantined += quarantined

    def merge(self, other: "ImportReport") -> None:
        for resource_type, counts in other.by_type.items():
            self.add(
                resource_type,
                created=counts.created,
                updated=counts.updated,
                quarantined=counts.quarantined,
            )

    @property
    def created(self) -> int:
        return sum(c.created for c in self.by_type.values())

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self.by_type.values())

    @property
    def quarantined(self) -> int:
        return sum(c.quarantined for c in self.by_type.values())

    @property
    def total(self) -> int:
        """Every resource that came in: created + updated + quarantined."""
        return self.created + self.updated + self.quarantined
