#!/usr/bin/env bash
# Installs the Debian packages that tests drive as real clients (dig, chromium, ip ...), when
# they are missing. CI runs as root; elsewhere it says what is missing and stops the run,
# since no test is skipped for a missing client. One line per client in test-deps.txt:
# `<command that must exist> <debian package>`.
set -euo pipefail
list="$(dirname "$0")/test-deps.txt"
missing=()
while read -r command package; do
  [[ -z "${command:-}" || "$command" == \#* ]] && continue
  command -v "$command" >/dev/null 2>&1 || missing+=("$package")
done <"$list"
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "install-test-deps: missing Debian packages: ${missing[*]} (run as root, or apt-get install them)" >&2
  exit 1
fi
echo "install-test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
