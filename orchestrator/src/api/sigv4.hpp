#pragma once
// AWS Signature Version 4: verifies the Authorization header of a request against a set of
// access keys read from an AWS shared-credentials file. The pieces of the algorithm (canonical
// request, string to sign, signing key) are exposed for the tests built on AWS's published
// examples. Pure functions plus a plain value type; thread-safe.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "api/http.hpp"

namespace switchyard::orchestrator::api {

// access key id → secret access key.
using CredentialSet = std::map<std::string, std::string>;

// Parses the AWS shared-credentials format: `[profile]` sections with aws_access_key_id and
// aws_secret_access_key (other keys and comments ignored). Every profile with both yields a
// pair. Returns nullopt and sets `error` when the file cannot be read, a profile has one key
// without the other, or no profile has a pair.
std::optional<CredentialSet> ParseCredentialsFile(const std::string& text, std::string* error);
std::optional<CredentialSet> LoadCredentialsFile(const std::string& path, std::string* error);

// The outcome of a verification: ok, or the AWS error to send (type, HTTP status, message).
struct SigV4Verdict {
  bool ok = false;
  int status = 403;
  std::string error_type;  // "InvalidSignatureException", "UnrecognizedClientException", ...
  std::string message;
  std::string access_key_id;  // the caller's key when ok
};

// Verifies `request` (raw path and query as received, lower-case header names) against
// `credentials` at time `now`. A request must carry `Authorization: AWS4-HMAC-SHA256 ...` and
// X-Amz-Date (or Date) within 15 minutes of now.
SigV4Verdict VerifySigV4(const HttpRequest& request, const CredentialSet& credentials,
                         std::chrono::system_clock::time_point now);

// --- The algorithm's steps (AWS General Reference, "Create a signed AWS API request").

// URI-encodes every byte except A-Z a-z 0-9 - _ . ~ (and '/' when keep_slash), as %XX upper-case.
std::string SigV4Encode(std::string_view text, bool keep_slash);
// The canonical request for the given signed header names (lower-case, ';'-separated) and the
// hex SHA-256 of the payload.
std::string CanonicalRequest(const HttpRequest& request, std::string_view signed_headers,
                             std::string_view payload_hash);
std::string HexSha256(std::string_view data);
// "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of canonical request>".
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
// HMAC chain: "AWS4"+secret → date → region → service → "aws4_request" (raw 32 bytes).
std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service);
// Hex HMAC-SHA256(signing_key, string_to_sign).
std::string HexSignature(std::string_view signing_key, std::string_view string_to_sign);

}  // namespace switchyard::orchestrator::api
