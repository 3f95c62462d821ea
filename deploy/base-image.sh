#!/usr/bin/env bash
# A Debian base image built from Debian's own packages, for machines that cannot pull public
# images (a government intranet, this project's CI): debootstrap unpacks Debian bookworm into a
# directory, `docker import` turns it into an image. It carries Debian's Python 3.11 in a
# virtual environment at /opt/python whose `python` and `pip` come first on PATH, so the
# Dockerfile runs on it unchanged: `docker build --build-arg BASE_IMAGE=<tag> ...`.
#
#   deploy/base-image.sh [tag]         # default tag: sinergi-base:bookworm
#
# Needs root, debootstrap (apt-get install debootstrap) and a reachable Debian mirror
# (DEBIAN_MIRROR, default http://deb.debian.org/debian). Security updates are applied.
set -euo pipefail

tag="${1:-sinergi-base:bookworm}"
suite="${DEBIAN_SUITE:-bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

command -v debootstrap >/dev/null || { echo "base-image: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
command -v docker >/dev/null || { echo "base-image: docker is missing" >&2; exit 1; }

root="$(mktemp -d "${TMPDIR:-/tmp}/sinergi-base.XXXXXX")"
trap 'umount "$root/proc" 2>/dev/null || true; rm -rf "$root"' EXIT

echo "base-image: debootstrap $suite from $mirror into $root"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates,tzdata \
  "$suite" "$root" "$mirror"

cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF
# Images stay small: no recommended packages, no documentation, no package lists kept.
cat >"$root/etc/apt/apt.conf.d/90sinergi-image" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
EOF
cat >"$root/etc/dpkg/dpkg.cfg.d/90sinergi-nodoc" <<'EOF'
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/doc/*/copyright
EOF

mount -t proc proc "$root/proc"
chroot "$root" /bin/sh -euc '
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get -y -qq upgrade
  python3 -m venv /opt/python
  apt-get clean
  rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/share/doc/* /usr/share/man/* /tmp/*
'
umount "$root/proc"

# mktemp made the directory 0700; as the image's / it would shut every non-root user out.
chmod 0755 "$root"
echo "base-image: importing as $tag"
tar --numeric-owner -C "$root" -c . | docker import \
  --change 'ENV PATH=/opt/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python"]' \
  - "$tag"
docker image ls "$tag"
