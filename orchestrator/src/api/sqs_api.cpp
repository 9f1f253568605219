// Amazon SQS operations. Names, limits, error codes and messages follow the SQS API reference;
// each operation is written once over the JSON request and answer (see sqs_api.hpp).
#include "api/sqs_api.hpp"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <random>
#include <set>
#include <thread>
#include <variant>
#include <vector>

#include "api/aws_error.hpp"
#include "api/router.hpp"
#include "api/work_pool.hpp"
#include "store/queue_store.hpp"

namespace switchyard::orchestrator::api {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using rapidjson::Value;

constexpr std::string_view kXmlns = "http://queue.amazonaws.com/doc/2012-11-05/";
constexpr int64_t kMaxMessageSizeLimit = 1048576;
constexpr std::chrono::milliseconds kQueueCacheTtl{1000};
constexpr std::chrono::milliseconds kPollInterval{200};

struct SqsError {
  std::string code;        // the JSON protocol's name (__type after '#')
  std::string query_code;  // the query protocol's code (x-amzn-query-error)
  std::string message;
  int status = 400;
  bool sender = true;
};

SqsError NonExistentQueue() {
  return {"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
          "The specified queue does not exist."};
}
SqsError InvalidParameterValue(std::string message) {
  return {"InvalidParameterValue", "InvalidParameterValue", std::move(message)};
}
SqsError MissingParameter(const std::string& name) {
  return {"MissingParameter", "MissingParameter",
          "The request must contain the parameter " + name + "."};
}
SqsError InvalidAttributeName(const std::string& name) {
  return {"InvalidAttributeName", "InvalidAttributeName", "Unknown Attribute " + name + "."};
}
SqsError InvalidAttributeValue(const std::string& name, const std::string& reason = {}) {
  return {"InvalidAttributeValue", "InvalidAttributeValue",
          "Invalid value for the parameter " + name + "." +
              (reason.empty() ? std::string() : " Reason: " + reason)};
}
SqsError ReceiptHandleIsInvalid(const std::string& handle) {
  return {"ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid",
          "The input receipt handle \"" + handle + "\" is not a valid receipt handle."};
}
SqsError InvalidValue(const std::string& name, const std::string& value,
                      const std::string& reason) {
  return InvalidParameterValue("Value " + value + " for parameter " + name +
                               " is invalid. Reason: " + reason);
}

using Outcome = std::variant<std::string, SqsError>;  // a JSON answer, or the error

// ---- hashing and encodings --------------------------------------------------------------------

std::string Hex(const unsigned char* bytes, std::size_t size) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 15]);
  }
  return out;
}

std::string Md5Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_md5(), nullptr);
  return Hex(digest, size);
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  return Hex(digest, size);
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int size = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                   reinterpret_cast<const unsigned char*>(text.data()),
                                   static_cast<int>(text.size()));
  if (size < 0) return std::nullopt;
  std::size_t length = static_cast<std::size_t>(size);
  if (!text.empty() && text.back() == '=') --length;
  if (text.size() > 1 && text[text.size() - 2] == '=') --length;
  out.resize(length);
  return out;
}

void AppendLength(std::string& out, std::size_t size) {
  const auto n = static_cast<uint32_t>(size);
  out.push_back(static_cast<char>((n >> 24) & 0xff));
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
}

// A message attribute as validated: the value's bytes (binary decoded) for the MD5.
struct MessageAttribute {
  std::string data_type;
  std::string string_value;
  std::string binary_base64;
  std::string binary;
  bool is_binary = false;
};

// SQS's MD5OfMessageAttributes: over the attributes sorted by name, each as length-prefixed
// name, length-prefixed data type, a transport byte (1 string/number, 2 binary), and the
// length-prefixed value.
std::string Md5OfAttributes(const std::map<std::string, MessageAttribute>& attributes) {
  std::string buffer;
  for (const auto& [name, attribute] : attributes) {
    AppendLength(buffer, name.size());
    buffer += name;
    AppendLength(buffer, attribute.data_type.size());
    buffer += attribute.data_type;
    const std::string& value = attribute.is_binary ? attribute.binary : attribute.string_value;
    buffer.push_back(attribute.is_binary ? '\2' : '\1');
    AppendLength(buffer, value.size());
    buffer += value;
  }
  return Md5Hex(buffer);
}

// SQS accepts #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
bool ValidMessageText(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 && c != 0x9 && c != 0xA && c != 0xD) return false;
    if (c == 0xEF && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xBF &&
        static_cast<unsigned char>(text[i + 2]) >= 0xBE) {
      return false;  // U+FFFE, U+FFFF
    }
  }
  return true;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\r':
        out += "&#xD;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// ---- request members ----------------------------------------------------------------------------

const Value* Find(const Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

std::optional<std::string> Str(const Value& object, const char* name) {
  const Value* value = Find(object, name);
  if (!value) return std::nullopt;
  if (value->IsString()) return std::string(value->GetString(), value->GetStringLength());
  if (value->IsInt64()) return std::to_string(value->GetInt64());
  if (value->IsBool()) return std::string(value->GetBool() ? "true" : "false");
  return std::nullopt;
}

bool ParseInt64(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// An integer member (a JSON number, or the query protocol's text). Absent: nullopt.
std::optional<SqsError> Int(const Value& object, const char* name, std::optional<int64_t>* out) {
  const Value* value = Find(object, name);
  if (!value) return std::nullopt;
  int64_t number = 0;
  if (value->IsInt64()) {
    number = value->GetInt64();
  } else if (!value->IsString() ||
             !ParseInt64(std::string_view(value->GetString(), value->GetStringLength()), &number)) {
    return InvalidParameterValue("Value " + Str(object, name).value_or("") + " for parameter " +
                                 name + " is invalid. Reason: must be an integer.");
  }
  *out = number;
  return std::nullopt;
}

std::vector<std::string> StrList(const Value& object, const char* name) {
  std::vector<std::string> out;
  const Value* value = Find(object, name);
  if (!value || !value->IsArray()) return out;
  for (const auto& item : value->GetArray()) {
    if (item.IsString()) out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return out;
}

std::map<std::string, std::string> StrMap(const Value& object, const char* name) {
  std::map<std::string, std::string> out;
  const Value* value = Find(object, name);
  if (!value || !value->IsObject()) return out;
  for (const auto& member : value->GetObject()) {
    std::string text;
    if (member.value.IsString()) {
      text.assign(member.value.GetString(), member.value.GetStringLength());
    } else if (member.value.IsInt64()) {
      text = std::to_string(member.value.GetInt64());
    } else if (member.value.IsBool()) {
      text = member.value.GetBool() ? "true" : "false";
    }
    out[member.name.GetString()] = text;
  }
  return out;
}

void W(Writer& w, const char* key, std::string_view value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

// An answer: one JSON object whose members `members(w)` writes.
template <class Members>
std::string JsonObject(Members&& members) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  members(w);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// A map of strings as the member `key` (Attributes, Tags); nothing when empty, as SQS.
void WriteStringMap(Writer& w, const char* key, const std::map<std::string, std::string>& values) {
  if (values.empty()) return;
  w.Key(key);
  w.StartObject();
  for (const auto& [name, value] : values) W(w, name.c_str(), value);
  w.EndObject();
}

// ---- queue attributes -------------------------------------------------------------------------

struct AttributeRule {
  const char* name;
  int64_t min;
  int64_t max;  // min > max: not a number
};
constexpr AttributeRule kAttributeRules[] = {
    {"DelaySeconds", 0, 900},
    {"MaximumMessageSize", 1024, kMaxMessageSizeLimit},
    {"MessageRetentionPeriod", 60, 1209600},
    {"ReceiveMessageWaitTimeSeconds", 0, 20},
    {"VisibilityTimeout", 0, 43200},
    {"KmsDataKeyReusePeriodSeconds", 60, 86400},
    {"Policy", 1, 0},
    {"RedrivePolicy", 1, 0},
    {"RedriveAllowPolicy", 1, 0},
    {"KmsMasterKeyId", 1, 0},
    {"SqsManagedSseEnabled", 1, 0},
    {"FifoQueue", 1, 0},
    {"ContentBasedDeduplication", 1, 0},
    {"DeduplicationScope", 1, 0},
    {"FifoThroughputLimit", 1, 0},
};

std::map<std::string, std::string> DefaultAttributes(bool fifo) {
  std::map<std::string, std::string> attributes = {
      {"DelaySeconds", "0"},
      {"MaximumMessageSize", "262144"},
      {"MessageRetentionPeriod", "345600"},
      {"ReceiveMessageWaitTimeSeconds", "0"},
      {"VisibilityTimeout", "30"},
      {"SqsManagedSseEnabled", "true"},
  };
  if (fifo) {
    attributes["FifoQueue"] = "true";
    attributes["ContentBasedDeduplication"] = "false";
    attributes["DeduplicationScope"] = "queue";
    attributes["FifoThroughputLimit"] = "perQueue";
  }
  return attributes;
}

std::optional<store::Redrive> ParseRedrive(const std::string& text, SqsError* error) {
  if (text.empty()) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  auto bad = [&](const std::string& reason) {
    *error = InvalidAttributeValue("RedrivePolicy", reason);
    return std::nullopt;
  };
  if (doc.HasParseError() || !doc.IsObject()) return bad("Redrive policy is not a valid JSON map.");
  const auto arn = Str(doc, "deadLetterTargetArn");
  if (!arn) return bad("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.");
  std::optional<int64_t> max;
  if (Int(doc, "maxReceiveCount", &max) || !max) {
    return bad("Redrive policy does not contain mandatory attribute: maxReceiveCount.");
  }
  if (*max < 1 || *max > 1000) {
    return bad("Value " + std::to_string(*max) +
               " for parameter maxReceiveCount is invalid. Reason: Must be between 1 and 1000.");
  }
  const std::size_t colon = arn->rfind(':');
  if (arn->rfind("arn:aws:sqs:", 0) != 0 || colon == std::string::npos) {
    return bad("Dead-letter target ARN is not a valid SQS queue ARN: " + *arn);
  }
  return store::Redrive{arn->substr(colon + 1), *max};
}

// Checks attribute names and values for CreateQueue / SetQueueAttributes.
std::optional<SqsError> CheckAttributes(const std::map<std::string, std::string>& attributes,
                                        bool fifo, bool creating) {
  for (const auto& [name, value] : attributes) {
    const AttributeRule* rule = nullptr;
    for (const auto& candidate : kAttributeRules) {
      if (name == candidate.name) rule = &candidate;
    }
    if (!rule) return InvalidAttributeName(name);
    if (rule->min <= rule->max) {
      int64_t number = 0;
      if (!ParseInt64(value, &number) || number < rule->min || number > rule->max) {
        return InvalidAttributeValue(name);
      }
    }
    if (name == "FifoQueue") {
      if (!creating)
        return {
            {"InvalidAttributeName", "InvalidAttributeName", "Invalid attribute name: FifoQueue"}};
      if (value != "true" && value != "false") return InvalidAttributeValue(name);
    }
    if ((name == "ContentBasedDeduplication" || name == "DeduplicationScope" ||
         name == "FifoThroughputLimit") &&
        !fifo) {
      return {{"InvalidAttributeName", "InvalidAttributeName", "Unknown Attribute " + name + "."}};
    }
    if (name == "ContentBasedDeduplication" && value != "true" && value != "false") {
      return InvalidAttributeValue(name);
    }
    if (name == "RedrivePolicy" && !value.empty()) {
      SqsError error;
      if (!ParseRedrive(value, &error) && !error.code.empty()) return error;
    }
  }
  return std::nullopt;
}

bool ValidQueueName(const std::string& name, bool fifo) {
  std::string_view base = name;
  if (fifo) {
    if (base.size() < 5 || base.substr(base.size() - 5) != ".fifo") return false;
    base.remove_suffix(5);
  }
  if (base.empty() || name.size() > 80) return false;
  return std::all_of(base.begin(), base.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

bool ValidBatchId(const std::string& id) {
  if (id.empty() || id.size() > 80) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

// The queue name of a QueueUrl (its last path segment); "" when there is none.
std::string QueueNameOfUrl(std::string_view url) {
  if (const std::size_t scheme = url.find("://"); scheme != std::string_view::npos) {
    url.remove_prefix(scheme + 3);
    const std::size_t slash = url.find('/');
    if (slash == std::string_view::npos) return {};
    url.remove_prefix(slash);
  }
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  const std::size_t last = url.rfind('/');
  return std::string(last == std::string_view::npos ? url : url.substr(last + 1));
}

}  // namespace

// ---- the implementation
// ---------------------------------------------------------------------------

struct SqsApi::Impl {
  store::QueueStore& store;
  std::string region;
  std::string account_id;
  std::mutex mu;
  struct Cached {
    store::QueueRow row;
    std::chrono::steady_clock::time_point until;
  };
  std::map<std::string, Cached> cache;  // Guarded by mu.
  WorkPool* control = nullptr;          // set by Register
  WorkPool* long_running = nullptr;     // set by Register

  Impl(store::QueueStore& s, std::string r, std::string a)
      : store(s), region(std::move(r)), account_id(std::move(a)) {}

  // The request context: where URLs point, and the queue a query request's path names.
  struct Context {
    std::string host;
    std::string path_queue;
  };

  std::string Url(const Context& context, const std::string& name) const {
    return "http://" + context.host + "/" + account_id + "/" + name;
  }
  std::string Arn(const std::string& name) const {
    return "arn:aws:sqs:" + region + ":" + account_id + ":" + name;
  }

  void Forget(const std::string& name) {
    std::lock_guard lock(mu);
    cache.erase(name);
  }

  std::optional<store::QueueRow> Lookup(const std::string& name, bool fresh = false) {
    const auto now = std::chrono::steady_clock::now();
    if (!fresh) {
      std::lock_guard lock(mu);
      const auto it = cache.find(name);
      if (it != cache.end() && it->second.until > now) return it->second.row;
    }
    auto row = store.GetQueue(name);
    std::lock_guard lock(mu);
    if (row) {
      if (cache.size() > 10000) cache.clear();
      cache[name] = Cached{*row, now + kQueueCacheTtl};
    } else {
      cache.erase(name);
    }
    return row;
  }

  // The queue a request names (QueueUrl, else the query request's path).
  std::variant<store::QueueRow, SqsError> Queue(const Value& request, const Context& context,
                                                bool fresh = false) {
    std::string name;
    if (const auto url = Str(request, "QueueUrl")) {
      name = QueueNameOfUrl(*url);
    } else if (!context.path_queue.empty()) {
      name = context.path_queue;
    } else {
      return MissingParameter("QueueUrl");
    }
    if (name.empty()) return NonExistentQueue();
    auto row = Lookup(name, fresh);
    if (!row) return NonExistentQueue();
    return std::move(*row);
  }

  static int64_t AttrInt(const store::QueueRow& queue, const char* name, int64_t fallback) {
    const auto it = queue.attributes.find(name);
    int64_t value = fallback;
    if (it != queue.attributes.end() && ParseInt64(it->second, &value)) return value;
    return fallback;
  }
  static bool AttrTrue(const store::QueueRow& queue, const char* name) {
    const auto it = queue.attributes.find(name);
    return it != queue.attributes.end() && it->second == "true";
  }

  Outcome Run(const std::string& operation, const Value& request, const Context& context);

  // The operations that name no queue.
  Outcome CreateQueue(const Value& request, const Context& context);
  Outcome GetQueueUrl(const Value& request, const Context& context);
  Outcome ListQueues(const Value& request, const Context& context);
  // The operations on the queue the request names (found by Run first: QueueDoesNotExist).
  Outcome DeleteQueue(const Value& request, const store::QueueRow& queue);
  Outcome GetQueueAttributes(const Value& request, const store::QueueRow& queue);
  Outcome SetQueueAttributes(const Value& request, const store::QueueRow& queue);
  Outcome SendMessage(const Value& request, const store::QueueRow& queue);
  Outcome SendMessageBatch(const Value& request, const store::QueueRow& queue);
  Outcome ReceiveMessage(const Value& request, const store::QueueRow& queue);
  Outcome DeleteMessage(const Value& request, const store::QueueRow& queue);
  Outcome DeleteMessageBatch(const Value& request, const store::QueueRow& queue);
  Outcome ChangeMessageVisibility(const Value& request, const store::QueueRow& queue);
  Outcome ChangeMessageVisibilityBatch(const Value& request, const store::QueueRow& queue);
  Outcome PurgeQueue(const Value& request, const store::QueueRow& queue);
  Outcome TagQueue(const Value& request, const store::QueueRow& queue);
  Outcome UntagQueue(const Value& request, const store::QueueRow& queue);
  Outcome ListQueueTags(const Value& request, const store::QueueRow& queue);

  // One message of SendMessage / SendMessageBatch, checked: nullopt with `error` set.
  std::optional<store::NewMessage> Prepare(const store::QueueRow& queue, const Value& entry,
                                           SqsError* error);
};

namespace {

using Impl = SqsApi::Impl;

// Each operation once: the queue it works on is looked up before it runs (fresh from the
// database for the control operations, else from the node's short-lived cache).
enum class QueueLookup { kNone, kCached, kFresh };
struct Operation {
  const char* name;
  QueueLookup lookup;
  Outcome (Impl::*plain)(const Value&, const Impl::Context&);
  Outcome (Impl::*on_queue)(const Value&, const store::QueueRow&);
};

constexpr Operation kOperations[] = {
    {"CreateQueue", QueueLookup::kNone, &Impl::CreateQueue, nullptr},
    {"GetQueueUrl", QueueLookup::kNone, &Impl::GetQueueUrl, nullptr},
    {"ListQueues", QueueLookup::kNone, &Impl::ListQueues, nullptr},
    {"DeleteQueue", QueueLookup::kFresh, nullptr, &Impl::DeleteQueue},
    {"GetQueueAttributes", QueueLookup::kFresh, nullptr, &Impl::GetQueueAttributes},
    {"SetQueueAttributes", QueueLookup::kFresh, nullptr, &Impl::SetQueueAttributes},
    {"SendMessage", QueueLookup::kCached, nullptr, &Impl::SendMessage},
    {"SendMessageBatch", QueueLookup::kCached, nullptr, &Impl::SendMessageBatch},
    {"ReceiveMessage", QueueLookup::kCached, nullptr, &Impl::ReceiveMessage},
    {"DeleteMessage", QueueLookup::kCached, nullptr, &Impl::DeleteMessage},
    {"DeleteMessageBatch", QueueLookup::kCached, nullptr, &Impl::DeleteMessageBatch},
    {"ChangeMessageVisibility", QueueLookup::kCached, nullptr, &Impl::ChangeMessageVisibility},
    {"ChangeMessageVisibilityBatch", QueueLookup::kCached, nullptr,
     &Impl::ChangeMessageVisibilityBatch},
    {"PurgeQueue", QueueLookup::kFresh, nullptr, &Impl::PurgeQueue},
    {"TagQueue", QueueLookup::kFresh, nullptr, &Impl::TagQueue},
    {"UntagQueue", QueueLookup::kFresh, nullptr, &Impl::UntagQueue},
    {"ListQueueTags", QueueLookup::kFresh, nullptr, &Impl::ListQueueTags},
};

const Operation* FindOperation(std::string_view name) {
  for (const Operation& operation : kOperations) {
    if (name == operation.name) return &operation;
  }
  return nullptr;
}

SqsError InvalidAction(const std::string& operation) {
  return {"InvalidAction", "InvalidAction",
          "The action " + operation + " is not valid for this endpoint."};
}

}  // namespace

Outcome SqsApi::Impl::Run(const std::string& operation, const Value& request,
                          const Context& context) {
  const Operation* found = FindOperation(operation);
  if (!found) return InvalidAction(operation);
  if (found->lookup == QueueLookup::kNone) return (this->*found->plain)(request, context);
  auto queue = Queue(request, context, found->lookup == QueueLookup::kFresh);
  if (auto* error = std::get_if<SqsError>(&queue)) return *error;
  return (this->*found->on_queue)(request, std::get<store::QueueRow>(queue));
}

Outcome SqsApi::Impl::CreateQueue(const Value& request, const Context& context) {
  const auto name = Str(request, "QueueName");
  if (!name) return MissingParameter("QueueName");
  std::map<std::string, std::string> given = StrMap(request, "Attributes");
  const bool fifo = given.count("FifoQueue") && given["FifoQueue"] == "true";
  if (!ValidQueueName(*name, fifo)) {
    if (!fifo && name->size() > 5 && name->substr(name->size() - 5) == ".fifo") {
      return InvalidParameterValue(
          "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
          "underscores, must end with .fifo suffix and be 1 to 80 in length.");
    }
    return InvalidParameterValue(
        fifo ? "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
               "underscores, must end with .fifo suffix and be 1 to 80 in length."
             : "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in "
               "length");
  }
  if (given.count("FifoQueue") && given["FifoQueue"] == "false") given.erase("FifoQueue");
  if (auto error = CheckAttributes(given, fifo, true)) return *error;
  std::map<std::string, std::string> attributes = DefaultAttributes(fifo);
  for (const auto& [key, value] : given) attributes[key] = value;
  std::map<std::string, std::string> tags = StrMap(request, "tags");
  for (const auto& [key, value] : StrMap(request, "Tags")) tags[key] = value;
  bool created = false;
  store::QueueRow row = store.CreateQueue(*name, fifo, attributes, tags, &created);
  if (!created) {
    // SQS: creating an existing queue with the same attributes returns it; different ones
    // (among those given) are an error.
    for (const auto& [key, value] : given) {
      const auto it = row.attributes.find(key);
      if (it == row.attributes.end() || it->second != value) {
        return SqsError{"QueueNameExists", "QueueAlreadyExists",
                        "A queue already exists with the same name and a different value for "
                        "attribute " +
                            key};
      }
    }
  }
  Forget(*name);
  return JsonObject([&](Writer& w) { W(w, "QueueUrl", Url(context, *name)); });
}

Outcome SqsApi::Impl::GetQueueUrl(const Value& request, const Context& context) {
  const auto name = Str(request, "QueueName");
  if (!name) return MissingParameter("QueueName");
  if (!Lookup(*name, true)) return NonExistentQueue();
  return JsonObject([&](Writer& w) { W(w, "QueueUrl", Url(context, *name)); });
}

Outcome SqsApi::Impl::ListQueues(const Value& request, const Context& context) {
  const std::string prefix = Str(request, "QueueNamePrefix").value_or("");
  std::optional<int64_t> max;
  if (auto error = Int(request, "MaxResults", &max)) return *error;
  if (max && (*max < 1 || *max > 1000)) {
    return InvalidValue("MaxResults", std::to_string(*max),
                        "MaxResults must be between 1 and 1000.");
  }
  const std::string after = Str(request, "NextToken").value_or("");
  const int64_t limit = max.value_or(1000);
  std::vector<std::string> names = store.ListQueues(prefix, after, limit + 1);
  const bool more = static_cast<int64_t>(names.size()) > limit;
  if (more) names.resize(static_cast<std::size_t>(limit));
  return JsonObject([&](Writer& w) {
    if (!names.empty()) {
      w.Key("QueueUrls");
      w.StartArray();
      for (const auto& name : names) {
        const std::string url = Url(context, name);
        w.String(url.c_str(), static_cast<rapidjson::SizeType>(url.size()));
      }
      w.EndArray();
    }
    if (more && max) W(w, "NextToken", names.back());
  });
}

Outcome SqsApi::Impl::DeleteQueue(const Value& /*request*/, const store::QueueRow& queue) {
  if (!store.DeleteQueue(queue.name)) return NonExistentQueue();
  Forget(queue.name);
  return std::string("{}");
}

Outcome SqsApi::Impl::GetQueueAttributes(const Value& request, const store::QueueRow& queue) {
  std::vector<std::string> names = StrList(request, "AttributeNames");
  static const std::set<std::string> kComputed = {"All",
                                                  "ApproximateNumberOfMessages",
                                                  "ApproximateNumberOfMessagesNotVisible",
                                                  "ApproximateNumberOfMessagesDelayed",
                                                  "CreatedTimestamp",
                                                  "LastModifiedTimestamp",
                                                  "QueueArn"};
  bool all = false;
  for (const auto& name : names) {
    if (name == "All") all = true;
    bool known = kComputed.count(name) > 0;
    for (const auto& rule : kAttributeRules) known = known || name == rule.name;
    if (!known) return InvalidAttributeName(name);
  }
  auto wanted = [&](const std::string& name) {
    return all || std::find(names.begin(), names.end(), name) != names.end();
  };
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : queue.attributes) {
    if (wanted(key) && !value.empty()) out[key] = value;
  }
  if (wanted("ApproximateNumberOfMessages") || wanted("ApproximateNumberOfMessagesNotVisible") ||
      wanted("ApproximateNumberOfMessagesDelayed")) {
    const store::QueueCounts counts = store.Counts(queue.queue_id);
    if (wanted("ApproximateNumberOfMessages"))
      out["ApproximateNumberOfMessages"] = std::to_string(counts.visible);
    if (wanted("ApproximateNumberOfMessagesNotVisible"))
      out["ApproximateNumberOfMessagesNotVisible"] = std::to_string(counts.in_flight);
    if (wanted("ApproximateNumberOfMessagesDelayed"))
      out["ApproximateNumberOfMessagesDelayed"] = std::to_string(counts.delayed);
  }
  if (wanted("CreatedTimestamp")) out["CreatedTimestamp"] = std::to_string(queue.created_s);
  if (wanted("LastModifiedTimestamp"))
    out["LastModifiedTimestamp"] = std::to_string(queue.modified_s);
  if (wanted("QueueArn")) out["QueueArn"] = Arn(queue.name);
  return JsonObject([&](Writer& w) { WriteStringMap(w, "Attributes", out); });
}

Outcome SqsApi::Impl::SetQueueAttributes(const Value& request, const store::QueueRow& queue) {
  if (!Find(request, "Attributes")) return MissingParameter("Attributes");
  const std::map<std::string, std::string> attributes = StrMap(request, "Attributes");
  if (auto error = CheckAttributes(attributes, queue.fifo, false)) return *error;
  if (!store.SetAttributes(queue.name, attributes)) return NonExistentQueue();
  Forget(queue.name);
  return std::string("{}");
}

std::optional<store::NewMessage> SqsApi::Impl::Prepare(const store::QueueRow& queue,
                                                       const Value& entry, SqsError* error) {
  const auto body = Str(entry, "MessageBody");
  if (!body || body->empty()) {
    *error = MissingParameter("MessageBody");
    return std::nullopt;
  }
  if (!ValidMessageText(*body)) {
    *error = {"InvalidMessageContents", "InvalidMessageContents",
              "Invalid binary character in the message body."};
    return std::nullopt;
  }
  store::NewMessage message;
  message.body = *body;
  message.md5_of_body = Md5Hex(*body);
  std::size_t size = body->size();

  std::map<std::string, MessageAttribute> attributes;
  if (const Value* given = Find(entry, "MessageAttributes")) {
    if (!given->IsObject()) {
      *error = InvalidParameterValue("MessageAttributes must be a map.");
      return std::nullopt;
    }
    if (given->MemberCount() > 10) {
      *error = InvalidParameterValue("Number of message attributes [" +
                                     std::to_string(given->MemberCount()) +
                                     "] exceeds the allowed maximum [10].");
      return std::nullopt;
    }
    for (const auto& member : given->GetObject()) {
      const std::string name(member.name.GetString(), member.name.GetStringLength());
      MessageAttribute attribute;
      const auto data_type = Str(member.value, "DataType");
      if (!data_type || data_type->empty()) {
        *error = InvalidParameterValue("The message attribute '" + name +
                                       "' must contain non-empty message attribute type.");
        return std::nullopt;
      }
      attribute.data_type = *data_type;
      const std::string base = data_type->substr(0, data_type->find('.'));
      if (base == "Binary") {
        const auto value = Str(member.value, "BinaryValue");
        std::optional<std::string> decoded;
        if (value) decoded = Base64Decode(*value);
        if (!decoded) {
          *error = InvalidParameterValue("The message attribute '" + name +
                                         "' with type 'Binary' must use field 'Binary'.");
          return std::nullopt;
        }
        attribute.is_binary = true;
        attribute.binary_base64 = *value;
        attribute.binary = *decoded;
        size += decoded->size();
      } else if (base == "String" || base == "Number") {
        const auto value = Str(member.value, "StringValue");
        if (!value) {
          *error = InvalidParameterValue("The message attribute '" + name + "' with type '" + base +
                                         "' must use field 'String'.");
          return std::nullopt;
        }
        attribute.string_value = *value;
        size += value->size();
      } else {
        *error = InvalidParameterValue("The type of message (user) attribute '" + name +
                                       "' is invalid. You must use only the following supported "
                                       "type prefixes: Binary, Number, String.");
        return std::nullopt;
      }
      size += name.size() + data_type->size();
      attributes[name] = std::move(attribute);
    }
  }
  if (!attributes.empty()) {
    message.md5_of_attributes = Md5OfAttributes(attributes);
    message.message_attributes = JsonObject([&](Writer& w) {
      for (const auto& [name, attribute] : attributes) {
        w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
        w.StartObject();
        W(w, "DataType", attribute.data_type);
        if (attribute.is_binary) {
          W(w, "BinaryValue", attribute.binary_base64);
        } else {
          W(w, "StringValue", attribute.string_value);
        }
        w.EndObject();
      }
    });
  }
  const int64_t max_size = AttrInt(queue, "MaximumMessageSize", 262144);
  if (static_cast<int64_t>(size) > max_size) {
    *error = InvalidParameterValue(
        "One or more parameters are invalid. Reason: Message must be shorter than " +
        std::to_string(max_size) + " bytes.");
    return std::nullopt;
  }

  std::optional<int64_t> delay;
  if (auto bad = Int(entry, "DelaySeconds", &delay)) {
    *error = *bad;
    return std::nullopt;
  }
  const auto group = Str(entry, "MessageGroupId");
  const auto dedup = Str(entry, "MessageDeduplicationId");
  if (queue.fifo) {
    if (delay) {
      *error = InvalidValue("DelaySeconds", std::to_string(*delay),
                            "The request include parameter that is not valid for this queue "
                            "type.");
      return std::nullopt;
    }
    if (!group || group->empty()) {
      *error = MissingParameter("MessageGroupId");
      return std::nullopt;
    }
    message.group_id = *group;
    if (dedup && !dedup->empty()) {
      message.dedup_id = *dedup;
    } else if (AttrTrue(queue, "ContentBasedDeduplication")) {
      message.dedup_id = Sha256Hex(*body);
    } else {
      *error = InvalidParameterValue(
          "The queue should either have ContentBasedDeduplication enabled or "
          "MessageDeduplicationId provided explicitly");
      return std::nullopt;
    }
    if (message.group_id.size() > 128 || message.dedup_id.size() > 128) {
      *error = InvalidParameterValue(
          "MessageGroupId and MessageDeduplicationId can be at most 128 characters long.");
      return std::nullopt;
    }
    message.delay_seconds = static_cast<int>(AttrInt(queue, "DelaySeconds", 0));
  } else {
    if (dedup) {
      *error = InvalidValue("MessageDeduplicationId", *dedup,
                            "The request include parameter that is not valid for this queue "
                            "type.");
      return std::nullopt;
    }
    if (delay && (*delay < 0 || *delay > 900)) {
      *error = InvalidValue("DelaySeconds", std::to_string(*delay),
                            "DelaySeconds must be >= 0 and <= 900.");
      return std::nullopt;
    }
    message.delay_seconds = static_cast<int>(delay.value_or(AttrInt(queue, "DelaySeconds", 0)));
  }
  return message;
}

namespace {

void WriteSent(Writer& w, const store::NewMessage& message, const store::SentMessage& sent,
               bool fifo) {
  W(w, "MD5OfMessageBody", message.md5_of_body);
  if (!message.md5_of_attributes.empty()) {
    W(w, "MD5OfMessageAttributes", message.md5_of_attributes);
  }
  W(w, "MessageId", sent.message_id);
  if (fifo) {
    char digits[32];
    std::snprintf(digits, sizeof digits, "%020lld", static_cast<long long>(sent.sequence_number));
    W(w, "SequenceNumber", digits);
  }
}

}  // namespace

Outcome SqsApi::Impl::SendMessage(const Value& request, const store::QueueRow& queue) {
  SqsError error;
  auto message = Prepare(queue, request, &error);
  if (!message) return error;
  const std::vector<store::SentMessage> sent = store.Send(queue.queue_id, queue.fifo, {*message});
  return JsonObject([&](Writer& w) { WriteSent(w, *message, sent.at(0), queue.fifo); });
}

namespace {

// The entries of a batch request, checked as SQS checks them (count, ids).
std::variant<std::vector<const Value*>, SqsError> BatchEntries(const Value& request,
                                                               const std::string& entry_name) {
  const Value* entries = Find(request, "Entries");
  if (!entries || !entries->IsArray() || entries->Empty()) {
    return SqsError{"EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest",
                    "There should be at least one " + entry_name + " in the request."};
  }
  if (entries->Size() > 10) {
    return SqsError{"TooManyEntriesInBatchRequest",
                    "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                    "Maximum number of entries per request are 10. You have sent " +
                        std::to_string(entries->Size()) + "."};
  }
  std::set<std::string> ids;
  std::vector<const Value*> out;
  for (const auto& entry : entries->GetArray()) {
    const std::string id = Str(entry, "Id").value_or("");
    if (!ValidBatchId(id)) {
      return SqsError{"InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId",
                      "A batch entry id can only contain alphanumeric characters, hyphens and "
                      "underscores. It can be at most 80 letters long."};
    }
    if (!ids.insert(id).second) {
      return SqsError{"BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
                      "Id " + id + " repeated."};
    }
    out.push_back(&entry);
  }
  return out;
}

using FailedEntries = std::vector<std::pair<std::string, SqsError>>;  // id, why

// A batch operation's answer: Successful (entry i's members written by `write_ok(w, i)`, i <
// ok_count) and Failed.
template <class WriteOk>
std::string BatchAnswer(std::size_t ok_count, WriteOk&& write_ok, const FailedEntries& failed) {
  return JsonObject([&](Writer& w) {
    w.Key("Successful");
    w.StartArray();
    for (std::size_t i = 0; i < ok_count; ++i) {
      w.StartObject();
      write_ok(w, i);
      w.EndObject();
    }
    w.EndArray();
    w.Key("Failed");
    w.StartArray();
    for (const auto& [id, error] : failed) {
      w.StartObject();
      W(w, "Id", id);
      w.Key("SenderFault");
      w.Bool(error.sender);
      W(w, "Code", error.query_code);
      W(w, "Message", error.message);
      w.EndObject();
    }
    w.EndArray();
  });
}

std::string BatchAnswer(const std::vector<std::string>& ok_ids, const FailedEntries& failed) {
  return BatchAnswer(
      ok_ids.size(), [&](Writer& w, std::size_t i) { W(w, "Id", ok_ids[i]); }, failed);
}

}  // namespace

Outcome SqsApi::Impl::SendMessageBatch(const Value& request, const store::QueueRow& queue) {
  auto entries = BatchEntries(request, "SendMessageBatchRequestEntry");
  if (auto* error = std::get_if<SqsError>(&entries)) return *error;
  std::vector<store::NewMessage> messages;
  std::vector<std::string> ok_ids;
  FailedEntries failed;
  std::size_t total = 0;
  for (const Value* entry : std::get<std::vector<const Value*>>(entries)) {
    const std::string id = Str(*entry, "Id").value_or("");
    SqsError error;
    auto message = Prepare(queue, *entry, &error);
    if (!message) {
      failed.emplace_back(id, error);
      continue;
    }
    total += message->body.size() + message->message_attributes.size();
    ok_ids.push_back(id);
    messages.push_back(std::move(*message));
  }
  const int64_t max_size = AttrInt(queue, "MaximumMessageSize", 262144);
  if (static_cast<int64_t>(total) > std::max<int64_t>(max_size, 262144)) {
    return SqsError{"BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong",
                    "Batch requests cannot be longer than " + std::to_string(max_size) +
                        " bytes. You have sent " + std::to_string(total) + " bytes."};
  }
  std::vector<store::SentMessage> sent;
  if (!messages.empty()) sent = store.Send(queue.queue_id, queue.fifo, messages);
  return BatchAnswer(
      messages.size(),
      [&](Writer& w, std::size_t i) {
        W(w, "Id", ok_ids[i]);
        WriteSent(w, messages[i], sent[i], queue.fifo);
      },
      failed);
}

namespace {

bool WantsAttribute(const std::vector<std::string>& names, const char* name) {
  for (const auto& wanted : names) {
    if (wanted == "All" || wanted == name) return true;
  }
  return false;
}

bool WantsMessageAttribute(const std::vector<std::string>& names, const std::string& name) {
  for (const auto& wanted : names) {
    if (wanted == "All" || wanted == ".*" || wanted == name) return true;
    if (wanted.size() > 2 && wanted.substr(wanted.size() - 2) == ".*" &&
        name.rfind(wanted.substr(0, wanted.size() - 1), 0) == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

Outcome SqsApi::Impl::ReceiveMessage(const Value& request, const store::QueueRow& queue) {
  std::optional<int64_t> max, wait, visibility;
  if (auto error = Int(request, "MaxNumberOfMessages", &max)) return *error;
  if (auto error = Int(request, "WaitTimeSeconds", &wait)) return *error;
  if (auto error = Int(request, "VisibilityTimeout", &visibility)) return *error;
  if (max && (*max < 1 || *max > 10)) {
    return InvalidValue("MaxNumberOfMessages", std::to_string(*max),
                        "Must be between 1 and 10, if provided.");
  }
  if (wait && (*wait < 0 || *wait > 20)) {
    return InvalidValue("WaitTimeSeconds", std::to_string(*wait),
                        "Must be >= 0 and <= 20, if provided.");
  }
  if (visibility && (*visibility < 0 || *visibility > 43200)) {
    return InvalidValue("VisibilityTimeout", std::to_string(*visibility),
                        "Must be >= 0 and <= 43200, if provided.");
  }
  std::vector<std::string> system_names = StrList(request, "AttributeNames");
  for (auto& name : StrList(request, "MessageSystemAttributeNames")) {
    system_names.push_back(std::move(name));
  }
  const std::vector<std::string> attribute_names = StrList(request, "MessageAttributeNames");
  SqsError redrive_error;
  const auto queue_redrive =
      queue.attributes.count("RedrivePolicy")
          ? ParseRedrive(queue.attributes.at("RedrivePolicy"), &redrive_error)
          : std::nullopt;
  const auto deadline =
      std::chrono::steady_clock::now() +
      std::chrono::seconds(wait.value_or(AttrInt(queue, "ReceiveMessageWaitTimeSeconds", 0)));
  std::vector<store::ReceivedMessage> messages;
  // Long polling holds no connection while it waits: it sleeps until a send on this node or
  // the next poll, whichever comes first.
  for (;;) {
    messages = store.Receive(
        queue.queue_id, queue.fifo, max.value_or(1),
        std::chrono::seconds(visibility.value_or(AttrInt(queue, "VisibilityTimeout", 30))),
        queue_redrive);
    const auto now = std::chrono::steady_clock::now();
    if (!messages.empty() || now >= deadline) break;
    store.WaitForSend(std::min(deadline, now + kPollInterval));
  }
  return JsonObject([&](Writer& w) {
    if (!messages.empty()) {
      w.Key("Messages");
      w.StartArray();
      for (const auto& message : messages) {
        w.StartObject();
        W(w, "MessageId", message.message_id);
        W(w, "ReceiptHandle", message.receipt_handle);
        W(w, "MD5OfBody", message.md5_of_body);
        W(w, "Body", message.body);
        std::map<std::string, std::string> attributes;
        if (WantsAttribute(system_names, "SenderId")) attributes["SenderId"] = account_id;
        if (WantsAttribute(system_names, "SentTimestamp"))
          attributes["SentTimestamp"] = std::to_string(message.sent_ms);
        if (WantsAttribute(system_names, "ApproximateReceiveCount"))
          attributes["ApproximateReceiveCount"] = std::to_string(message.receive_count);
        if (WantsAttribute(system_names, "ApproximateFirstReceiveTimestamp"))
          attributes["ApproximateFirstReceiveTimestamp"] =
              std::to_string(message.first_received_ms);
        if (queue.fifo) {
          char digits[32];
          std::snprintf(digits, sizeof digits, "%020lld",
                        static_cast<long long>(message.message_seq));
          if (WantsAttribute(system_names, "SequenceNumber")) attributes["SequenceNumber"] = digits;
          if (WantsAttribute(system_names, "MessageGroupId"))
            attributes["MessageGroupId"] = message.group_id;
          if (WantsAttribute(system_names, "MessageDeduplicationId"))
            attributes["MessageDeduplicationId"] = message.dedup_id;
        }
        WriteStringMap(w, "Attributes", attributes);
        if (!message.message_attributes.empty()) {
          rapidjson::Document stored;
          stored.Parse(message.message_attributes.c_str(), message.message_attributes.size());
          bool any = false;
          if (stored.IsObject()) {
            for (const auto& member : stored.GetObject()) {
              if (!WantsMessageAttribute(attribute_names, member.name.GetString())) continue;
              if (!any) {
                // SQS sends the MD5 of all the attributes only when some are returned.
                W(w, "MD5OfMessageAttributes", message.md5_of_attributes);
                w.Key("MessageAttributes");
                w.StartObject();
                any = true;
              }
              w.Key(member.name.GetString(), member.name.GetStringLength());
              member.value.Accept(w);
            }
          }
          if (any) w.EndObject();
        }
        w.EndObject();
      }
      w.EndArray();
    }
  });
}

Outcome SqsApi::Impl::DeleteMessage(const Value& request, const store::QueueRow& queue) {
  const auto handle = Str(request, "ReceiptHandle");
  if (!handle) return MissingParameter("ReceiptHandle");
  if (!store.Delete(queue.queue_id, {*handle}).at(0)) return ReceiptHandleIsInvalid(*handle);
  return std::string("{}");
}

Outcome SqsApi::Impl::DeleteMessageBatch(const Value& request, const store::QueueRow& queue) {
  auto entries = BatchEntries(request, "DeleteMessageBatchRequestEntry");
  if (auto* error = std::get_if<SqsError>(&entries)) return *error;
  std::vector<std::string> ids, handles;
  for (const Value* entry : std::get<std::vector<const Value*>>(entries)) {
    ids.push_back(Str(*entry, "Id").value_or(""));
    handles.push_back(Str(*entry, "ReceiptHandle").value_or(""));
  }
  const std::vector<bool> valid = store.Delete(queue.queue_id, handles);
  std::vector<std::string> ok;
  FailedEntries failed;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (valid[i]) {
      ok.push_back(ids[i]);
    } else {
      failed.emplace_back(ids[i], ReceiptHandleIsInvalid(handles[i]));
    }
  }
  return BatchAnswer(ok, failed);
}

namespace {

std::optional<SqsError> ChangeOne(store::QueueStore& store, const store::QueueRow& queue,
                                  const Value& entry) {
  const auto handle = Str(entry, "ReceiptHandle");
  if (!handle) return MissingParameter("ReceiptHandle");
  std::optional<int64_t> timeout;
  if (auto error = Int(entry, "VisibilityTimeout", &timeout)) return error;
  if (!timeout) return MissingParameter("VisibilityTimeout");
  if (*timeout < 0 || *timeout > 43200) {
    return InvalidValue("VisibilityTimeout", std::to_string(*timeout),
                        "VisibilityTimeout must be an integer between 0 and 43200");
  }
  switch (store.ChangeVisibility(queue.queue_id, *handle, std::chrono::seconds(*timeout))) {
    case store::VisibilityChange::kChanged:
      return std::nullopt;
    case store::VisibilityChange::kNotInFlight:
      return SqsError{"MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight",
                      "Value " + *handle +
                          " for parameter ReceiptHandle is invalid. Reason: Message does not "
                          "exist or is not available for visibility timeout change."};
    case store::VisibilityChange::kInvalidHandle:
      break;
  }
  if (!store::DecodeReceiptHandle(*handle)) return ReceiptHandleIsInvalid(*handle);
  return InvalidValue("ReceiptHandle", *handle,
                      "Message does not exist or is not available for visibility timeout "
                      "change.");
}

}  // namespace

Outcome SqsApi::Impl::ChangeMessageVisibility(const Value& request, const store::QueueRow& queue) {
  if (auto error = ChangeOne(store, queue, request)) return *error;
  return std::string("{}");
}

Outcome SqsApi::Impl::ChangeMessageVisibilityBatch(const Value& request,
                                                   const store::QueueRow& queue) {
  auto entries = BatchEntries(request, "ChangeMessageVisibilityBatchRequestEntry");
  if (auto* error = std::get_if<SqsError>(&entries)) return *error;
  std::vector<std::string> ok;
  FailedEntries failed;
  for (const Value* entry : std::get<std::vector<const Value*>>(entries)) {
    const std::string id = Str(*entry, "Id").value_or("");
    if (auto error = ChangeOne(store, queue, *entry)) {
      failed.emplace_back(id, *error);
    } else {
      ok.push_back(id);
    }
  }
  return BatchAnswer(ok, failed);
}

Outcome SqsApi::Impl::PurgeQueue(const Value& /*request*/, const store::QueueRow& queue) {
  // SQS: one purge per queue per 60 seconds (the store keeps that across nodes). HTTP 403 as
  // in SQS's service model (awsQueryError AWS.SimpleQueueService.PurgeQueueInProgress, 403).
  if (!store.Purge(queue.queue_id)) {
    return SqsError{
        "PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress",
        "Only one PurgeQueue operation on " + queue.name + " is allowed every 60 seconds.", 403};
  }
  return std::string("{}");
}

Outcome SqsApi::Impl::TagQueue(const Value& request, const store::QueueRow& queue) {
  if (!Find(request, "Tags")) return MissingParameter("Tags");
  store.SetTags(queue.name, StrMap(request, "Tags"), {});
  Forget(queue.name);
  return std::string("{}");
}

Outcome SqsApi::Impl::UntagQueue(const Value& request, const store::QueueRow& queue) {
  if (!Find(request, "TagKeys")) return MissingParameter("TagKeys");
  store.SetTags(queue.name, {}, StrList(request, "TagKeys"));
  Forget(queue.name);
  return std::string("{}");
}

Outcome SqsApi::Impl::ListQueueTags(const Value& /*request*/, const store::QueueRow& queue) {
  return JsonObject([&](Writer& w) { WriteStringMap(w, "Tags", queue.tags); });
}

// ---- the two protocols --------------------------------------------------------------------------

namespace {

HttpResponse JsonAnswer(const Outcome& outcome) {
  if (const auto* body = std::get_if<std::string>(&outcome)) {
    HttpResponse response;
    response.content_type = std::string(kJson10ContentType);
    response.body = *body;
    return response;
  }
  const SqsError& error = std::get<SqsError>(outcome);
  HttpResponse response =
      Json10Error(error.status, "com.amazonaws.sqs#" + error.code, error.message);
  response.headers.emplace_back("x-amzn-query-error",
                                error.query_code + (error.sender ? ";Sender" : ";Receiver"));
  return response;
}

std::string FormDecode(std::string_view text) {
  std::string plus(text);
  std::replace(plus.begin(), plus.end(), '+', ' ');
  return PercentDecode(plus);
}

// The query protocol's flattened members, rewritten as the JSON protocol's request:
//   Attribute.N.Name/Value → Attributes{}, Tag.N.Key/Value → Tags{}, AttributeName.N →
//   AttributeNames[] (likewise MessageAttributeName, MessageSystemAttributeName, TagKey),
//   MessageAttribute.N.Name / .Value.DataType|StringValue|BinaryValue → MessageAttributes{},
//   <X>RequestEntry.N.<member> → Entries[N] (each rewritten by the same rules, one level).
void Unflatten(const std::vector<std::pair<std::string, std::string>>& pairs, Value& out,
               rapidjson::Document::AllocatorType& alloc, bool allow_entries) {
  out.SetObject();
  std::map<std::string, std::map<int64_t, std::map<std::string, std::string>>> indexed;
  std::map<int64_t, std::vector<std::pair<std::string, std::string>>> entries;
  for (const auto& [key, value] : pairs) {
    const std::size_t dot = key.find('.');
    if (dot == std::string::npos) {
      if (key == "Action" || key == "Version" || key.empty()) continue;
      out.AddMember(Value(key.c_str(), alloc), Value(value.c_str(), alloc), alloc);
      continue;
    }
    const std::string head = key.substr(0, dot);
    std::string rest = key.substr(dot + 1);
    const std::size_t dot2 = rest.find('.');
    int64_t index = 0;
    if (!ParseInt64(rest.substr(0, dot2), &index) || index < 1 || index > 1000) continue;
    const std::string member = dot2 == std::string::npos ? "" : rest.substr(dot2 + 1);
    if (allow_entries && head.size() > 12 && head.substr(head.size() - 12) == "RequestEntry") {
      entries[index].emplace_back(member, value);
    } else {
      indexed[head][index][member] = value;
    }
  }
  auto add_list = [&](const char* from, const char* to) {
    const auto it = indexed.find(from);
    if (it == indexed.end()) return;
    Value list(rapidjson::kArrayType);
    for (const auto& [index, members] : it->second) {
      const auto value = members.find("");
      if (value != members.end()) list.PushBack(Value(value->second.c_str(), alloc), alloc);
    }
    out.AddMember(Value(to, alloc), list, alloc);
  };
  add_list("AttributeName", "AttributeNames");
  add_list("MessageAttributeName", "MessageAttributeNames");
  add_list("MessageSystemAttributeName", "MessageSystemAttributeNames");
  add_list("TagKey", "TagKeys");
  auto add_map = [&](const char* from, const char* to, const char* key_name,
                     const char* value_name) {
    const auto it = indexed.find(from);
    if (it == indexed.end()) return;
    Value map(rapidjson::kObjectType);
    for (const auto& [index, members] : it->second) {
      const auto key = members.find(key_name);
      const auto value = members.find(value_name);
      if (key == members.end()) continue;
      map.RemoveMember(key->second.c_str());
      map.AddMember(Value(key->second.c_str(), alloc),
                    Value(value == members.end() ? "" : value->second.c_str(), alloc), alloc);
    }
    out.AddMember(Value(to, alloc), map, alloc);
  };
  add_map("Attribute", "Attributes", "Name", "Value");
  add_map("Tag", "Tags", "Key", "Value");
  if (const auto it = indexed.find("MessageAttribute"); it != indexed.end()) {
    Value map(rapidjson::kObjectType);
    for (const auto& [index, members] : it->second) {
      const auto name = members.find("Name");
      if (name == members.end()) continue;
      Value attribute(rapidjson::kObjectType);
      for (const char* field : {"DataType", "StringValue", "BinaryValue"}) {
        const auto value = members.find(std::string("Value.") + field);
        if (value != members.end()) {
          attribute.AddMember(Value(field, alloc), Value(value->second.c_str(), alloc), alloc);
        }
      }
      map.AddMember(Value(name->second.c_str(), alloc), attribute, alloc);
    }
    out.AddMember("MessageAttributes", map, alloc);
  }
  if (!entries.empty()) {
    Value list(rapidjson::kArrayType);
    for (const auto& [index, members] : entries) {
      Value entry;
      Unflatten(members, entry, alloc, false);
      list.PushBack(entry, alloc);
    }
    out.AddMember("Entries", list, alloc);
  }
}

void XmlValue(std::string& out, const std::string& operation, const char* key, const Value& value);

void XmlObject(std::string& out, const std::string& operation, const Value& object) {
  for (const auto& member : object.GetObject()) {
    XmlValue(out, operation, member.name.GetString(), member.value);
  }
}

std::string Scalar(const Value& value) {
  if (value.IsString()) return XmlEscape({value.GetString(), value.GetStringLength()});
  if (value.IsBool()) return value.GetBool() ? "true" : "false";
  if (value.IsInt64()) return std::to_string(value.GetInt64());
  return {};
}

// Renders one member of a JSON answer as the query protocol's XML (fixed depth: answers are
// built above, never taken from the client).
void XmlValue(std::string& out, const std::string& operation, const char* key, const Value& value) {
  const std::string name = key;
  auto element = [&](const std::string& tag, const std::string& text) {
    out += "<" + tag + ">" + text + "</" + tag + ">";
  };
  if (name == "QueueUrls") {
    for (const auto& url : value.GetArray()) element("QueueUrl", Scalar(url));
  } else if (name == "Messages") {
    for (const auto& message : value.GetArray()) {
      out += "<Message>";
      XmlObject(out, operation, message);
      out += "</Message>";
    }
  } else if (name == "Successful" || name == "Failed") {
    const std::string tag = name == "Failed" ? "BatchResultErrorEntry" : operation + "ResultEntry";
    for (const auto& entry : value.GetArray()) {
      out += "<" + tag + ">";
      XmlObject(out, operation, entry);
      out += "</" + tag + ">";
    }
  } else if (name == "Attributes" || name == "Tags") {
    const bool tags = name == "Tags";
    for (const auto& member : value.GetObject()) {
      out += tags ? "<Tag><Key>" : "<Attribute><Name>";
      out += XmlEscape(member.name.GetString());
      out += tags ? "</Key><Value>" : "</Name><Value>";
      out += Scalar(member.value);
      out += tags ? "</Value></Tag>" : "</Value></Attribute>";
    }
  } else if (name == "MessageAttributes") {
    for (const auto& member : value.GetObject()) {
      out += "<MessageAttribute><Name>" + XmlEscape(member.name.GetString()) + "</Name><Value>";
      for (const auto& field : member.value.GetObject()) {
        element(field.name.GetString(), Scalar(field.value));
      }
      out += "</Value></MessageAttribute>";
    }
  } else {
    element(name, Scalar(value));
  }
}

HttpResponse XmlAnswer(const std::string& operation, const Outcome& outcome,
                       const std::string& request_id) {
  HttpResponse response;
  response.content_type = "text/xml";
  if (const auto* error = std::get_if<SqsError>(&outcome)) {
    response.status = error->status;
    response.body = "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"" + std::string(kXmlns) +
                    "\"><Error><Type>" + (error->sender ? "Sender" : "Receiver") + "</Type><Code>" +
                    XmlEscape(error->query_code) + "</Code><Message>" + XmlEscape(error->message) +
                    "</Message><Detail/></Error><RequestId>" + request_id +
                    "</RequestId></ErrorResponse>";
    return response;
  }
  rapidjson::Document doc;
  const std::string& body = std::get<std::string>(outcome);
  doc.Parse(body.c_str(), body.size());
  std::string result;
  if (doc.IsObject()) XmlObject(result, operation, doc);
  response.body =
      "<?xml version=\"1.0\"?><" + operation + "Response xmlns=\"" + std::string(kXmlns) + "\">";
  if (!result.empty() || operation == "ReceiveMessage" || operation == "ListQueues" ||
      operation == "GetQueueAttributes" || operation == "ListQueueTags") {
    response.body += "<" + operation + "Result>" + result + "</" + operation + "Result>";
  }
  response.body += "<ResponseMetadata><RequestId>" + request_id +
                   "</RequestId></ResponseMetadata></" + operation + "Response>";
  return response;
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) id.push_back('-');
    id.push_back(kHex[rng() & 15]);
  }
  return id;
}

std::string HostOf(const HttpRequest& request) {
  const std::string* host = request.Header("host");
  return host && !host->empty() ? *host : "localhost";
}

// "/<account>/<queue>" → queue; "" otherwise.
std::string PathQueue(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.size() < 2 || path[0] != '/') return {};
  path.remove_prefix(1);
  const std::size_t slash = path.find('/');
  if (slash == std::string_view::npos) return {};
  const std::string_view account = path.substr(0, slash);
  const std::string_view name = path.substr(slash + 1);
  if (account.empty() || name.empty() || name.find('/') != std::string_view::npos) return {};
  if (!std::all_of(account.begin(), account.end(),
                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    return {};
  }
  return PercentDecode(name);
}

}  // namespace

HttpResponse SqsQueryAuthError(int status, std::string_view error_type, std::string message) {
  // SigV4's failures by their JSON-protocol names, as the query protocol's common errors
  // (SQS API reference, Common Errors); a signature that does not match is SignatureDoesNotMatch.
  std::string code = "SignatureDoesNotMatch";
  if (error_type == "UnrecognizedClientException") {
    code = "InvalidClientTokenId";
    status = 403;
  } else if (error_type == "IncompleteSignatureException") {
    code = "IncompleteSignature";
    status = 400;
  } else if (error_type == "MissingAuthenticationTokenException") {
    code = "MissingAuthenticationToken";
    status = 403;
  } else if (message.rfind("Signature expired", 0) == 0 ||
             message.rfind("Signature not yet current", 0) == 0) {
    code = "RequestExpired";
    status = 400;
  }
  SqsError error{code, code, std::move(message), status};
  return XmlAnswer("Unknown", error, NewRequestId());
}

bool IsSqsQueryRequest(const HttpRequest& request) {
  if (request.Header("x-amz-target")) return false;
  if (request.method != "POST" && request.method != "GET") return false;
  if (request.path != "/" && PathQueue(request.path).empty()) return false;
  if (request.query.find("Action=") != std::string::npos) return true;
  const std::string* type = request.Header("content-type");
  return request.method == "POST" && type &&
         type->rfind("application/x-www-form-urlencoded", 0) == 0;
}

SqsApi::SqsApi(store::QueueStore& store, std::string region, std::string account_id)
    : impl_(std::make_unique<Impl>(store, std::move(region), std::move(account_id))) {}

SqsApi::~SqsApi() = default;

void SqsApi::Register(Router& router, WorkPool& control, WorkPool& long_running) {
  Impl* impl = impl_.get();
  impl->control = &control;
  impl->long_running = &long_running;
  for (const Operation& entry : kOperations) {
    const std::string operation = entry.name;
    WorkPool* pool = operation == "ReceiveMessage" ? &long_running : &control;
    router.AddJson10(
        "AmazonSQS." + operation, [impl, pool, operation](ApiCall call, Respond respond) {
          pool->Post([impl, operation, call = std::move(call), respond = std::move(respond)] {
            rapidjson::Document doc;
            const std::string& body = call.request.body;
            doc.Parse(body.empty() ? "{}" : body.c_str(), body.empty() ? 2 : body.size());
            if (doc.HasParseError() || !doc.IsObject()) {
              return respond(JsonAnswer(SqsError{"SerializationException", "SerializationException",
                                                 "Unable to parse the request body as JSON"}));
            }
            Impl::Context context{HostOf(call.request), {}};
            try {
              respond(JsonAnswer(impl->Run(operation, doc, context)));
            } catch (const std::exception& e) {
              respond(JsonAnswer(SqsError{"InternalError", "InternalError", e.what(), 500, false}));
            }
          });
        });
  }
}

void SqsApi::HandleQuery(HttpRequest request, Respond respond) {
  Impl* impl = impl_.get();
  std::vector<std::pair<std::string, std::string>> pairs;
  auto add_form = [&](std::string_view form) {
    while (!form.empty()) {
      const std::size_t amp = form.find('&');
      const std::string_view pair = form.substr(0, amp);
      const std::size_t eq = pair.find('=');
      pairs.emplace_back(FormDecode(pair.substr(0, eq)),
                         eq == std::string_view::npos ? "" : FormDecode(pair.substr(eq + 1)));
      if (amp == std::string_view::npos) break;
      form.remove_prefix(amp + 1);
    }
  };
  add_form(request.query);
  const std::string* type = request.Header("content-type");
  if (type && type->rfind("application/x-www-form-urlencoded", 0) == 0) add_form(request.body);
  std::string operation;
  for (const auto& [key, value] : pairs) {
    if (key == "Action") operation = value;
  }
  const bool known = FindOperation(operation) != nullptr;
  // ReceiveMessage may wait 20 s: the long-running pool, as for the JSON protocol.
  auto job = [impl, operation, known, pairs = std::move(pairs),
              context = Impl::Context{HostOf(request), PathQueue(request.path)},
              respond = std::move(respond)] {
    const std::string request_id = NewRequestId();
    if (operation.empty()) {
      return respond(XmlAnswer(
          "Unknown",
          SqsError{"MissingAction", "MissingAction", "No action was supplied with this request."},
          request_id));
    }
    if (!known) return respond(XmlAnswer(operation, InvalidAction(operation), request_id));
    rapidjson::Document doc;
    Unflatten(pairs, doc, doc.GetAllocator(), true);
    try {
      respond(XmlAnswer(operation, impl->Run(operation, doc, context), request_id));
    } catch (const std::exception& e) {
      respond(XmlAnswer(operation, SqsError{"InternalError", "InternalError", e.what(), 500, false},
                        request_id));
    }
  };
  if (operation == "ReceiveMessage") {
    impl->long_running->Post(std::move(job));
  } else {
    impl->control->Post(std::move(job));
  }
}

}  // namespace switchyard::orchestrator::api
