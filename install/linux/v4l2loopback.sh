#!/usr/bin/env bash
# Install v4l2loopback and create the "VCamSwap" virtual camera now and at every boot.
# Run with sudo on Debian/Ubuntu. Chrome, Meet and Zoom need exclusive_caps=1.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "run as root: sudo $0" >&2
  exit 1
fi
apt-get install -y v4l2loopback-dkms v4l2loopback-utils
options='devices=1 video_nr=10 card_label="VCamSwap" exclusive_caps=1'
echo "options v4l2loopback ${options}" > /etc/modprobe.d/vcamswap-v4l2loopback.conf
echo "v4l2loopback" > /etc/modules-load.d/vcamswap-v4l2loopback.conf
modprobe -r v4l2loopback 2>/dev/null || true
modprobe v4l2loopback devices=1 video_nr=10 card_label="VCamSwap" exclusive_caps=1
echo "virtual camera ready: /dev/video10 (VCamSwap)"
