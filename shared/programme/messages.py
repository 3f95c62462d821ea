"""The programme's problem messages in Bahasa Indonesia, for ``Accept-Language: id``: the
registry's rules (NIK, phone, village, dates) and the words every service answers with. The
kit's own messages (titles, validation) are translated in shared/kit/messages.py; each
service's app factory calls :func:`install` (idempotent)."""

from __future__ import annotations

from shared.kit.messages import add_translations

MESSAGES_ID: dict[str, str] = {
    # NIK (services/registry/residents/nik.py).
    "must be exactly 16 digits": "harus tepat 16 digit angka",
    "digits 1-2 ({code}) are not a known province code": (
        "digit 1-2 ({code}) bukan kode provinsi yang dikenal"
    ),
    "digits 7-12 are not a valid birth date (DDMMYY, day + 40 for women)": (
        "digit 7-12 bukan tanggal lahir yang valid (DDMMYY, tanggal + 40 untuk perempuan)"
    ),
    "serial (digits 13-16) must not be 0000": "nomor urut (digit 13-16) tidak boleh 0000",
    "day in digits 7-8 is over 40, which marks a woman, but sex is M": (
        "tanggal pada digit 7-8 lebih dari 40, tanda perempuan, tetapi jenis kelamin M"
    ),
    "sex is F, so the day in digits 7-8 must have 40 added": (
        "jenis kelamin F, jadi tanggal pada digit 7-8 harus ditambah 40"
    ),
    "birth date in digits 7-12 does not match birth_date": (
        "tanggal lahir pada digit 7-12 tidak sesuai dengan birth_date"
    ),
    # Residents.
    "is not a village in the Kemendagri reference list": (
        "bukan desa dalam daftar referensi Kemendagri"
    ),
    "is outside the region your organisation governs": (
        "berada di luar wilayah yang dikelola organisasi Anda"
    ),
    "must be an Indonesian number: 08…, 62… or +62…": "harus nomor Indonesia: 08…, 62… atau +62…",
    "must be an Indonesian number of 9 to 13 digits after the leading 0": (
        "harus nomor Indonesia dengan 9 sampai 13 digit setelah angka 0 di depan"
    ),
    "must not be in the future": "tidak boleh di masa depan",
    "must be 1900 or later": "harus tahun 1900 atau sesudahnya",
    "must be a date written YYYY-MM-DD": "harus tanggal dengan format YYYY-MM-DD",
    "is required and cannot be cleared": "wajib diisi dan tidak dapat dikosongkan",
    "no such resident": "penduduk tidak ditemukan",
    "this organisation does not list residents": (
        "organisasi ini tidak dapat melihat daftar penduduk"
    ),
    "an archived resident cannot be verified": "penduduk yang diarsipkan tidak dapat diverifikasi",
    "an archived resident cannot be prioritised": (
        "penduduk yang diarsipkan tidak dapat diberi prioritas"
    ),
    "another resident of this village took this rank meanwhile": (
        "penduduk lain di desa ini sudah mengambil peringkat ini"
    ),
    "this resident was erased; personal data cannot be set again": (
        "data penduduk ini sudah dihapus; data pribadi tidak dapat diisi lagi"
    ),
    # Placements, complaints, notifications.
    "no such placement": "penempatan tidak ditemukan",
    "no such complaint": "aduan tidak ditemukan",
    "no such message": "pesan tidak ditemukan",
    "missing or bad X-Sinergi-Signature": "X-Sinergi-Signature tidak ada atau salah",
    "is not one of your organisation's placements": "bukan penempatan organisasi Anda",
    "the complaint is {status} already": "aduan ini sudah {status}",
    "this organisation does not open complaints": "organisasi ini tidak dapat membuka aduan",
    "this organisation does not read complaints": "organisasi ini tidak dapat membaca aduan",
    "this organisation does not handle complaints": "organisasi ini tidak dapat menangani aduan",
    "the resident refused or withdrew consent and cannot be placed": (
        "penduduk menolak atau mencabut persetujuan dan tidak dapat ditempatkan"
    ),
    "your organisation may not read reports": "organisasi Anda tidak dapat membaca laporan",
}


def install() -> None:
    add_translations("id", MESSAGES_ID)
