# The PowerShell that binds, on this Lync server, what certagent has bound
# (`certagent certs --format powershell`; docs/operations.md, "Binding on the Lync server").
# Run it in the Lync Server Management Shell as a member of RTCUniversalServerAdmins who is a
# local administrator (the certificate store of the computer):
#   .\bind-lync.ps1                           asks for the password of the PKCS#12 files
#   .\bind-lync.ps1 -PasswordFile C:\p12.pwd  reads it from the first line of that file
#   ... -PasswordFile -                       ... from the first line of standard input
# The PKCS#12 files are found by name in -PfxDirectory (default: the script's folder).
param(
    [string]$PfxDirectory = $PSScriptRoot,
    [string]$PasswordFile = ''
)
$ErrorActionPreference = 'Stop'
if (-not $PfxDirectory) { $PfxDirectory = (Get-Location).Path }
# Outside the Lync Server Management Shell (over ssh), the Lync module is loaded here.
if (-not (Get-Command Set-CsCertificate -ErrorAction SilentlyContinue)) { Import-Module Lync }
if ($PasswordFile -eq '-') {
    $password = ConvertTo-SecureString -String ([Console]::In.ReadLine()) -AsPlainText -Force
} elseif ($PasswordFile) {
    $password = ConvertTo-SecureString -String (Get-Content -LiteralPath $PasswordFile -TotalCount 1) -AsPlainText -Force
} else {
    $password = Read-Host -AsSecureString -Prompt 'Password of the PKCS#12 files'
}

function Import-CertagentPfx([string]$Name, [string]$Thumbprint) {
    $path = Join-Path $PfxDirectory $Name
    $imported = Import-PfxCertificate -FilePath $path -CertStoreLocation Cert:\LocalMachine\My -Password $password
    if (-not ($imported | Where-Object { $_.Thumbprint -eq $Thumbprint })) {
        throw "$path does not hold the certificate $Thumbprint that certagent bound: copy the current file"
    }
}

# Certificate 1 of 1: Default,WebServicesInternal,WebServicesExternal - 7 name(s), valid until 2027-03-07T12:00:00Z
# certagent writes default.p12 at /etc/lync/certs/default.p12
Import-CertagentPfx 'default.p12' '49C2502D17B3A1E0F00D4C1A2B3C4D5E6F708192'

# One certificate for every type: one command.
Set-CsCertificate -Type Default,WebServicesInternal,WebServicesExternal -Thumbprint 49C2502D17B3A1E0F00D4C1A2B3C4D5E6F708192

Get-CsCertificate
