#!/usr/bin/env bash
# Builds the Debian package with cargo-deb (settings: [package.metadata.deb] in
# Cargo.toml) and checks it as a Debian administrator would get it: its control fields
# and file list, lintian (no errors; warnings are printed), then a real `dpkg -i`, the
# installed units through `systemd-analyze verify`, the installed binary, man page and
# example configuration, and `dpkg --purge` at the end, so the machine is left as it was.
#
# Needs a Debian 12 machine with the Rust toolchain; installs what is missing
# (cargo-deb from crates.io at the version pinned below; lintian, systemd, man-db and
# dpkg-dev from Debian), with sudo when not run as root. Works where systemd is not
# PID 1 (a container): the maintainer scripts then only record what to enable.
#
# Prints the .deb's path and size. Exits non-zero when any check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Pinned: the package's layout and maintainer scripts are cargo-deb's, so a new version
# is a change to review, not something a fresh machine picks up by itself.
CARGO_DEB_VERSION=3.8.0
PKG=cognito-exporter
# Written here, not under $CARGO_TARGET_DIR: Cargo.toml names these paths relative to the
# crate (cargo-deb maps only target/release/ to the real target directory).
ASSETS=target/debian-assets

as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "package.sh: need root to run: $*" >&2; return 1
  fi
}

fail() {
  echo "package.sh: FAILED: $*" >&2
  exit 1
}

step() { printf '\n== %s\n' "$*"; }

STARTED=$SECONDS
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cognito-package.XXXXXX")
INSTALLED=
cleanup() {
  # Whatever failed: a package this script installed does not stay behind.
  if [[ -n $INSTALLED ]]; then
    as_root dpkg --purge "$PKG" >/dev/null 2>&1 || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# Installing over a package a person put there would replace it, and purging it after
# would remove it: refuse instead.
status=$(dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null || true)
if [[ -n $status && $status != not-installed ]]; then
  fail "a $PKG package is already on this machine (dpkg -l $PKG); purge it first, this test installs and purges its own"
fi

# ------------------------------------------------------------------------- tools
step "tools"
apt_missing=()
command -v lintian >/dev/null || apt_missing+=(lintian)
command -v systemd-analyze >/dev/null || apt_missing+=(systemd)
command -v man >/dev/null || apt_missing+=(man-db)
# dpkg-shlibdeps: cargo-deb's `depends = "$auto"` reads the binary's libraries with it.
command -v dpkg-shlibdeps >/dev/null || apt_missing+=(dpkg-dev)
if ((${#apt_missing[@]})); then
  echo "installing ${apt_missing[*]} (apt)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_missing[@]}"
fi
if [[ $(cargo deb --version 2>/dev/null || true) != "cargo-deb $CARGO_DEB_VERSION" ]]; then
  echo "installing cargo-deb $CARGO_DEB_VERSION (crates.io)"
  nice cargo install --locked --quiet cargo-deb --version "$CARGO_DEB_VERSION"
fi
echo "cargo-deb $CARGO_DEB_VERSION, $(lintian --version), $(systemd-analyze --version | head -n 1)"

# ------------------------------------------------------------------------- build
step "build"
# The version the package must carry: the root package's, as cargo reads it.
pkgid=$(cargo pkgid --offline -p "$PKG" 2>/dev/null || cargo pkgid -p "$PKG")
VERSION=${pkgid##*[#@]}
DEB_VERSION=$VERSION-1
[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || fail "cannot read the version from cargo pkgid: $pkgid"

# The man page comes from the binary (--help-man), so build first, then let cargo-deb
# package with --no-build. Release profile, as cargo-deb would build it.
nice cargo build --release --locked -p "$PKG" --bin "$PKG"
BIN="${CARGO_TARGET_DIR:-target}/release/$PKG"

rm -rf "$ASSETS"
mkdir -p "$ASSETS/systemd"
"$BIN" --help-man >"$ASSETS/$PKG.1"
grep -q '^\.TH' "$ASSETS/$PKG.1" || fail "--help-man printed no man page"

# The units from deploy/systemd, the one copy kept by hand. Only the service's ExecStart
# differs: a package's binary is in /usr/bin, where /usr/local/bin is for installs by
# hand. A header says where the file comes from and how to change it without an edit
# that an upgrade would overwrite.
unit_header() {
  printf '%s\n' \
    "# Installed by the $PKG Debian package, from deploy/systemd/$1" \
    "# in its source, with ExecStart in /usr/bin. An upgrade replaces this file:" \
    "# change it with \`systemctl edit $1\`. The install steps below" \
    "# are for installs by hand." \
    "#"
}
{
  unit_header "$PKG.service"
  sed 's#^ExecStart=/usr/local/bin/cognito-exporter #ExecStart=/usr/bin/cognito-exporter #' \
    "deploy/systemd/$PKG.service"
} >"$ASSETS/systemd/$PKG.service"
{
  unit_header "$PKG.socket"
  cat "deploy/systemd/$PKG.socket"
} >"$ASSETS/systemd/$PKG.socket"
# A change to the unit's ExecStart must not leave the packaged one pointing elsewhere.
grep -q '^ExecStart=/usr/bin/cognito-exporter ' "$ASSETS/systemd/$PKG.service" ||
  fail "deploy/systemd/$PKG.service: no ExecStart=/usr/local/bin/cognito-exporter line to point at /usr/bin"
if grep -v '^#' "$ASSETS/systemd/$PKG.service" | grep -F /usr/local/; then
  fail "the packaged unit still names /usr/local outside its comments"
fi

# Debian's changelog (lintian requires one), from the version above: nothing to bump by
# hand. Dated by the commit built, so the same commit gives the same file.
maintainer=$(sed -n '/^\[package\.metadata\.deb\]/,/^\[/s/^maintainer = "\(.*\)"$/\1/p' Cargo.toml)
[[ -n $maintainer ]] || fail "no maintainer in [package.metadata.deb]"
when=$(git log -1 --format=%ct 2>/dev/null || echo "${SOURCE_DATE_EPOCH:-$(date +%s)}")
cat >"$ASSETS/changelog" <<EOF
$PKG ($DEB_VERSION) unstable; urgency=medium

  * Upstream release $VERSION, packaged with cargo-deb. The upstream changes are
    in /usr/share/doc/$PKG/changelog.gz.

 -- $maintainer  $(LC_ALL=C date -u -R -d "@$when")
EOF

out=$(nice cargo deb --locked -p "$PKG" --no-build)
DEB=$(tail -n 1 <<<"$out")
[[ -f $DEB && $DEB == *.deb ]] || fail "cargo deb did not print the path of a .deb: $out"

# ----------------------------------------------------------------- package checks
step "dpkg-deb --info"
dpkg-deb --info "$DEB" | tee "$TMP/info"
field() { dpkg-deb --field "$DEB" "$1"; }
[[ $(field Package) == "$PKG" ]] || fail "Package is $(field Package), not $PKG"
[[ $(field Version) == "$DEB_VERSION" ]] || fail "Version is $(field Version), not $DEB_VERSION (Cargo.toml's $VERSION)"
[[ $(field Architecture) == "$(dpkg --print-architecture)" ]] || fail "Architecture is $(field Architecture)"
[[ $(field Depends) == *libc6* ]] || fail "Depends is '$(field Depends)': no libc6, so \$auto found no libraries"
for f in Maintainer Section Priority Description; do
  [[ -n $(field "$f") ]] || fail "no $f field"
done
# Debian wants the synopsis (Cargo.toml's description) under 80 characters; cargo-deb
# wraps a longer one, and the rest becomes the first line of the extended description.
synopsis=$(sed -n '/^\[package\]/,/^\[/s/^description = "\(.*\)"$/\1/p' Cargo.toml)
if ((${#synopsis} > 79)); then
  fail "Cargo.toml's description is ${#synopsis} characters, over Debian's 79: cargo-deb would wrap it"
fi
dpkg-deb --info "$DEB" conffiles >"$TMP/conffiles"
for f in /etc/$PKG/config.yaml /etc/$PKG/$PKG.env; do
  grep -qx "$f" "$TMP/conffiles" || fail "$f is not a conffile"
done
# The systemd fragments must be there, and guarded so dpkg -i works without systemd.
dpkg-deb --info "$DEB" postinst >"$TMP/postinst"
grep -q 'deb-systemd-helper enable cognito-exporter.service' "$TMP/postinst" || fail "postinst does not enable the service"
if grep -q '#DEBHELPER#' "$TMP/postinst"; then fail "postinst: the debhelper token was not replaced"; fi
grep -q 'if \[ -d /run/systemd/system \]' "$TMP/postinst" || fail "postinst starts units without checking for systemd"

step "dpkg-deb --contents"
dpkg-deb --contents "$DEB" | tee "$TMP/contents"
for path in \
  /usr/bin/$PKG \
  /usr/lib/systemd/system/$PKG.service \
  /usr/lib/systemd/system/$PKG.socket \
  /etc/$PKG/config.yaml \
  /etc/$PKG/$PKG.env \
  /usr/share/man/man1/$PKG.1.gz \
  /usr/share/doc/$PKG/copyright \
  /usr/share/doc/$PKG/examples/cognito-exporter.yml \
  /usr/share/doc/$PKG/changelog.Debian.gz \
  /usr/share/doc/$PKG/changelog.gz \
  /usr/share/lintian/overrides/$PKG; do
  awk '{print $6}' "$TMP/contents" | grep -x ".$path" >/dev/null || fail "$path is not in the package"
done
grep -Eq '^-rwxr-xr-x (root/root|0/0) .* \./usr/bin/cognito-exporter$' "$TMP/contents" ||
  fail "/usr/bin/$PKG is not root-owned mode 755"

step "lintian"
# Every tag at info level and above is shown, and the package's own overrides
# (deploy/debian/lintian-overrides, each with its reason) as O: lines; only errors fail.
# --allow-root: lintian refuses root otherwise, and this runs as root in CI.
lintian_args=(--fail-on error --display-info --show-overrides --tag-display-limit 0)
[[ $(id -u) == 0 ]] && lintian_args+=(--allow-root)
rc=0
timeout 600 lintian "${lintian_args[@]}" "$DEB" >"$TMP/lintian" 2>&1 || rc=$?
cat "$TMP/lintian"
count() { grep -c "^$1:" "$TMP/lintian" || true; }
# The verdict is the E: lines: with --show-overrides, lintian 2.116 also exits 2 (its
# --fail-on status) for an error it shows as overridden. Any other status (1: lintian
# itself failed, 124: timed out) fails too.
((rc == 0 || rc == 2)) || fail "lintian exited $rc"
(($(count E) == 0)) || fail "lintian reported errors (above)"
echo "lintian: $(count E) errors, $(count W) warnings, $(count I) infos, $(count O) overridden"

# ------------------------------------------------------------------------ install
step "dpkg -i"
INSTALLED=1
as_root dpkg -i "$DEB"
[[ $(dpkg-query -W -f='${db:Status-Status} ${Version}' "$PKG") == "installed $DEB_VERSION" ]] ||
  fail "dpkg-query: $(dpkg-query -W -f='${db:Status-Status} ${Version}' "$PKG")"

step "installed units"
UNITS=/usr/lib/systemd/system
grep -x 'ExecStart=/usr/bin/cognito-exporter .*' "$UNITS/$PKG.service" || fail "installed ExecStart is not /usr/bin"
# verify exits 0 on unknown keys and bad values, printing them: any line about our
# units is a failure.
verify=$(timeout 120 systemd-analyze verify "$UNITS/$PKG.service" "$UNITS/$PKG.socket" 2>&1) ||
  fail "systemd-analyze verify failed: $verify"
if grep -F "$PKG." <<<"$verify"; then fail "systemd-analyze verify complained about the installed units"; fi
echo "systemd-analyze verify: clean${verify:+ (about other units: $verify)}"
# Enabled as on a Debian install: the service, not the socket (which would take its port).
[[ $(systemctl is-enabled "$PKG.service" 2>&1) == enabled ]] ||
  fail "$PKG.service is $(systemctl is-enabled "$PKG.service" 2>&1), not enabled"
[[ $(systemctl is-enabled "$PKG.socket" 2>&1) == disabled ]] ||
  fail "$PKG.socket is $(systemctl is-enabled "$PKG.socket" 2>&1), not disabled"
echo "$PKG.service enabled, $PKG.socket disabled"
if [[ -d /run/systemd/system ]]; then
  # Not judged: it polls AWS with this machine's credentials, if any, and port 9866 may
  # be taken here.
  echo "systemd runs here: $PKG.service is $(systemctl is-active "$PKG.service" || true) after install"
fi

step "installed binary"
version_out=$(timeout 10 "/usr/bin/$PKG" --version)
echo "$version_out"
[[ $version_out == "$PKG $VERSION "* ]] || fail "--version printed '$version_out', not $PKG $VERSION"
# The example configuration checks without AWS: it only parses and validates.
timeout 10 "/usr/bin/$PKG" --config.check --config.file "/etc/$PKG/config.yaml"

step "installed man page"
page=/usr/share/man/man1/$PKG.1.gz
if [[ ! -e $page ]]; then
  # Slim container images tell dpkg to skip /usr/share/man (path-exclude): check the
  # page as the package carries it instead.
  echo "$page was not installed (dpkg path-exclude?): checking the packaged one"
  dpkg-deb --fsys-tarfile "$DEB" | tar -xO ".$page" >"$TMP/$PKG.1.gz"
  page=$TMP/$PKG.1.gz
fi
MANWIDTH=80 timeout 60 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" >/dev/null 2>"$TMP/man.err" || true
if [[ -s $TMP/man.err ]]; then cat "$TMP/man.err" >&2; fail "man warns about the page"; fi
# In the C locale: plain ASCII, where UTF-8 would render the flags' dashes as minus signs.
LC_ALL=C MANWIDTH=80 timeout 60 man -P cat -l "$page" >"$TMP/man.txt"
head -n 12 "$TMP/man.txt"
for want in 'cognito-exporter' '--config.file' '--web.listen-address' '--config.check'; do
  grep -qF -- "$want" "$TMP/man.txt" || fail "the man page does not mention $want"
done
if grep -qF -- '--help-man' "$TMP/man.txt"; then fail "the man page shows the hidden --help-man"; fi

# ------------------------------------------------------------------------- remove
step "dpkg --purge"
as_root dpkg --purge "$PKG"
INSTALLED=
for gone in "/usr/bin/$PKG" "/etc/$PKG" "$UNITS/$PKG.service" \
  "/etc/systemd/system/multi-user.target.wants/$PKG.service"; do
  [[ ! -e $gone && ! -L $gone ]] || fail "$gone is still there after purge"
done

step "done"
echo "package: $DEB ($(stat -c %s "$DEB") bytes, $(du -h "$DEB" | cut -f1))"
echo "package.sh: all checks passed in $((SECONDS - STARTED))s"
