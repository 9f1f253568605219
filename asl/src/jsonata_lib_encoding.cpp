// JSONata's encoding functions ($base64*, $encodeUrl*, $decodeUrl*) as jsonata-js runs them on
// Node (btoa/atob through Buffer 'binary', encodeURI & co.), and AWS Step Functions' $hash,
// $random and $uuid.
#include <openssl/evp.h>

#include <array>
#include <cctype>
#include <cmath>

#include "jsonata_lib.hpp"

namespace switchyard::asl::jsonata_lib {

namespace {

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr char kHexLower[] = "0123456789abcdef";

// Decodes one code point at `i` (advancing it). Bytes ED A0..BF xx (a surrogate written as
// CESU-8, what a lone "\ud800" escape leaves) come back as the surrogate's value; an ill-formed
// byte as U+FFFD.
uint32_t NextCodePoint(std::string_view s, std::size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) -> uint32_t {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) & 0x3Fu : 0u;
  };
  if (c < 0x80) {
    i += 1;
    return c;
  }
  if (c < 0xE0) {
    const uint32_t cp = ((c & 0x1Fu) << 6) | cont(1);
    i += 2;
    return cp;
  }
  if (c < 0xF0) {
    const uint32_t cp = ((c & 0x0Fu) << 12) | (cont(1) << 6) | cont(2);
    i += 3;
    return cp;
  }
  const uint32_t cp = ((c & 0x07u) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
  i += 4;
  return cp;
}

bool IsSurrogate(uint32_t cp) { return cp >= 0xD800 && cp <= 0xDFFF; }

JsonataError MalformedUrl(std::string_view function_name, std::string_view value) {
  return LibError("D3140", "Malformed URL passed to $" + std::string(function_name) +
                               "(): " + std::string(value));
}

// encodeURI / encodeURIComponent: every byte of a character outside `unescaped` as %XX.
Outcome<std::string> Encode(std::string_view str, std::string_view unescaped,
                            std::string_view function_name) {
  std::string out;
  out.reserve(str.size());
  for (std::size_t i = 0; i < str.size();) {
    const std::size_t begin = i;
    const uint32_t cp = NextCodePoint(str, i);
    if (cp < 0x80 && (std::isalnum(static_cast<int>(cp)) != 0 ||
                      unescaped.find(static_cast<char>(cp)) != std::string_view::npos)) {
      out += static_cast<char>(cp);
      continue;
    }
    if (IsSurrogate(cp)) return MalformedUrl(function_name, str);
    for (std::size_t k = begin; k < i && k < str.size(); ++k) {
      const auto b = static_cast<unsigned char>(str[k]);
      out += '%';
      out += kHexUpper[b >> 4];
      out += kHexUpper[b & 0xF];
    }
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// decodeURI / decodeURIComponent (ECMAScript's Decode): %XX sequences must form well-formed
// UTF-8; a decoded ASCII character in `reserved` keeps its escape.
Outcome<std::string> Decode(std::string_view str, std::string_view reserved,
                            std::string_view function_name) {
  std::string out;
  out.reserve(str.size());
  auto byte_at = [&](std::size_t k) -> int {
    if (k + 2 >= str.size() || str[k] != '%') return -1;
    const int hi = HexValue(str[k + 1]);
    const int lo = HexValue(str[k + 2]);
    if (hi < 0 || lo < 0) return -1;
    return hi * 16 + lo;
  };
  for (std::size_t i = 0; i < str.size();) {
    if (str[i] != '%') {
      out += str[i++];
      continue;
    }
    const int b = byte_at(i);
    if (b < 0) return MalformedUrl(function_name, str);
    if (b < 0x80) {
      if (reserved.find(static_cast<char>(b)) != std::string_view::npos) {
        out.append(str.substr(i, 3));
      } else {
        out += static_cast<char>(b);
      }
      i += 3;
      continue;
    }
    int n = 0;
    if ((b & 0xE0) == 0xC0) {
      n = 2;
    } else if ((b & 0xF0) == 0xE0) {
      n = 3;
    } else if ((b & 0xF8) == 0xF0) {
      n = 4;
    } else {
      return MalformedUrl(function_name, str);
    }
    std::string bytes(1, static_cast<char>(b));
    std::size_t k = i + 3;
    for (int j = 1; j < n; ++j) {
      const int cb = byte_at(k);
      if (cb < 0 || (cb & 0xC0) != 0x80) return MalformedUrl(function_name, str);
      bytes += static_cast<char>(cb);
      k += 3;
    }
    if (!IsValidUtf8(bytes)) return MalformedUrl(function_name, str);
    out += bytes;
    i = k;
  }
  return out;
}

constexpr std::string_view kUriReserved = ";/?:@&=+$,#";
constexpr std::string_view kUriMark = "-_.!~*'()";

}  // namespace

std::string Base64Encode(std::string_view str) {
  // Buffer.from(str, 'binary'): the low byte of each UTF-16 code unit.
  std::string bytes;
  bytes.reserve(str.size());
  for (std::size_t i = 0; i < str.size();) {
    const uint32_t cp = NextCodePoint(str, i);
    if (cp >= 0x10000) {
      const uint32_t v = cp - 0x10000;
      bytes += static_cast<char>((0xD800 + (v >> 10)) & 0xFF);
      bytes += static_cast<char>((0xDC00 + (v & 0x3FF)) & 0xFF);
    } else {
      bytes += static_cast<char>(cp & 0xFF);
    }
  }
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto at = [&](std::size_t k) {
    return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += kBase64Alphabet[(n >> 6) & 63];
    out += kBase64Alphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = at(i) << 16;
    if (rest == 2) n |= at(i + 1) << 8;
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += rest == 2 ? kBase64Alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string Base64Decode(std::string_view str) {
  // Node's base64 decoder: both alphabets, characters outside them skipped, stops at '='.
  std::string bytes;
  uint32_t acc = 0;
  int bits = 0;
  for (const char c : str) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '+' || c == '-') v = 62;
    if (c == '/' || c == '_') v = 63;
    if (c == '=') break;
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // toString('binary'): each byte is the code point U+0000..U+00FF.
  std::string out;
  out.reserve(bytes.size());
  for (const char b : bytes) AppendUtf8(out, static_cast<unsigned char>(b));
  return out;
}

Outcome<std::string> EncodeUrl(std::string_view str) {
  return Encode(str, std::string(kUriReserved) + std::string(kUriMark), "encodeUrl");
}

Outcome<std::string> EncodeUrlComponent(std::string_view str) {
  return Encode(str, kUriMark, "encodeUrlComponent");
}

Outcome<std::string> DecodeUrl(std::string_view str) {
  return Decode(str, kUriReserved, "decodeUrl");
}

Outcome<std::string> DecodeUrlComponent(std::string_view str) {
  return Decode(str, "", "decodeUrlComponent");
}

Outcome<std::string> Hash(std::string_view value, std::string_view algorithm) {
  const EVP_MD* md = nullptr;
  if (algorithm == "MD5") md = EVP_md5();
  if (algorithm == "SHA-1") md = EVP_sha1();
  if (algorithm == "SHA-256") md = EVP_sha256();
  if (algorithm == "SHA-384") md = EVP_sha384();
  if (algorithm == "SHA-512") md = EVP_sha512();
  if (md == nullptr) {
    return LibError("D3137",
                    "The hash algorithm of $hash must be one of MD5, SHA-1, SHA-256, "
                    "SHA-384, SHA-512, but was '" +
                        std::string(algorithm) + "'");
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(value.data(), value.size(), digest.data(), &length, md, nullptr) != 1) {
    return LibError("D3137", "$hash could not compute the " + std::string(algorithm) + " digest");
  }
  std::string out;
  out.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    out += kHexLower[digest[i] >> 4];
    out += kHexLower[digest[i] & 0xF];
  }
  return out;
}

double RandomSeeded(int64_t seed) {
  // java.util.Random: 48-bit LCG; nextDouble() = ((next(26) << 27) + next(27)) * 2^-53.
  constexpr uint64_t kMultiplier = 0x5DEECE66DULL;
  constexpr uint64_t kMask = (1ULL << 48) - 1;
  uint64_t state = (static_cast<uint64_t>(seed) ^ kMultiplier) & kMask;
  auto next = [&](int bits) {
    state = (state * kMultiplier + 0xB) & kMask;
    return static_cast<uint64_t>(state >> (48 - bits));
  };
  const uint64_t high = next(26);
  const uint64_t low = next(27);
  return static_cast<double>((high << 27) + low) * 0x1.0p-53;
}

double RandomFrom(RandomSource& random) {
  return static_cast<double>(random.NextU64() >> 11) * 0x1.0p-53;
}

std::string UuidFrom(RandomSource& random) {
  std::array<uint8_t, 16> bytes{};
  const uint64_t high = random.NextU64();
  const uint64_t low = random.NextU64();
  for (std::size_t i = 0; i < 8; ++i) {
    bytes[i] = static_cast<uint8_t>(high >> (56 - 8 * i));
    bytes[i + 8] = static_cast<uint8_t>(low >> (56 - 8 * i));
  }
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHexLower[bytes[i] >> 4];
    out += kHexLower[bytes[i] & 0xF];
  }
  return out;
}

}  // namespace switchyard::asl::jsonata_lib
