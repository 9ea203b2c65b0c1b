#pragma once
// `certagent certs --format powershell`: the PowerShell a Lync administrator runs on the server
// to bind what certagent has bound — import each distinct certificate's PKCS#12 bundle (the
// policy's `pkcs12` output) into Cert:\LocalMachine\My, then Set-CsCertificate, then
// Get-CsCertificate. Pure: the bound state and the policy's outputs in, the script's text out.
//
// The guide's rule (lync-2013-autodiscover-certificates.md): one Set-CsCertificate with every
// type when one certificate serves them all; "if a separate certificate is assigned for each
// use (the Thumbprint value is different for each certificate), it is important that you do
// not run the Set-CsCertificate cmdlet with multiple types" — then one command per type. A mixed
// layout (Default alone, the web services sharing one) has different thumbprints too, so it
// gets one command per type as well: several types in one command only when every type the
// script sets shares one certificate.
#include <optional>
#include <span>
#include <string>

#include "common/error.hpp"

namespace certagent::agent {

struct PowerShellPurpose {
  std::string purpose;     // certagent's purpose = the Lync certificate type (Set-CsCertificate -Type)
  std::string thumbprint;  // SHA-1, upper-case hex; "" when nothing is bound
  std::size_t names = 0;   // how many names the bound certificate carries
  std::string not_after;   // RFC 3339
  std::optional<std::string> pkcs12;         // the policy's pkcs12 output path, if any
  std::optional<std::string> password_file;  // its pkcs12_password_file
  bool empty_password = false;               // pkcs12_empty_password
};

// The Lync certificate types the script sets, in the order it sets them. A purpose of another
// name (a reverse proxy's, a generic service's) is listed in a comment and left alone.
[[nodiscard]] std::span<const std::string_view> lync_certificate_types();

// The script, or an error naming what keeps it from being complete: a Lync purpose with
// nothing bound, or without a `pkcs12` output in the policy; PKCS#12 outputs of different
// certificates with the same file name (the script finds them by name in one folder) or with
// different passwords (it reads one); no Lync purpose at all.
[[nodiscard]] Result<std::string> powershell_script(std::span<const PowerShellPurpose> purposes);

}  // namespace certagent::agent
