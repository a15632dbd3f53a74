# Build script for the windows-render image, run once at first boot of the build VM.
# It must end with Sysprep /generalize /oobe /shutdown: "the VM stopped" is how imagepool
# knows the build finished.
$ErrorActionPreference = 'Stop'

New-Item -ItemType Directory -Force -Path 'C:\render' | Out-Null
Set-Content -Path 'C:\render\render.cmd' -Value '@echo render toolchain 1.4'

# Sysprep refuses to run while the setup state is not clean; wait for it first.
while ((Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State').ImageState -ne 'IMAGE_STATE_COMPLETE') {
    Start-Sleep -Seconds 10
}
& "$env:SystemRoot\System32\Sysprep\Sysprep.exe" /generalize /oobe /shutdown /quiet /mode:vm
