#!/usr/bin/env bash
# Makes sure a headless-capable Chromium is installed, for the report's
# browser test (report/browser_test.go) and `glassbox report --png`.
# Uses one already on PATH (chromium, chromium-browser, google-chrome) or
# $GLASSBOX_CHROMIUM; otherwise installs Debian's chromium package with apt-get.
set -euo pipefail

if [ -n "${GLASSBOX_CHROMIUM:-}" ] && [ -x "$GLASSBOX_CHROMIUM" ]; then
	exit 0
fi
for b in chromium chromium-browser google-chrome google-chrome-stable; do
	if command -v "$b" >/dev/null; then
		exit 0
	fi
done
command -v apt-get >/dev/null || {
	echo "install-chromium: no Chromium found and no apt-get to install one; install Chromium or set GLASSBOX_CHROMIUM" >&2
	exit 1
}
SUDO=""
if [ "$(id -u)" != 0 ]; then
	SUDO="sudo"
fi
echo "Chromium: installing Debian's chromium package (for the report's browser test)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
