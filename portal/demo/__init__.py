"""The synthetic demo clinic: a seeded FHIR R4 generator and the loader that seeds a database."""
