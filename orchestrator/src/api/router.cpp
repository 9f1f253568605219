#include "api/router.hpp"

namespace switchyard::orchestrator::api {
namespace {

std::vector<std::string> PathSegments(std::string_view path) {
  std::vector<std::string> segments;
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::size_t start = path.empty() || path[0] != '/' ? 0 : 1;
  while (start <= path.size() && !path.empty()) {
    const std::size_t slash = path.find('/', start);
    segments.emplace_back(
        path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

}  // namespace

std::optional<std::string> ApiCall::Query(const std::string& name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return std::nullopt;
}

const std::string& ApiCall::Param(const std::string& name) const {
  static const std::string kEmpty;
  const auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

void Router::AddRest(std::string method, std::string pattern, std::string operation,
                     ApiHandler handler) {
  rest_.push_back(RestRoute{std::move(method), PathSegments(pattern), std::move(operation),
                            std::move(handler)});
}

void Router::AddJson10(std::string target, ApiHandler handler) {
  std::string operation = target.substr(target.rfind('.') + 1);
  json10_[std::move(target)] = {std::move(operation), std::move(handler)};
}

Protocol Router::ProtocolOf(const HttpRequest& request) const {
  return request.Header("x-amz-target") ? Protocol::kJson10 : Protocol::kRestJson;
}

Router::Match Router::Resolve(const HttpRequest& request) const {
  Match match;
  match.call.query = ParseQuery(request.query);
  if (const std::string* target = request.Header("x-amz-target")) {
    match.call.protocol = Protocol::kJson10;
    const auto it = json10_.find(*target);
    if (it == json10_.end() || request.method != "POST") {
      match.error =
          Json10Error(400, "UnknownOperationException", "Unknown operation '" + *target + "'");
      return match;
    }
    match.call.operation = it->second.first;
    match.handler = &it->second.second;
    return match;
  }
  match.call.protocol = Protocol::kRestJson;
  const std::vector<std::string> segments = PathSegments(request.path);
  bool path_known = false;
  for (const RestRoute& route : rest_) {
    if (route.segments.size() != segments.size()) continue;
    std::map<std::string, std::string> params;
    bool matched = true;
    for (std::size_t i = 0; i < segments.size() && matched; ++i) {
      const std::string& want = route.segments[i];
      if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
        if (segments[i].empty()) matched = false;
        params[want.substr(1, want.size() - 2)] = PercentDecode(segments[i]);
      } else if (want != segments[i]) {
        matched = false;
      }
    }
    if (!matched) continue;
    path_known = true;
    if (route.method != request.method) continue;
    match.call.operation = route.operation;
    match.call.params = std::move(params);
    match.handler = &route.handler;
    return match;
  }
  match.error =
      path_known
          ? RestJsonError(405, "MethodNotAllowedException",
                          "The method " + request.method + " is not allowed on " + request.path)
          : RestJsonError(404, "UnknownOperationException",
                          "Unknown operation " + request.method + " " + request.path);
  return match;
}

}  // namespace switchyard::orchestrator::api
