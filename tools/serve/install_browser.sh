#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium and its WebDriver, which ChatPageBrowserTest
# (coh module) uses to open the chat page; without them that test is skipped. Needs root.
set -euo pipefail
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver
chromium --version
chromedriver --version
