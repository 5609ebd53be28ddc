"""Interoperability adapters: FHIR R4 import and export (``nenguide.interop.fhir``)."""
