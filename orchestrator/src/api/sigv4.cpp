// SigV4 verification. Follows AWS's description of the signing process; every step is a
// separate function so the tests can check each against the published examples.
#include "api/sigv4.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <vector>

namespace switchyard::orchestrator::api {
namespace {

constexpr auto kMaxSkew = std::chrono::minutes(15);

std::string Trim(std::string_view text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && (text[begin] == ' ' || text[begin] == '\t' || text[begin] == '\r')) ++begin;
  while (end > begin && (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == '\r')) {
    --end;
  }
  return std::string(text.substr(begin, end - begin));
}

std::string Hex(const unsigned char* data, std::size_t size) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 15]);
  }
  return out;
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &size);
  return std::string(reinterpret_cast<const char*>(out), size);
}

// Header value as canonicalised: trimmed, runs of spaces collapsed to one.
std::string CanonicalValue(std::string_view value) {
  std::string trimmed = Trim(value);
  std::string out;
  out.reserve(trimmed.size());
  bool space = false;
  for (char c : trimmed) {
    if (c == ' ' || c == '\t') {
      if (!space) out.push_back(' ');
      space = true;
    } else {
      out.push_back(c);
      space = false;
    }
  }
  return out;
}

std::vector<std::string> Split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t pos = text.find(separator, start);
    parts.emplace_back(text.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

// "20150830T123600Z" → time point; nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> ParseAmzDate(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  for (std::size_t i = 0; i < 15; ++i) {
    if (i != 8 && (text[i] < '0' || text[i] > '9')) return std::nullopt;
  }
  auto num = [&](std::size_t pos, std::size_t len) {
    int value = 0;
    for (std::size_t i = 0; i < len; ++i) value = value * 10 + (text[pos + i] - '0');
    return value;
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  tm.tm_hour = num(9, 2);
  tm.tm_min = num(11, 2);
  tm.tm_sec = num(13, 2);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string FormatAmzDate(std::chrono::system_clock::time_point time) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &tm);
  return buffer;
}

SigV4Verdict Reject(int status, std::string type, std::string message) {
  SigV4Verdict verdict;
  verdict.status = status;
  verdict.error_type = std::move(type);
  verdict.message = std::move(message);
  return verdict;
}

}  // namespace

std::optional<CredentialSet> ParseCredentialsFile(const std::string& text, std::string* error) {
  CredentialSet credentials;
  std::string profile;
  std::string key_id;
  std::string secret;
  bool bad = false;
  auto finish = [&] {
    if (profile.empty() && key_id.empty() && secret.empty()) return;
    if (key_id.empty() != secret.empty()) {
      *error = "profile [" + profile + "] has " +
               (key_id.empty() ? "aws_secret_access_key without aws_access_key_id"
                               : "aws_access_key_id without aws_secret_access_key");
      bad = true;
    } else if (!key_id.empty()) {
      credentials[key_id] = secret;
    }
    key_id.clear();
    secret.clear();
  };
  std::istringstream in(text);
  std::string line;
  while (!bad && std::getline(in, line)) {
    const std::string trimmed = Trim(line);
    if (trimmed.empty() || trimmed[0] == '#' || trimmed[0] == ';') continue;
    if (trimmed.front() == '[' && trimmed.back() == ']') {
      finish();
      profile = Trim(std::string_view(trimmed).substr(1, trimmed.size() - 2));
      continue;
    }
    const std::size_t eq = trimmed.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = Trim(std::string_view(trimmed).substr(0, eq));
    const std::string value = Trim(std::string_view(trimmed).substr(eq + 1));
    if (key == "aws_access_key_id") key_id = value;
    if (key == "aws_secret_access_key") secret = value;
  }
  if (!bad) finish();
  if (bad) return std::nullopt;
  if (credentials.empty()) {
    *error = "no profile with aws_access_key_id and aws_secret_access_key";
    return std::nullopt;
  }
  return credentials;
}

std::optional<CredentialSet> LoadCredentialsFile(const std::string& path, std::string* error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    *error = "cannot read credentials file '" + path + "'";
    return std::nullopt;
  }
  std::ostringstream text;
  text << file.rdbuf();
  auto credentials = ParseCredentialsFile(text.str(), error);
  if (!credentials) *error = "credentials file '" + path + "': " + *error;
  return credentials;
}

std::string SigV4Encode(std::string_view text, bool keep_slash) {
  static const char* kDigits = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 15]);
    }
  }
  return out;
}

std::string HexSha256(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), out, &size, EVP_sha256(), nullptr);
  return Hex(out, size);
}

std::string CanonicalRequest(const HttpRequest& request, std::string_view signed_headers,
                             std::string_view payload_hash) {
  std::string out = request.method;
  out += '\n';
  // Services other than S3 encode the path a second time: the client signs the encoded form of
  // the path it sends (so "%3A" on the wire is "%253A" here).
  out += request.path.empty() ? std::string("/") : SigV4Encode(request.path, true);
  out += '\n';
  // Query: decoded pairs re-encoded, sorted by name then value.
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [name, value] : ParseQuery(request.query)) {
    query.emplace_back(SigV4Encode(name, false), SigV4Encode(value, false));
  }
  std::sort(query.begin(), query.end());
  for (std::size_t i = 0; i < query.size(); ++i) {
    if (i) out += '&';
    out += query[i].first;
    out += '=';
    out += query[i].second;
  }
  out += '\n';
  for (const std::string& name : Split(signed_headers, ';')) {
    std::string value;
    bool first = true;
    for (const auto& [header, header_value] : request.headers) {
      if (header != name) continue;
      if (!first) value += ',';
      value += CanonicalValue(header_value);
      first = false;
    }
    out += name;
    out += ':';
    out += value;
    out += '\n';
  }
  out += '\n';
  out += signed_headers;
  out += '\n';
  out += payload_hash;
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out = "AWS4-HMAC-SHA256\n";
  out += amz_date;
  out += '\n';
  out += scope;
  out += '\n';
  out += HexSha256(canonical_request);
  return out;
}

std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service) {
  std::string key = Hmac("AWS4" + std::string(secret), date);
  key = Hmac(key, region);
  key = Hmac(key, service);
  return Hmac(key, "aws4_request");
}

std::string HexSignature(std::string_view signing_key, std::string_view string_to_sign) {
  const std::string mac = Hmac(signing_key, string_to_sign);
  return Hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

SigV4Verdict VerifySigV4(const HttpRequest& request, const CredentialSet& credentials,
                         std::chrono::system_clock::time_point now) {
  const std::string* authorization = request.Header("authorization");
  if (!authorization) {
    return Reject(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
  }
  static constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256 ";
  if (authorization->rfind(kAlgorithm, 0) != 0) {
    return Reject(400, "IncompleteSignatureException",
                  "Authorization header requires the AWS4-HMAC-SHA256 algorithm.");
  }
  std::string credential;
  std::string signed_headers;
  std::string signature;
  for (const std::string& part :
       Split(std::string_view(*authorization).substr(kAlgorithm.size()), ',')) {
    const std::string item = Trim(part);
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = item.substr(0, eq);
    if (key == "Credential") credential = item.substr(eq + 1);
    if (key == "SignedHeaders") signed_headers = item.substr(eq + 1);
    if (key == "Signature") signature = item.substr(eq + 1);
  }
  if (credential.empty() || signed_headers.empty() || signature.empty()) {
    std::string missing;
    if (credential.empty()) missing += " Authorization header requires 'Credential' parameter.";
    if (signed_headers.empty()) {
      missing += " Authorization header requires 'SignedHeaders' parameter.";
    }
    if (signature.empty()) missing += " Authorization header requires 'Signature' parameter.";
    return Reject(400, "IncompleteSignatureException", Trim(missing));
  }
  // Credential = <key id>/<date>/<region>/<service>/aws4_request
  const std::vector<std::string> scope_parts = Split(credential, '/');
  if (scope_parts.size() != 5 || scope_parts[4] != "aws4_request") {
    return Reject(400, "IncompleteSignatureException",
                  "Credential should be scoped to a valid region, not '" + credential + "'.");
  }
  const std::string& key_id = scope_parts[0];
  const auto secret = credentials.find(key_id);
  if (secret == credentials.end()) {
    return Reject(403, "UnrecognizedClientException",
                  "The security token included in the request is invalid.");
  }
  const std::string* amz_date = request.Header("x-amz-date");
  if (!amz_date) {
    return Reject(400, "IncompleteSignatureException",
                  "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                  "header.");
  }
  const auto signed_at = ParseAmzDate(*amz_date);
  if (!signed_at) {
    return Reject(400, "IncompleteSignatureException",
                  "Date must be in ISO-8601 'basic format'. Got '" + *amz_date + "'.");
  }
  if (*signed_at < now - kMaxSkew) {
    return Reject(403, "InvalidSignatureException",
                  "Signature expired: " + *amz_date + " is now earlier than " +
                      FormatAmzDate(now - kMaxSkew) + " (" + FormatAmzDate(now) + " - 15 min.)");
  }
  if (*signed_at > now + kMaxSkew) {
    return Reject(403, "InvalidSignatureException",
                  "Signature not yet current: " + *amz_date + " is still later than " +
                      FormatAmzDate(now + kMaxSkew) + " (" + FormatAmzDate(now) + " + 15 min.)");
  }
  const std::string_view date = std::string_view(*amz_date).substr(0, 8);
  if (scope_parts[1] != date) {
    return Reject(403, "InvalidSignatureException",
                  "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                  "from HTTP: '" +
                      scope_parts[1] + "' != '" + std::string(date) + "', from '" + *amz_date +
                      "'.");
  }
  const std::string* content_hash = request.Header("x-amz-content-sha256");
  const std::string payload_hash =
      content_hash && *content_hash == "UNSIGNED-PAYLOAD" ? *content_hash : HexSha256(request.body);
  const std::string scope = credential.substr(key_id.size() + 1);
  const std::string canonical = CanonicalRequest(request, signed_headers, payload_hash);
  const std::string expected =
      HexSignature(SigningKey(secret->second, scope_parts[1], scope_parts[2], scope_parts[3]),
                   StringToSign(*amz_date, scope, canonical));
  if (expected.size() != signature.size() ||
      CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) != 0) {
    return Reject(403, "InvalidSignatureException",
                  "The request signature we calculated does not match the signature you "
                  "provided. Check your AWS Secret Access Key and signing method. Consult the "
                  "service documentation for details.");
  }
  SigV4Verdict verdict;
  verdict.ok = true;
  verdict.status = 200;
  verdict.access_key_id = key_id;
  return verdict;
}

}  // namespace switchyard::orchestrator::api
