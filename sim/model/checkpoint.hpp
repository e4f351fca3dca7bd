#pragma once
/// @file checkpoint.hpp
/// Bytes in and out, for checkpoints: fixed-width little-endian integers and IEEE doubles
/// (the hosts of one run share a byte order), length-prefixed strings and vectors. A
/// reader that runs past its end throws CheckpointError ("truncated"): a damaged file is
/// reported, never read as garbage.

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace migsim {

/// A checkpoint that cannot be used: damaged, truncated, or not of this run.
class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ByteWriter {
 public:
  std::vector<char> bytes;
  template <typename T>
  void put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto* p = reinterpret_cast<const char*>(&v);
    bytes.insert(bytes.end(), p, p + sizeof(T));
  }
  template <typename T>
  void put_vector(const std::vector<T>& v) {
    static_assert(std::is_arithmetic_v<T>);
    put<std::uint64_t>(v.size());
    const auto* p = reinterpret_cast<const char*>(v.data());
    bytes.insert(bytes.end(), p, p + v.size() * sizeof(T));
  }
  void put_string(const std::string& s) {
    put<std::uint64_t>(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
};

class ByteReader {
 public:
  ByteReader(const char* data, std::size_t size) : p_(data), end_(data + size) {}
  template <typename T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    need(sizeof(T));
    T v;
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    return v;
  }
  template <typename T>
  std::vector<T> get_vector(std::size_t max_items = std::size_t{1} << 40) {
    const auto n = get<std::uint64_t>();
    if (n > max_items || n > remaining() / sizeof(T)) throw CheckpointError("truncated or damaged (a list is too long)");
    std::vector<T> v(static_cast<std::size_t>(n));
    std::memcpy(v.data(), p_, v.size() * sizeof(T));
    p_ += v.size() * sizeof(T);
    return v;
  }
  std::string get_string() {
    const auto n = get<std::uint64_t>();
    if (n > remaining()) throw CheckpointError("truncated or damaged (a text is too long)");
    std::string s(p_, static_cast<std::size_t>(n));
    p_ += n;
    return s;
  }
  /// The next `n` bytes, in place.
  const char* take(std::size_t n) {
    need(n);
    const char* at = p_;
    p_ += n;
    return at;
  }
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }

 private:
  void need(std::size_t n) const {
    if (remaining() < n) throw CheckpointError("truncated (the file ends too early)");
  }
  const char* p_;
  const char* end_;
};

}  // namespace migsim
