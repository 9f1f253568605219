// SigV4: each step against AWS's published example (General Reference, "Signature Version 4
// signing process": IAM ListUsers on 2015-08-30 with the documentation's example key), the
// test suite's get-vanilla request, and verification outcomes with AWS's error types.
#include <gtest/gtest.h>

#include <chrono>

#include "api/sigv4.hpp"

namespace api = switchyard::orchestrator::api;

namespace {

constexpr const char* kKeyId = "AKIDEXAMPLE";
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr const char* kEmptyHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string Hex(const std::string& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

api::HttpRequest IamListUsers() {
  api::HttpRequest request;
  request.method = "GET";
  request.path = "/";
  request.query = "Action=ListUsers&Version=2010-05-08";
  request.headers = {{"host", "iam.amazonaws.com"},
                     {"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
                     {"x-amz-date", "20150830T123600Z"}};
  return request;
}

std::chrono::system_clock::time_point At(int64_t epoch_seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(epoch_seconds));
}
constexpr int64_t k20150830T123600Z = 1440938160;

// Signs `request` as botocore does (all present headers signed) with the given key.
void Sign(api::HttpRequest* request, const std::string& key_id, const std::string& secret,
          const std::string& service = "lambda") {
  std::string signed_headers;
  std::vector<std::string> names;
  for (const auto& [name, value] : request->headers) names.push_back(name);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) signed_headers += (signed_headers.empty() ? "" : ";") + name;
  const std::string date = *request->Header("x-amz-date");
  const std::string scope = date.substr(0, 8) + "/us-east-1/" + service + "/aws4_request";
  const std::string canonical =
      api::CanonicalRequest(*request, signed_headers, api::HexSha256(request->body));
  const std::string signature =
      api::HexSignature(api::SigningKey(secret, date.substr(0, 8), "us-east-1", service),
                        api::StringToSign(date, scope, canonical));
  request->headers.emplace_back("authorization", "AWS4-HMAC-SHA256 Credential=" + key_id + "/" +
                                                     scope + ", SignedHeaders=" + signed_headers +
                                                     ", Signature=" + signature);
}

}  // namespace

TEST(SigV4, CanonicalRequestOfThePublishedExample) {
  EXPECT_EQ(api::CanonicalRequest(IamListUsers(), "content-type;host;x-amz-date", kEmptyHash),
            "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
            "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
            "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "content-type;host;x-amz-date\n" +
                std::string(kEmptyHash));
  EXPECT_EQ(api::HexSha256(
                api::CanonicalRequest(IamListUsers(), "content-type;host;x-amz-date", kEmptyHash)),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
}

TEST(SigV4, SigningKeyAndSignatureOfThePublishedExample) {
  const std::string key = api::SigningKey(kSecret, "20150830", "us-east-1", "iam");
  EXPECT_EQ(Hex(key), "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
  const std::string to_sign = api::StringToSign(
      "20150830T123600Z", "20150830/us-east-1/iam/aws4_request",
      api::CanonicalRequest(IamListUsers(), "content-type;host;x-amz-date", kEmptyHash));
  EXPECT_EQ(to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  EXPECT_EQ(api::HexSignature(key, to_sign),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

TEST(SigV4, PublishedExampleVerifies) {
  api::HttpRequest request = IamListUsers();
  request.headers.emplace_back(
      "authorization",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date, "
      "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
  const auto verdict = api::VerifySigV4(request, {{kKeyId, kSecret}}, At(k20150830T123600Z + 60));
  EXPECT_TRUE(verdict.ok) << verdict.error_type << ": " << verdict.message;
  EXPECT_EQ(verdict.access_key_id, kKeyId);
}

TEST(SigV4, TestSuiteGetVanilla) {
  api::HttpRequest request;
  request.method = "GET";
  request.path = "/";
  request.headers = {{"host", "example.amazonaws.com"}, {"x-amz-date", "20150830T123600Z"}};
  const std::string canonical = api::CanonicalRequest(request, "host;x-amz-date", kEmptyHash);
  EXPECT_EQ(canonical,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n" +
                std::string(kEmptyHash));
  EXPECT_EQ(
      api::HexSignature(api::SigningKey(kSecret, "20150830", "us-east-1", "service"),
                        api::StringToSign("20150830T123600Z",
                                          "20150830/us-east-1/service/aws4_request", canonical)),
      "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, QueryIsSortedAndReencodedHeadersTrimmed) {
  api::HttpRequest request;
  request.method = "GET";
  request.path = "/2015-03-31/functions/";
  request.query = "MaxItems=2&Marker=a%2Bb%3D&FunctionVersion=ALL";
  request.headers = {{"host", "h"}, {"x-amz-date", "20150830T123600Z"}, {"x-a", "  one   two  "}};
  EXPECT_EQ(api::CanonicalRequest(request, "host;x-a", kEmptyHash),
            "GET\n/2015-03-31/functions/\nFunctionVersion=ALL&Marker=a%2Bb%3D&MaxItems=2\n"
            "host:h\nx-a:one two\n\nhost;x-a\n" +
                std::string(kEmptyHash));
}

TEST(SigV4, PathIsEncodedAgainAsNonS3ServicesSignIt) {
  // botocore sends "arn%3Aaws..." and signs the encoding of that: "%253A".
  EXPECT_EQ(api::SigV4Encode("/2015-03-31/functions/arn%3Aaws%3Alambda/invocations", true),
            "/2015-03-31/functions/arn%253Aaws%253Alambda/invocations");
  EXPECT_EQ(api::SigV4Encode("a b~/", false), "a%20b~%2F");
}

TEST(SigV4, SignedLambdaRequestVerifies) {
  api::HttpRequest request;
  request.method = "POST";
  request.path =
      "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction"
      "%3Ahello/invocations";
  request.query = "Qualifier=%24LATEST";
  request.body = "{\"a\":1}";
  request.headers = {{"host", "127.0.0.1:8083"}, {"x-amz-date", "20150830T123600Z"}};
  Sign(&request, kKeyId, kSecret);
  const auto verdict = api::VerifySigV4(request, {{kKeyId, kSecret}}, At(k20150830T123600Z));
  EXPECT_TRUE(verdict.ok) << verdict.message;
}

TEST(SigV4, WrongSecretIsInvalidSignature) {
  api::HttpRequest request = IamListUsers();
  Sign(&request, kKeyId, "not-the-secret");
  const auto verdict = api::VerifySigV4(request, {{kKeyId, kSecret}}, At(k20150830T123600Z));
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(verdict.status, 403);
  EXPECT_EQ(verdict.error_type, "InvalidSignatureException");
  EXPECT_EQ(verdict.message,
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.");
}

TEST(SigV4, ChangedBodyIsInvalidSignature) {
  api::HttpRequest request = IamListUsers();
  Sign(&request, kKeyId, kSecret);
  request.body = "tampered";
  const auto verdict = api::VerifySigV4(request, {{kKeyId, kSecret}}, At(k20150830T123600Z));
  EXPECT_EQ(verdict.error_type, "InvalidSignatureException");
}

TEST(SigV4, UnknownKeyIsUnrecognizedClient) {
  api::HttpRequest request = IamListUsers();
  Sign(&request, "AKIDOTHER", kSecret);
  const auto verdict = api::VerifySigV4(request, {{kKeyId, kSecret}}, At(k20150830T123600Z));
  EXPECT_EQ(verdict.status, 403);
  EXPECT_EQ(verdict.error_type, "UnrecognizedClientException");
  EXPECT_EQ(verdict.message, "The security token included in the request is invalid.");
}

TEST(SigV4, RequestOlderThanFifteenMinutesIsExpired) {
  api::HttpRequest request = IamListUsers();
  Sign(&request, kKeyId, kSecret);
  const auto verdict =
      api::VerifySigV4(request, {{kKeyId, kSecret}}, At(k20150830T123600Z + 15 * 60 + 1));
  EXPECT_EQ(verdict.status, 403);
  EXPECT_EQ(verdict.error_type, "InvalidSignatureException");
  EXPECT_EQ(verdict.message,
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z "
            "(20150830T125101Z - 15 min.)");
  // Exactly 15 minutes is still accepted.
  EXPECT_TRUE(api::VerifySigV4(request, {{kKeyId, kSecret}}, At(k20150830T123600Z + 15 * 60)).ok);
}

TEST(SigV4, RequestFromTheFutureIsNotYetCurrent) {
  api::HttpRequest request = IamListUsers();
  Sign(&request, kKeyId, kSecret);
  const auto verdict =
      api::VerifySigV4(request, {{kKeyId, kSecret}}, At(k20150830T123600Z - 16 * 60));
  EXPECT_EQ(verdict.error_type, "InvalidSignatureException");
  EXPECT_EQ(verdict.message.rfind("Signature not yet current: 20150830T123600Z", 0), 0u)
      << verdict.message;
}

TEST(SigV4, MissingOrMalformedAuthorization) {
  api::HttpRequest request = IamListUsers();
  auto verdict = api::VerifySigV4(request, {{kKeyId, kSecret}}, At(k20150830T123600Z));
  EXPECT_EQ(verdict.status, 403);
  EXPECT_EQ(verdict.error_type, "MissingAuthenticationTokenException");
  request.headers.emplace_back("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x");
  verdict = api::VerifySigV4(request, {{kKeyId, kSecret}}, At(k20150830T123600Z));
  EXPECT_EQ(verdict.status, 400);
  EXPECT_EQ(verdict.error_type, "IncompleteSignatureException");
}

TEST(CredentialsFile, EveryProfilesPairIsAccepted) {
  std::string error;
  const auto credentials = api::ParseCredentialsFile(
      "# comment\n[default]\naws_access_key_id = AK1\naws_secret_access_key=S1\n"
      "region = us-east-1\n\n[other]\n  aws_access_key_id=AK2  \naws_secret_access_key = S2\n"
      "[empty]\n",
      &error);
  ASSERT_TRUE(credentials) << error;
  EXPECT_EQ(credentials->size(), 2u);
  EXPECT_EQ(credentials->at("AK1"), "S1");
  EXPECT_EQ(credentials->at("AK2"), "S2");
}

TEST(CredentialsFile, IncompleteProfileOrNoKeysIsAnError) {
  std::string error;
  EXPECT_FALSE(api::ParseCredentialsFile("[p]\naws_access_key_id=AK\n", &error));
  EXPECT_EQ(error, "profile [p] has aws_access_key_id without aws_secret_access_key");
  EXPECT_FALSE(api::ParseCredentialsFile("[p]\nregion=x\n", &error));
  EXPECT_EQ(error, "no profile with aws_access_key_id and aws_secret_access_key");
  EXPECT_FALSE(api::LoadCredentialsFile("/nonexistent/credentials", &error));
  EXPECT_EQ(error, "cannot read credentials file '/nonexistent/credentials'");
}
