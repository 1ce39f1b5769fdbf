#!/bin/sh
# Rebuild the dashboard's vendored GOV.UK Frontend (warehouse/web/static/govuk/) from npm.
#
# Needs node and npm on the machine that rebuilds, never at install or run time: the
# compiled files are committed. Usage: tools/govuk-frontend/rebuild.sh [VERSION]
set -eu
VERSION="${1:-5.14.0}"  # govuk-frontend-jinja 3.10.0's macros match 5.14.0
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="$HERE/../../warehouse/web/static/govuk"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
npm pack --silent "govuk-frontend@$VERSION" >/dev/null
tar xzf "govuk-frontend-$VERSION.tgz"
npm install --silent --no-save --prefix "$WORK/sass" sass@1.108.2 >/dev/null
"$WORK/sass/node_modules/.bin/sass" --no-source-map --style=compressed --quiet-deps \
  --silence-deprecation=import,global-builtin,slash-div,if-function \
  --load-path="$WORK/package/dist/govuk" "$HERE/hub.scss" "$OUT/govuk-frontend.min.css"
# the source map is not shipped, so the script must not point to it
sed 's@//# sourceMappingURL=.*$@@' "$WORK/package/dist/govuk/govuk-frontend.min.js" \
  > "$OUT/govuk-frontend.min.js"
# the npm package declares MIT but carries no licence file: ours is the repository's
# LICENSE.txt (github.com/alphagov/govuk-frontend), copied beside this script
cp "$HERE/LICENSE.txt" "$OUT/LICENSE.txt"
echo "$VERSION" > "$OUT/VERSION"
if grep -q "GDS Transport\|@font-face\|url(" "$OUT/govuk-frontend.min.css"; then
  echo "the compiled CSS still names the GDS Transport font or loads a file" >&2
  exit 1
fi
echo "GOV.UK Frontend $VERSION compiled into $OUT"
