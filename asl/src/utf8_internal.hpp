#pragma once
// Internal to asl/: the one UTF-8 decoder of the module (json.cpp defines it), shared by the JSON
// layer and the JSONata library.
#include <cstddef>
#include <string>
#include <string_view>

namespace switchyard::asl {

// The length of the well-formed UTF-8 sequence starting at text[i] (i < text.size()), or 0 when
// the sequence is ill-formed (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF);
// then `valid_prefix` is how many of its bytes are a well-formed start (the maximal subpart, at
// least 1) and `bad` the offset of the offending byte (text.size() when truncated).
std::size_t Utf8SequenceAt(std::string_view text, std::size_t i, std::size_t* valid_prefix,
                           std::size_t* bad);

// `text` as code points. Each maximal ill-formed subsequence becomes U+FFFD (as
// Utf8WithReplacements does), so text that is valid UTF-8 round-trips through EncodeUtf8.
std::u32string DecodeUtf8(std::string_view text);

// Code points as UTF-8 (AppendUtf8 of each).
std::string EncodeUtf8(std::u32string_view code_points);

}  // namespace switchyard::asl
