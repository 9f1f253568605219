// Lambda's event-source-mapping operations for SQS sources, shaped as the Lambda API reference
// shapes them (EventSourceMappingConfiguration).
#include "api/lambda_esm.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <random>

#include "api/aws_error.hpp"
#include "api/function_registry.hpp"
#include "api/lambda_common.hpp"
#include "api/router.hpp"
#include "api/work_pool.hpp"
#include "store/queue_store.hpp"

namespace switchyard::orchestrator::api {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

std::string NewUuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) id.push_back('-');
    uint64_t digit = rng() & 15;
    if (i == 12) digit = 4;
    if (i == 16) digit = 8 | (digit & 3);
    id.push_back(kHex[digit]);
  }
  return id;
}

HttpResponse NotFound() {
  return RestJsonError(404, "ResourceNotFoundException",
                       "The resource you requested does not exist.");
}

struct Context {
  store::QueueStore& queues;
  FunctionRegistry& functions;
  std::string region;
  std::string account_id;
};

std::string Render(const Context& context, const store::MappingRow& row, const char* state) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  auto str = [&](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  str("UUID", row.uuid);
  w.Key("BatchSize");
  w.Int64(row.batch_size);
  w.Key("MaximumBatchingWindowInSeconds");
  w.Int64(row.batching_window);
  str("EventSourceArn", row.event_source_arn);
  str("FunctionArn", row.function_arn);
  w.Key("LastModified");
  w.Double(row.last_modified);
  str("LastProcessingResult", row.last_result.empty() ? "No records processed" : row.last_result);
  str("State", state ? state : (row.enabled ? "Enabled" : "Disabled"));
  str("StateTransitionReason", "USER_INITIATED");
  w.Key("FunctionResponseTypes");
  w.StartArray();
  if (row.report_batch_item_failures) w.String("ReportBatchItemFailures");
  w.EndArray();
  if (row.max_concurrency > 0) {
    w.Key("ScalingConfig");
    w.StartObject();
    w.Key("MaximumConcurrency");
    w.Int64(row.max_concurrency);
    w.EndObject();
  }
  str("EventSourceMappingArn", "arn:aws:lambda:" + context.region + ":" + context.account_id +
                                   ":event-source-mapping:" + row.uuid);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// FunctionName forms: name, name:qualifier, account:function:name[:q], full ARN. Returns the
// function's ARN, or an error answer.
bool ResolveFunction(const Context& context, const std::string& given, std::string* arn,
                     HttpResponse* error) {
  std::string text = given;
  if (text.rfind("arn:", 0) == 0) {
    // arn:aws:lambda:region:account:function:name[:qualifier]
    std::size_t pos = 0;
    for (int i = 0; i < 6 && pos != std::string::npos; ++i) pos = text.find(':', pos + 1);
    text = pos == std::string::npos ? std::string() : text.substr(pos + 1);
  } else if (const std::size_t marker = text.find(":function:"); marker != std::string::npos) {
    text = text.substr(marker + 10);
  }
  std::string name = text;
  std::string qualifier;
  if (const std::size_t colon = text.find(':'); colon != std::string::npos) {
    name = text.substr(0, colon);
    qualifier = text.substr(colon + 1);
  }
  const std::string full = "arn:aws:lambda:" + context.region + ":" + context.account_id +
                           ":function:" + name + (qualifier.empty() ? "" : ":" + qualifier);
  const auto record = name.empty() ? std::nullopt : context.functions.Get(name);
  bool known = record.has_value();
  if (known && !qualifier.empty() && qualifier != kLatestVersion) {
    known = record->aliases.count(qualifier) > 0;
    for (const auto& [number, version] : record->versions) {
      if (std::to_string(number) == qualifier) known = true;
    }
  }
  if (!known) {
    *error = RestJsonError(404, "ResourceNotFoundException", "Function not found: " + full);
    return false;
  }
  *arn = full;
  return true;
}

// Reads the settable members into `row` (absent members keep their values).
bool ReadSettings(const rapidjson::Value& doc, store::MappingRow* row, HttpResponse* error) {
  std::optional<int64_t> batch, window;
  if (!GetInt(doc, "BatchSize", &batch, error)) return false;
  if (!GetInt(doc, "MaximumBatchingWindowInSeconds", &window, error)) return false;
  if (batch) {
    if (*batch < 1 || *batch > 10000) {
      *error = InvalidParameter("BatchSize must be between 1 and 10000 for an SQS event source.");
      return false;
    }
    row->batch_size = *batch;
  }
  if (window) {
    if (*window < 0 || *window > 300) {
      *error = InvalidParameter("MaximumBatchingWindowInSeconds must be between 0 and 300.");
      return false;
    }
    row->batching_window = *window;
  }
  if (const rapidjson::Value* enabled = Member(doc, "Enabled")) {
    if (!enabled->IsBool()) {
      *error = InvalidParameter("Enabled must be a boolean.");
      return false;
    }
    row->enabled = enabled->GetBool();
  }
  if (const rapidjson::Value* scaling = Member(doc, "ScalingConfig")) {
    std::optional<int64_t> max;
    if (!scaling->IsObject() || !GetInt(*scaling, "MaximumConcurrency", &max, error)) {
      if (error->body.empty()) *error = InvalidParameter("ScalingConfig must be an object.");
      return false;
    }
    if (max && (*max < 2 || *max > 1000)) {
      *error = RestJsonError(400, "ValidationException",
                             "1 validation error detected: Value '" + std::to_string(*max) +
                                 "' at 'scalingConfig.maximumConcurrency' failed to satisfy "
                                 "constraint: Member must have value between 2 and 1000");
      return false;
    }
    row->max_concurrency = max.value_or(0);
  }
  if (const rapidjson::Value* types = Member(doc, "FunctionResponseTypes")) {
    if (!types->IsArray()) {
      *error = InvalidParameter("FunctionResponseTypes must be a list.");
      return false;
    }
    row->report_batch_item_failures = false;
    for (const auto& type : types->GetArray()) {
      if (!type.IsString() || std::string(type.GetString()) != "ReportBatchItemFailures") {
        *error = RestJsonError(400, "ValidationException",
                               "1 validation error detected: Value at 'functionResponseTypes' "
                               "failed to satisfy constraint: Member must satisfy enum value "
                               "set: [ReportBatchItemFailures]");
        return false;
      }
      row->report_batch_item_failures = true;
    }
  }
  if (row->batch_size > 10 && row->batching_window < 1) {
    *error = InvalidParameter(
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
        "greater than 10");
    return false;
  }
  return true;
}

bool ParseBody(const ApiCall& call, rapidjson::Document* doc, HttpResponse* error) {
  const std::string& body = call.request.body;
  doc->Parse(body.empty() ? "{}" : body.c_str(), body.empty() ? 2 : body.size());
  if (doc->HasParseError() || !doc->IsObject()) {
    *error = RestJsonError(400, "InvalidRequestContentException",
                           "Could not parse request body into json");
    return false;
  }
  return true;
}

// The queue an SQS ARN names, or an error answer.
bool CheckQueue(const Context& context, const std::string& arn, store::QueueRow* queue,
                HttpResponse* error) {
  const std::string prefix = "arn:aws:sqs:";
  const std::size_t colon = arn.rfind(':');
  std::optional<store::QueueRow> row;
  if (arn.rfind(prefix, 0) == 0 && colon != std::string::npos) {
    row = context.queues.GetQueue(arn.substr(colon + 1));
  }
  if (!row) {
    *error = InvalidParameter(
        "Error occurred while ReceiveMessage. SQS Error Code: "
        "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does "
        "not exist.");
    return false;
  }
  *queue = *row;
  return true;
}

bool CheckTimeouts(const Context& context, const store::QueueRow& queue,
                   const std::string& function_arn, HttpResponse* error) {
  std::string name = function_arn.substr(function_arn.find(":function:") + 10);
  name = name.substr(0, name.find(':'));
  const auto record = context.functions.Get(name);
  if (!record) return true;
  int64_t visibility = 30;
  if (const auto it = queue.attributes.find("VisibilityTimeout"); it != queue.attributes.end()) {
    visibility = std::stoll(it->second);
  }
  const int64_t timeout = record->latest.config.timeout_seconds;
  if (visibility < timeout) {
    *error = InvalidParameter("Queue visibility timeout: " + std::to_string(visibility) +
                              " seconds is less than Function timeout: " + std::to_string(timeout) +
                              " seconds");
    return false;
  }
  return true;
}

HttpResponse Create(const Context& context, const ApiCall& call) {
  rapidjson::Document doc;
  HttpResponse error;
  if (!ParseBody(call, &doc, &error)) return error;
  const rapidjson::Value* source = Member(doc, "EventSourceArn");
  const rapidjson::Value* function = Member(doc, "FunctionName");
  if (!function || !function->IsString()) {
    return InvalidParameter("FunctionName is required.");
  }
  if (!source || !source->IsString()) {
    return InvalidParameter("Unrecognized event source, must be kinesis, dynamodb stream or sqs.");
  }
  store::MappingRow row;
  row.uuid = NewUuid();
  row.event_source_arn = source->GetString();
  if (!ResolveFunction(context, function->GetString(), &row.function_arn, &error)) return error;
  store::QueueRow queue;
  if (!CheckQueue(context, row.event_source_arn, &queue, &error)) return error;
  if (!ReadSettings(doc, &row, &error)) return error;
  if (!CheckTimeouts(context, queue, row.function_arn, &error)) return error;
  for (const auto& existing :
       context.queues.ListMappings(row.event_source_arn, row.function_arn, "", 1)) {
    return RestJsonError(409, "ResourceConflictException",
                         "An event source mapping with SQS arn (\" " + row.event_source_arn +
                             " \") and function (\" " + row.function_arn +
                             " \") already exists. Please update or delete the existing mapping "
                             "with UUID " +
                             existing.uuid);
  }
  context.queues.PutMapping(row);
  const auto stored = context.queues.GetMapping(row.uuid);
  return Ok(202, Render(context, stored ? *stored : row, "Creating"));
}

HttpResponse Get(const Context& context, const ApiCall& call) {
  const auto row = context.queues.GetMapping(call.Param("UUID"));
  if (!row) return NotFound();
  return Ok(200, Render(context, *row, nullptr));
}

HttpResponse Update(const Context& context, const ApiCall& call) {
  auto row = context.queues.GetMapping(call.Param("UUID"));
  if (!row) return NotFound();
  rapidjson::Document doc;
  HttpResponse error;
  if (!ParseBody(call, &doc, &error)) return error;
  const bool was_enabled = row->enabled;
  if (const rapidjson::Value* function = Member(doc, "FunctionName")) {
    if (!function->IsString()) return InvalidParameter("FunctionName must be a string.");
    if (!ResolveFunction(context, function->GetString(), &row->function_arn, &error)) {
      return error;
    }
  }
  if (!ReadSettings(doc, &*row, &error)) return error;
  context.queues.PutMapping(*row);
  const auto stored = context.queues.GetMapping(row->uuid);
  const char* state = "Updating";
  if (was_enabled != row->enabled) state = row->enabled ? "Enabling" : "Disabling";
  return Ok(202, Render(context, stored ? *stored : *row, state));
}

HttpResponse Delete(const Context& context, const ApiCall& call) {
  const auto row = context.queues.GetMapping(call.Param("UUID"));
  if (!row || !context.queues.DeleteMapping(row->uuid)) return NotFound();
  return Ok(202, Render(context, *row, "Deleting"));
}

HttpResponse List(const Context& context, const ApiCall& call) {
  std::string function_arn;
  HttpResponse error;
  if (const auto name = call.Query("FunctionName"); name && !name->empty()) {
    if (!ResolveFunction(context, *name, &function_arn, &error)) return error;
  }
  int64_t max_items = 100;
  if (const auto text = call.Query("MaxItems")) {
    try {
      max_items = std::stoll(*text);
    } catch (const std::exception&) {
      max_items = 0;
    }
    if (max_items < 1 || max_items > 10000) {
      return InvalidParameter("MaxItems must be between 1 and 10000.");
    }
  }
  const std::string marker = call.Query("Marker").value_or("");
  auto rows = context.queues.ListMappings(call.Query("EventSourceArn").value_or(""), function_arn,
                                          marker, max_items + 1);
  const bool more = static_cast<int64_t>(rows.size()) > max_items;
  if (more) rows.resize(static_cast<std::size_t>(max_items));
  std::string body = "{\"EventSourceMappings\":[";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i > 0) body += ',';
    body += Render(context, rows[i], nullptr);
  }
  body += "]";
  if (more) body += ",\"NextMarker\":" + JsonQuote(rows.back().uuid);
  body += "}";
  return Ok(200, std::move(body));
}

}  // namespace

void RegisterEventSourceMappings(Router& router, WorkPool& control, store::QueueStore& queues,
                                 FunctionRegistry& functions, const std::string& region,
                                 const std::string& account_id) {
  auto context = std::make_shared<Context>(Context{queues, functions, region, account_id});
  auto add = [&](const char* method, const char* pattern, const char* operation,
                 HttpResponse (*handler)(const Context&, const ApiCall&)) {
    router.AddRest(
        method, pattern, operation, [context, &control, handler](ApiCall call, Respond respond) {
          control.Post([context, handler, call = std::move(call), respond = std::move(respond)] {
            try {
              respond(handler(*context, call));
            } catch (const std::exception& e) {
              respond(RestJsonError(500, "ServiceException", e.what(), "Service"));
            }
          });
        });
  };
  add("POST", "/2015-03-31/event-source-mappings", "CreateEventSourceMapping", &Create);
  add("GET", "/2015-03-31/event-source-mappings", "ListEventSourceMappings", &List);
  add("GET", "/2015-03-31/event-source-mappings/{UUID}", "GetEventSourceMapping", &Get);
  add("PUT", "/2015-03-31/event-source-mappings/{UUID}", "UpdateEventSourceMapping", &Update);
  add("DELETE", "/2015-03-31/event-source-mappings/{UUID}", "DeleteEventSourceMapping", &Delete);
}

}  // namespace switchyard::orchestrator::api
