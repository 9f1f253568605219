#pragma once
// AWS's error shapes, one per wire protocol. Plain functions; thread-safe.
//   JSON 1.0 (Step Functions): {"__type": <type>, "message": <text>},
//     Content-Type application/x-amz-json-1.0.
//   REST-JSON (Lambda): header x-amzn-ErrorType: <type>; body {"Type": "User"|"Service",
//     "message": <text>} for the service's own exceptions, {"message": <text>} for the
//     front end's (authentication) errors.
#include <string>
#include <string_view>

#include "api/http.hpp"

namespace switchyard::orchestrator::api {

enum class Protocol { kJson10, kRestJson };

inline constexpr std::string_view kJson10ContentType = "application/x-amz-json-1.0";

// JSON-quotes `text` (with the quotes).
std::string JsonQuote(std::string_view text);

HttpResponse Json10Error(int status, std::string_view type, std::string_view message);

// `fault` is "User" or "Service"; empty leaves "Type" out (front-end errors).
HttpResponse RestJsonError(int status, std::string_view type, std::string_view message,
                           std::string_view fault = "User");

// The error in the protocol's shape; authentication errors (fault empty for REST-JSON).
HttpResponse ProtocolError(Protocol protocol, int status, std::string_view type,
                           std::string_view message, bool front_end = false);

}  // namespace switchyard::orchestrator::api
