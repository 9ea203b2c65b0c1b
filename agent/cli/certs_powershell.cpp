#include "agent/cli/certs_powershell.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <vector>

namespace certagent::agent {
namespace {

constexpr std::array<std::string_view, 8> kLyncTypes = {
    "Default",           "WebServicesInternal", "WebServicesExternal", "OAuthTokenIssuer",
    "AudioVideoAuthentication", "AccessEdgeExternal", "DataEdgeExternal", "XmppServer"};

// A PowerShell single-quoted string: nothing inside is expanded; a quote is doubled.
std::string ps_quoted(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

// One distinct certificate: the purposes it serves, in kLyncTypes order, and its bundle.
struct Bundle {
  std::vector<const PowerShellPurpose*> purposes;
  const PowerShellPurpose* file = nullptr;  // the first of them with a pkcs12 output
  [[nodiscard]] std::string types() const {
    std::vector<std::string> t;
    for (const auto* p : purposes) t.push_back(p->purpose);
    return fmt::format("{}", fmt::join(t, ","));
  }
  [[nodiscard]] std::string file_name() const { return std::filesystem::path(*file->pkcs12).filename().string(); }
};

std::size_t type_rank(std::string_view purpose) {
  return static_cast<std::size_t>(std::find(kLyncTypes.begin(), kLyncTypes.end(), purpose) - kLyncTypes.begin());
}

// The bundles in the order of their first type; fails when a Lync purpose cannot be imported.
Result<std::vector<Bundle>> bundles_of(std::vector<const PowerShellPurpose*> lync) {
  std::sort(lync.begin(), lync.end(), [](auto* a, auto* b) { return type_rank(a->purpose) < type_rank(b->purpose); });
  std::vector<Bundle> out;
  for (const auto* p : lync) {
    if (p->thumbprint.empty())
      return fail(ErrorKind::Invalid, fmt::format("{} has no certificate bound: run `certagent run --once` (or "
                                                  "`certagent request --type {} --assign`) first",
                                                  p->purpose, p->purpose));
    auto it = std::find_if(out.begin(), out.end(), [&](const Bundle& b) { return b.purposes[0]->thumbprint == p->thumbprint; });
    if (it == out.end()) it = out.insert(out.end(), Bundle{});
    it->purposes.push_back(p);
    if (it->file == nullptr && p->pkcs12) it->file = p;
  }
  std::map<std::string, std::string> names;  // file name -> types
  for (const auto& b : out) {
    if (b.file == nullptr)
      return fail(ErrorKind::Invalid,
                  fmt::format("{} ({}): the policy writes no PKCS#12 file for it; add \"pkcs12\" (and "
                              "\"pkcs12_password_file\") to purposes.{} — the script imports that file",
                              b.types(), b.purposes[0]->thumbprint, b.purposes[0]->purpose));
    auto [at, fresh] = names.emplace(b.file_name(), b.types());
    if (!fresh)
      return fail(ErrorKind::Invalid, fmt::format("the PKCS#12 files of {} and of {} are both named {}: the script "
                                                  "finds them by name in one folder; give them different names",
                                                  at->second, b.types(), b.file_name()));
  }
  for (const auto& b : out)
    if (b.file->password_file != out[0].file->password_file || b.file->empty_password != out[0].file->empty_password)
      return fail(ErrorKind::Invalid, fmt::format("the PKCS#12 files of {} and of {} have different passwords (password "
                                                  "files or an empty one): the script reads one; name the same "
                                                  "pkcs12_password_file for both",
                                                  out[0].types(), b.types()));
  return out;
}

constexpr std::string_view kPreamble = R"(# The PowerShell that binds, on this Lync server, what certagent has bound
# (`certagent certs --format powershell`; docs/operations.md, "Binding on the Lync server").
# Run it in the Lync Server Management Shell as a member of RTCUniversalServerAdmins who is a
# local administrator (the certificate store of the computer):
#   .\bind-lync.ps1                           asks for the password of the PKCS#12 files
#   .\bind-lync.ps1 -PasswordFile C:\p12.pwd  reads it from the first line of that file
#   ... -PasswordFile -                       ... from the first line of standard input
# The PKCS#12 files are found by name in -PfxDirectory (default: the script's folder).
)";

constexpr std::string_view kParams = R"(param(
    [string]$PfxDirectory = $PSScriptRoot,
    [string]$PasswordFile = ''
)
$ErrorActionPreference = 'Stop'
if (-not $PfxDirectory) { $PfxDirectory = (Get-Location).Path }
# Outside the Lync Server Management Shell (over ssh), the Lync module is loaded here.
if (-not (Get-Command Set-CsCertificate -ErrorAction SilentlyContinue)) { Import-Module Lync }
)";

constexpr std::string_view kReadPassword = R"(if ($PasswordFile -eq '-') {
    $password = ConvertTo-SecureString -String ([Console]::In.ReadLine()) -AsPlainText -Force
} elseif ($PasswordFile) {
    $password = ConvertTo-SecureString -String (Get-Content -LiteralPath $PasswordFile -TotalCount 1) -AsPlainText -Force
} else {
    $password = Read-Host -AsSecureString -Prompt 'Password of the PKCS#12 files'
}
)";

std::string import_function(bool with_password) {
  return fmt::format(R"(
function Import-CertagentPfx([string]$Name, [string]$Thumbprint) {{
    $path = Join-Path $PfxDirectory $Name
    $imported = Import-PfxCertificate -FilePath $path -CertStoreLocation Cert:\LocalMachine\My{}
    if (-not ($imported | Where-Object {{ $_.Thumbprint -eq $Thumbprint }})) {{
        throw "$path does not hold the certificate $Thumbprint that certagent bound: copy the current file"
    }}
}}
)",
                     with_password ? " -Password $password" : "");
}

std::string imports(const std::vector<Bundle>& bundles) {
  std::string out;
  for (std::size_t i = 0; i < bundles.size(); ++i) {
    const auto& b = bundles[i];
    const auto& p = *b.purposes[0];
    out += fmt::format("\n# Certificate {} of {}: {} - {} name(s), valid until {}\n# certagent writes {} at {}\n",
                       i + 1, bundles.size(), b.types(), p.names, p.not_after, b.file_name(), *b.file->pkcs12);
    out += fmt::format("Import-CertagentPfx {} '{}'\n", ps_quoted(b.file_name()), p.thumbprint);
  }
  return out;
}

// One command for every type when one certificate serves them all; else one per type (the guide).
std::string assignments(const std::vector<Bundle>& bundles) {
  std::string out = "\n";
  if (bundles.size() == 1) {
    out += "# One certificate for every type: one command.\n";
    return out + fmt::format("Set-CsCertificate -Type {} -Thumbprint {}\n", bundles[0].types(), bundles[0].purposes[0]->thumbprint);
  }
  out += "# Different certificates: one command per type (the guide: never several types in one\n"
         "# Set-CsCertificate when the thumbprints differ).\n";
  std::vector<const PowerShellPurpose*> all;
  for (const auto& b : bundles) all.insert(all.end(), b.purposes.begin(), b.purposes.end());
  std::sort(all.begin(), all.end(), [](auto* a, auto* b) { return type_rank(a->purpose) < type_rank(b->purpose); });
  for (const auto* p : all) out += fmt::format("Set-CsCertificate -Type {} -Thumbprint {}\n", p->purpose, p->thumbprint);
  return out;
}

}  // namespace

std::span<const std::string_view> lync_certificate_types() { return kLyncTypes; }

Result<std::string> powershell_script(std::span<const PowerShellPurpose> purposes) {
  std::vector<const PowerShellPurpose*> lync;
  std::vector<std::string> others;
  for (const auto& p : purposes) {
    if (type_rank(p.purpose) < kLyncTypes.size()) lync.push_back(&p);
    else others.push_back(p.purpose);
  }
  if (lync.empty())
    return fail(ErrorKind::Invalid, fmt::format("no purpose is a Lync certificate type ({}): there is nothing for "
                                                "Set-CsCertificate",
                                                fmt::join(kLyncTypes, ", ")));
  auto bundles = bundles_of(lync);
  if (!bundles) return std::unexpected(bundles.error());
  const bool with_password = !(*bundles)[0].file->empty_password;
  std::string out(kPreamble);
  if (!others.empty())
    out += fmt::format("# Not a Lync certificate type, left alone: {}\n", fmt::join(others, ", "));
  out += kParams;
  if (with_password) out += kReadPassword;
  out += import_function(with_password);
  out += imports(*bundles);
  out += assignments(*bundles);
  out += "\nGet-CsCertificate\n";
  return out;
}

}  // namespace certagent::agent
