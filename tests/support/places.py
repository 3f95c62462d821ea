"""The pilot's places as the tests name them: Kabupaten Kotabaru, its two pilot districts and
the villages the tests register residents in. Codes from the Kemendagri reference list
(``shared/programme``); the pilot's own seed keeps its constants in ``deploy/pilot``."""

from __future__ import annotations

REGENCY = "63.02"  # Kabupaten Kotabaru
PULAU_LAUT_UTARA = "63.02.06"
KELUMPANG_HILIR = "63.02.17"
PILOT_DISTRICTS = (PULAU_LAUT_UTARA, KELUMPANG_HILIR)

# Kelumpang Hilir
SERONGGA = "63.02.17.2001"
TARJUN = "63.02.17.2002"  # home of the cement plant
LANGADAI = "63.02.17.2003"
SAHAPI = "63.02.17.2009"
# Pulau Laut Utara
KOTABARU_HULU = "63.02.06.1001"  # a kelurahan (urban ward)
MEGASARI = "63.02.06.2009"
SEBELIMBINGAN = "63.02.06.2010"
STAGEN = "63.02.06.2011"
