#include "api/aws_error.hpp"

#include "switchyard/asl/json.hpp"

namespace switchyard::orchestrator::api {

std::string JsonQuote(std::string_view text) {
  std::string out;
  asl::AppendJsonString(out, text);  // DumpJson's escapes; ill-formed UTF-8 becomes U+FFFD
  return out;
}

HttpResponse Json10Error(int status, std::string_view type, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.content_type = std::string(kJson10ContentType);
  response.body = "{\"__type\":" + JsonQuote(type) + ",\"message\":" + JsonQuote(message) + "}";
  return response;
}

HttpResponse RestJsonError(int status, std::string_view type, std::string_view message,
                           std::string_view fault) {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("x-amzn-ErrorType", std::string(type));
  if (fault.empty()) {
    response.body = "{\"message\":" + JsonQuote(message) + "}";
  } else {
    response.body = "{\"Type\":" + JsonQuote(fault) + ",\"message\":" + JsonQuote(message) + "}";
  }
  return response;
}

HttpResponse ProtocolError(Protocol protocol, int status, std::string_view type,
                           std::string_view message, bool front_end) {
  if (protocol == Protocol::kJson10) return Json10Error(status, type, message);
  return RestJsonError(status, type, message,
                       front_end ? "" : (status >= 500 ? "Service" : "User"));
}

}  // namespace switchyard::orchestrator::api
