#!/usr/bin/env bash
# Installs the tools tests/deploy and tests/e2e/test_cluster.py need, idempotently (safe to run on
# every `make test`):
#   kubectl  (renders deploy/k8s with `kubectl kustomize`)  - Debian package kubernetes-client
#   promtool (checks deploy/prometheus/*.yml)               - Debian package prometheus
#   prometheus (the server tests/e2e/test_cluster.py runs)  - Debian package prometheus
#   kubernetes-validate (validates rendered manifests)       - PyPI, into the project's venv
# Nothing is installed when it is already there. The machine images of this project ship a
# recent kubectl (with kustomize v5) already; Debian's kubernetes-client is only the fallback.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-$VENV/bin/python}"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

missing_debs=()
command -v kubectl >/dev/null 2>&1 || missing_debs+=(kubernetes-client)
if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  missing_debs+=(prometheus)
fi

if [ "${#missing_debs[@]}" -gt 0 ]; then
  echo "install-test-tools: installing Debian packages: ${missing_debs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # --no-install-recommends: neither promtool nor the server needs the web-console extras.
  $SUDO apt-get install -y -qq --no-install-recommends "${missing_debs[@]}"
  # The prometheus package starts a system server (on :9090) a test machine does not want (the
  # tests run their own on a free port): stop it the way it was started, systemd or init script.
  if [ -d /run/systemd/system ]; then
    if systemctl is-active --quiet prometheus 2>/dev/null; then
      $SUDO systemctl stop prometheus || true
    fi
  elif [ -x /etc/init.d/prometheus ] && /etc/init.d/prometheus status >/dev/null 2>&1; then
    $SUDO /etc/init.d/prometheus stop || true
  fi
else
  echo "install-test-tools: kubectl, promtool and prometheus already present"
fi

if [ ! -x "$PYTHON" ]; then
  echo "install-test-tools: no Python at $PYTHON (create the venv first: python3 -m venv .venv)" >&2
  exit 1
fi

if "$PYTHON" -c "import kubernetes_validate" >/dev/null 2>&1; then
  echo "install-test-tools: kubernetes-validate already installed in $VENV"
else
  echo "install-test-tools: pip install kubernetes-validate into $VENV"
  "$PYTHON" -m pip install --quiet kubernetes-validate
fi

# The manifests use kustomize v4+ features (`labels`, `replicas`, targeted `patches`). The
# kubectl these machine images ship embeds kustomize v5; Debian bookworm's kubernetes-client
# (1.20) embeds v2.0.3, which cannot render them: tests/deploy then fails and says so.
kustomize_version="$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\{0,1\}\([0-9]*\).*/\1/p')"
if [ -z "$kustomize_version" ] || [ "$kustomize_version" -lt 4 ]; then
  if ! command -v kustomize >/dev/null 2>&1; then
    echo "install-test-tools: WARNING: $(command -v kubectl) embeds kustomize '${kustomize_version:-unknown}' (< v4);" \
      "install kubectl >= 1.21 or a kustomize binary for tests/deploy" >&2
  fi
fi

kubectl version --client 2>/dev/null | head -2 || true
promtool --version 2>&1 | head -1 || true
prometheus --version 2>&1 | head -1 || true
"$PYTHON" -c "import importlib.metadata as m; print('kubernetes-validate', m.version('kubernetes-validate'))"
