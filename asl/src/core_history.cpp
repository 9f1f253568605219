// History events: recording them (the history limit included), the ids of tasks and timers,
// and how an event renders (HistoryEvent).

#include "core_internal.hpp"

namespace switchyard::asl {

namespace core_internal {

int64_t Runner::Emit(std::string_view type, std::string_view details_key, Json details) {
  return EmitText(type, details_key, details_key.empty() ? std::string() : DumpJson(details));
}

int64_t Runner::EmitText(std::string_view type, std::string_view details_key,
                         std::string details_json, std::string_view payload_field,
                         std::string payload_text) {
  if (history_full_) return 0;
  if (impl_.type == ExecutionType::kStandard && impl_.last_event_id + 1 >= kMaxHistoryEvents &&
      !type.starts_with("Execution")) {
    // AWS: the 25,000th event is ExecutionFailed. Whatever this step does from here on is
    // neither recorded nor carried out; Handle ends the execution once the step unwinds.
    history_full_ = true;
    commands_at_limit_ = step_.commands.size();
    impl_.status = ExecutionStatus::kFailed;  // stops every loop that drives frames
    return 0;
  }
  HistoryEvent& event = step_.history.emplace_back();
  event.id = ++impl_.last_event_id;
  event.previous_event_id = event.id - 1;
  event.timestamp = now_;
  event.type = type;
  event.details_key = details_key;
  event.details_json = std::move(details_json);
  event.payload_field = payload_field;
  event.payload_text = std::move(payload_text);
  return impl_.last_event_id;
}

void Runner::EmitStateEntered(const State& state, std::string input_text) {
  if (EmitText(StateEventType(state.type, kEntered), "stateEnteredEventDetails", {}, "input",
               std::move(input_text)) != 0) {
    step_.history.back().state_name = state.name;
  }
}

void Runner::EmitStateExited(const State& state, const Json& output) {
  EmitStateExited(state, DumpJson(output));
}

void Runner::EmitStateExited(const State& state, std::string output_text) {
  if (EmitText(StateEventType(state.type, kExited), "stateExitedEventDetails", {}, "output",
               std::move(output_text)) != 0) {
    step_.history.back().state_name = state.name;
  }
}

Json Runner::ErrorDetails(const std::string& error, const std::string& cause) {
  Json details = JsonObject();
  if (!error.empty()) JsonSet(details, "error", JsonString(error));
  if (!cause.empty()) JsonSet(details, "cause", JsonString(cause));
  return details;
}

std::string Runner::NextId(std::string_view prefix, const Frame& frame) {
  // Base 36 keeps the id within std::string's inline buffer (15 characters) for a Map of
  // hundreds of thousands of iterations ("task-4fti~255t"), where decimal numbers would put
  // every copy of it (the frame's, the command's, the driver's tables and events) on the heap.
  char numbers[32];  // two int64s in base 36: 13 digits each at most
  char* end = std::to_chars(numbers, numbers + sizeof(numbers), impl_.next_serial++, 36).ptr;
  *end++ = kIdFrameSeparator;
  end = std::to_chars(end, numbers + sizeof(numbers), frame.id, 36).ptr;
  std::string id;
  id.reserve(prefix.size() + static_cast<std::size_t>(end - numbers));
  id.append(prefix).append(numbers, end);
  return id;
}

void Runner::SetToken(Frame& frame, std::string token) {
  ClearToken(frame);
  frame.token = std::move(token);
  impl_.Index(frame.token, frame.id);
}

[[gnu::noinline]] void Runner::ClearIndexed(std::string& key, int64_t frame_id) {
  impl_.Unindex(key, frame_id);
  key.clear();
}

void Runner::EraseFrame(int64_t frame_id) {
  auto it = impl_.frames.find(frame_id);
  if (it == impl_.frames.end()) return;
  impl_.UnindexFrame(it->second);
  impl_.frames.erase(it);
}

}  // namespace core_internal

Json HistoryEvent::ToJson() const {
  Json object = JsonObject();
  JsonSet(object, "id", JsonInt(id));
  JsonSet(object, "previousEventId", JsonInt(previous_event_id));
  JsonSet(object, "timestamp", JsonString(FormatTimestamp(timestamp)));
  JsonSet(object, "type", JsonString(type));
  if (!details_key.empty()) JsonSet(object, details_key, Details());
  return object;
}

Json HistoryEvent::Details() const {
  Json parsed_details = JsonObject();
  if (!details_json.empty()) {
    std::optional<Json> parsed = ParseJson(details_json);
    if (parsed && parsed->IsObject()) parsed_details = std::move(*parsed);
  }
  // AWS's order: name, the payload, its "...Details", then the rest.
  Json details = JsonObject();
  auto member = parsed_details.MemberBegin();
  if (!state_name.empty()) {
    JsonSet(details, "name", JsonString(state_name));
  } else if (member != parsed_details.MemberEnd() && JsonView(member->name) == "name") {
    JsonSet(details, "name", std::move(member->value));
    ++member;
  }
  if (!payload_field.empty()) {
    JsonSet(details, payload_field, JsonString(payload_text));
    if (JsonFind(parsed_details, std::string(payload_field) + "Details") == nullptr) {
      Json truncated = JsonObject();
      JsonSet(truncated, "truncated", JsonBool(false));
      JsonSet(details, std::string(payload_field) + "Details", std::move(truncated));
    }
  }
  for (; member != parsed_details.MemberEnd(); ++member) {
    JsonSet(details, JsonView(member->name), std::move(member->value));
  }
  return details;
}

std::string HistoryEvent::DetailsText() const {
  if (!details_json.empty()) {
    // Nothing to put in front of the core's own object (written by DumpJson): it is the text.
    if (state_name.empty() && payload_field.empty() && details_json.front() == '{') {
      return details_json;
    }
    return DumpJson(Details());
  }
  // The members Details() puts in, in its order: name, the payload, its "...Details".
  std::string text;
  text.reserve(payload_text.size() + state_name.size() + 64);
  text += '{';
  if (!state_name.empty()) {
    text += "\"name\":";
    AppendJsonString(text, state_name);
  }
  if (!payload_field.empty()) {
    if (text.size() > 1) text += ',';
    text += '"';
    text.append(payload_field);
    text += "\":";
    AppendJsonString(text, payload_text);
    text += ",\"";
    text.append(payload_field);
    text += "Details\":{\"truncated\":false}";
  }
  text += '}';
  return text;
}

}  // namespace switchyard::asl
