#!/bin/bash
# Build script for the ubuntu-batch image, run once by cloud-init on the build VM.
# It must end by deprovisioning and powering off: "the VM stopped" is how imagepool knows the
# build finished. A failing command stops the script before that, so the build times out
# instead of publishing a broken image; read /var/log/cloud-init-output.log on the VM.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends ca-certificates curl jq python3 python3-venv

install -d /opt/render/bin
cat > /opt/render/bin/render <<'SCRIPT'
#!/bin/sh
echo "render toolchain 1.4"
SCRIPT
chmod 0755 /opt/render/bin/render

# Batch mounts the temporary disk itself; leave no build user, keys or logs behind.
apt-get clean
rm -rf /var/lib/apt/lists/* /tmp/*
waagent -force -deprovision+user
sync
shutdown -h now
