#!/usr/bin/env bash
# Checks a downloaded gitlab-runner binary the way GitLab signs its releases: release.sha256 lists the sha256 of
# every file of a release, and release.sha256.asc is GitLab Runner's OpenPGP signature of that list. install.sh
# --gitlab calls it; docs/runner-pi.md says where the key and its fingerprint come from.
#
#   gitlab-runner-verify.sh KEY FINGERPRINT SUMS SIGNATURE FILE NAME
#
# KEY          the signing key, ASCII-armored (runner-pi/gitlab-runner-signing-key.asc)
# FINGERPRINT  the primary key fingerprint the signature must come from (40 hex digits, pinned in install.sh)
# SUMS         release.sha256 of the release
# SIGNATURE    release.sha256.asc
# FILE         the downloaded binary
# NAME         its path in the release (binaries/gitlab-runner-linux-arm64), as release.sha256 lists it
#
# Needs only gpgv (Debian: Priority required, apt itself verifies with it), base64 and sha256sum: the key is
# turned into a keyring of its own in a temporary folder, so no keyring of this machine is read or changed.
# Exit status: 0 verified; 1 not verified (the reason on standard error); 2 wrong arguments.
set -euo pipefail

fail() { printf 'gitlab-runner-verify.sh: %s\n' "$1" >&2; exit "${2:-1}"; }

(($# == 6)) || fail "usage: gitlab-runner-verify.sh KEY FINGERPRINT SUMS SIGNATURE FILE NAME" 2
key=$1 fingerprint=${2^^} sums=$3 signature=$4 file=$5 name=$6
[[ $fingerprint =~ ^[0-9A-F]{40}$ ]] || fail "the fingerprint '$2' is not 40 hexadecimal digits" 2
for path in "$key" "$sums" "$signature" "$file"; do [[ -f $path ]] || fail "$path is not a file" 2; done
command -v gpgv >/dev/null || fail "gpgv was not found (Debian: sudo apt-get install gpgv)"

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

# The armor's base64 body, between the blank line after the header and the =CRC line, is the binary key gpgv reads.
awk '/^-----BEGIN PGP PUBLIC KEY BLOCK-----/ { head = 1; next }
     head && /^$/ { head = 0; body = 1; next }
     body && /^(=|-----END)/ { exit }
     body { print }' "$key" | base64 -d >"$work/keyring.gpg" 2>/dev/null ||
  fail "$key is not an ASCII-armored OpenPGP public key"
[[ -s $work/keyring.gpg ]] || fail "$key is not an ASCII-armored OpenPGP public key"

# VALIDSIG's last field is the primary key's fingerprint: the signature must be good and come from the pinned key.
status=0
gpgv --status-fd 3 --keyring "$work/keyring.gpg" -- "$signature" "$sums" 3>"$work/status" 2>"$work/gpgv.err" || status=$?
signer=$(awk '$1 == "[GNUPG:]" && $2 == "VALIDSIG" { print $NF }' "$work/status")
if ((status != 0)) || [[ -z $signer ]]; then
  fail "$signature is not a good signature of $sums by the key $fingerprint: $(tr '\n' ' ' <"$work/gpgv.err")"
fi
[[ ${signer^^} == "$fingerprint" ]] || fail "$sums is signed by the key $signer, not by $fingerprint"

# release.sha256 lines: "<sha256> <name>", the name perhaps with a leading * (binary mode) or ./
expected=$(awk -v want="$name" '{ n = $2; sub(/^\*/, "", n); sub(/^\.\//, "", n); if (n == want) print $1 }' "$sums")
[[ -n $expected ]] || fail "$sums lists no $name"
[[ $(printf '%s\n' "$expected" | wc -l) == 1 ]] || fail "$sums lists $name more than once"
actual=$(sha256sum -- "$file" | cut -d' ' -f1)
[[ ${actual,,} == "${expected,,}" ]] || fail "$file has sha256 $actual, but the signed $sums lists $expected for $name"
printf 'checked: %s is %s of the signed release.sha256 (sha256 %s, signed by %s)\n' "$file" "$name" "$actual" "$fingerprint"
