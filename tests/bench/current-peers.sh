# tests/bench/current-peers.sh — sourced by tests/bench/run: today's certbot and lego beside
# Debian's (certbot 2.1.0, lego 4.9.1), pinned, built once and kept under /var/cache/certagent-test
# like scripts/bootstrap's pebble. Clients 'certbot5' and 'lego5' in the benchmark.
#
# certbot5: a virtual environment made with Debian's /usr/bin/python3 (python3-venv), every package pinned
#           by certbot5-requirements.txt (certbot 5.8.0, acme 5.8.0).
# lego5:    lego's command built with `go build` from the Go module proxy, through the module in
#           lego5/ (its go.mod pins lego v5.5.2 and go.sum every dependency). Not v5.6.0/v5.7.0:
#           the proxy this project reaches answers 403 "not available" for 19 of their dependencies
#           (slogor v1.7.1, the logger of lego's command, and 18 DNS-provider SDKs); for v5.5.2 it
#           lacks two SDK versions, replaced in go.mod by the nearest served ones (DNS providers
#           the benchmark never runs).

CERTBOT5_VERSION=5.8.0
CERTBOT5_DIR=/var/cache/certagent-test/certbot-$CERTBOT5_VERSION
CERTBOT5=$CERTBOT5_DIR/bin/certbot
LEGO5_VERSION=v5.5.2
LEGO5_DIR=/var/cache/certagent-test/lego-$LEGO5_VERSION
LEGO5=$LEGO5_DIR/lego

# install_certbot5: the venv, unless a complete one is there (its copy of the requirements is
# written last, so an interrupted install is redone)
install_certbot5() {
  local req=$BENCH_DIR/certbot5-requirements.txt
  if [ -x "$CERTBOT5" ] && cmp -s "$req" "$CERTBOT5_DIR/requirements.txt" &&
     [ "$(readlink -f "$CERTBOT5_DIR/bin/python3")" = "$(readlink -f /usr/bin/python3)" ]; then return 0; fi
  # Debian's interpreter by path: a python3 earlier on PATH (pyenv and the like) is not the one
  # Debian's certbot 2.1.0 runs on, and would mix an interpreter change into the comparison
  /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || die "certbot5 needs python3-venv (apt-get install python3-venv)"
  log "installing certbot $CERTBOT5_VERSION from PyPI into $CERTBOT5_DIR"
  rm -rf "$CERTBOT5_DIR"
  /usr/bin/python3 -m venv "$CERTBOT5_DIR"
  "$CERTBOT5_DIR/bin/pip" install -q --disable-pip-version-check --no-deps -r "$req" >&2
  "$CERTBOT5_DIR/bin/pip" check >&2
  cp "$req" "$CERTBOT5_DIR/requirements.txt"
  "$CERTBOT5" --version >&2
}

# install_lego5: lego's command at the pinned version, unless built already
install_lego5() {
  local mod=$BENCH_DIR/lego5 go_bin
  if [ -x "$LEGO5" ] && cmp -s "$mod/go.sum" "$LEGO5_DIR/go.sum"; then return 0; fi
  go_bin=$("$ROOT/scripts/find-go" 26) ||
    die "lego5 needs Go 1.26 or newer (lego v5.5.2 says so; none on PATH nor in /usr/local/go/bin): install it from https://go.dev/dl/"
  log "building lego $LEGO5_VERSION with $("$go_bin" env GOVERSION) into $LEGO5_DIR"
  rm -rf "$LEGO5_DIR.tmp"; mkdir -p "$LEGO5_DIR.tmp"
  (cd "$mod" && GOFLAGS="-mod=readonly -buildvcs=false" "$go_bin" build \
    -ldflags "-X main.version=$LEGO5_VERSION" -o "$LEGO5_DIR.tmp/lego" github.com/go-acme/lego/v5) >&2
  cp "$mod/go.sum" "$LEGO5_DIR.tmp/go.sum"
  rm -rf "$LEGO5_DIR"
  mv "$LEGO5_DIR.tmp" "$LEGO5_DIR"
}

# peer_version CLIENT: the version string for meta.json
peer_version() {
  case "$1" in
    certbot5) "$CERTBOT5" --version 2>&1 | awk '{print $2}' ;;
    lego5) echo "$LEGO5_VERSION" ;;
    *) dpkg-query -W -f='${Version}' "$1" 2>/dev/null ;;
  esac
}
