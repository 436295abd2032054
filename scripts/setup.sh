#!/usr/bin/env bash
# Installs what a fresh machine lacks, then the npm dependencies. Safe to run again: once the
# dependencies match package-lock.json it returns at once.
#
# The Kafka client (@confluentinc/kafka-javascript) downloads a prebuilt binary where it can;
# where it cannot, it builds its bundled librdkafka, which needs a compiler and the dev libraries
# below. On Debian/Ubuntu they are installed here (as root, or with password-less sudo), with
# PostgreSQL's server, which the tests run a private cluster of (`sluice postgres start`), and
# Chromium, in which the console's test drives the web console (test/console/).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*" >&2; }

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
  say "Node.js 20 or newer is needed (found: $(node -v 2>/dev/null || echo none))."
  exit 1
fi

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
  else return 1
  fi
}

# PostgreSQL's server programs, wherever they are (Debian: /usr/lib/postgresql/<major>/bin).
have_postgres() {
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || command -v postgres >/dev/null
}

# A Chromium for the console's browser test (test/helpers/browser.ts looks in the same places).
have_chromium() {
  { [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; } || command -v chromium >/dev/null || command -v chromium-browser >/dev/null
}

debian_packages() {
  command -v dpkg-query >/dev/null && command -v apt-get >/dev/null || return 0
  local wanted=(g++ make python3 patch libssl-dev libsasl2-dev zlib1g-dev libzstd-dev liblz4-dev libcurl4-openssl-dev)
  # A JDK, not only a runtime: Maven compiles the Kafka Streams application (the benchmark's peer
  # and the compatibility tests' reference) with javac, and Debian's maven brings a JRE alone.
  command -v javac >/dev/null || wanted+=(default-jdk-headless)
  command -v mvn >/dev/null || wanted+=(maven)
  have_postgres || wanted+=(postgresql)
  # Debian's package is chromium; Ubuntu's is chromium-browser. A font, so pages render text.
  if ! have_chromium; then
    if grep -qs '^ID=ubuntu' /etc/os-release; then wanted+=(chromium-browser fonts-dejavu-core); else wanted+=(chromium fonts-dejavu-core); fi
  fi
  local missing=() package
  for package in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
      say "could not install ${missing[*]} (needs root); install them yourself if the build or the tests fail."
    fi
  fi
}

stamp=node_modules/.sluice-setup
digest=$(cat package.json package-lock.json patches/* | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ] &&
  node -e "require('@confluentinc/kafka-javascript'); require('classic-level')" 2>/dev/null; then
  # The npm dependencies are up to date; a machine set up before PostgreSQL, a JDK and Maven, or
  # Chromium were needed still lacks them.
  { have_postgres && command -v javac >/dev/null && command -v mvn >/dev/null && have_chromium; } || debian_packages
  # The compiled engine `sluice` starts from, when the sources changed since it was built.
  node bin/engine-build.js
  exit 0
fi

debian_packages

# Used only if the prebuilt client binary cannot be downloaded: build against the system's
# libraries and this Node's own headers (no header download).
export CKJS_LINKING=dynamic
prefix=$(dirname "$(dirname "$(node -p process.execPath)")")
if [ -f "$prefix/include/node/node_api.h" ]; then export npm_config_nodedir="$prefix"; fi

say "installing npm dependencies (building the Kafka client can take a few minutes)..."
npm ci --no-audit --no-fund --loglevel=error
bash scripts/patch-kafka-client.sh
echo "$digest" >"$stamp"
node bin/engine-build.js
say "done"
