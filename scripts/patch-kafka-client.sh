#!/usr/bin/env bash
# Patches the Kafka client's native binding (patches/kafka-javascript-messages.patch) and builds
# it from source again. The patch changes how a consumed message becomes a JavaScript object,
# not what it holds: property names interned once, the topic's string reused, small keys and
# values copied into shared 8 KB slabs as Node's Buffer pool does (11.3–11.9 to 5.8–5.9 µs per
# message; see bench/README.md, "The Kafka client's consumer"). Run by setup.sh after `npm ci`,
# in the build environment it sets (CKJS_LINKING, npm_config_nodedir); safe to run again. A
# client whose source differs (another version) is left as it is: correct, only slower.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*" >&2; }

client=node_modules/@confluentinc/kafka-javascript
patch_file=patches/kafka-javascript-messages.patch
binary="$client/build/Release/confluent-kafka-javascript.node"

if ! grep -q 'Patched by Sluice' "$client/src/common.cc"; then
  if ! patch --dry-run --forward --silent -p1 -d "$client" <"$patch_file" >/dev/null 2>&1; then
    say "the Kafka client's source is not the one $patch_file was written for; it stays unpatched (correct, its consumer slower)"
    exit 0
  fi
  patch --forward --silent -p1 -d "$client" <"$patch_file"
fi
# Built after the patch: nothing to do.
if [ -f "$binary" ] && [ "$binary" -nt "$client/src/common.cc" ]; then exit 0; fi

say "building the patched Kafka client from source (a few minutes)..."
npm rebuild @confluentinc/kafka-javascript --build-from-source --no-audit --no-fund --loglevel=error
node -e "require('@confluentinc/kafka-javascript')"
