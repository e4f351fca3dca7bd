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
  // Appends by resize and memcpy: vector::insert of a few bytes here set off GCC 12's
  // -Wstringop-overflow (a false positive) once the writer's inlining changed.
  template <typename T>
  void put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    append(&v, sizeof(T));
  }
  void append(const void* p, std::size_t n) {
    if (n == 0) return;
    const std::size_t at = bytes.size();
    bytes.resize(at + n);
    std::memcpy(bytes.data() + at, p, n);
  }
  template <typename T>
  void put_vector(const std::vector<T>& v) {
    static_assert(std::is_arithmetic_v<T>);
    put<std::uint64_t>(v.size());
    append(v.data(), v.size() * sizeof(T));
  }
  void put_string(const std::string& s) {
    put<std::uint64_t>(s.size());
    append(s.data(), s.size());
  }
};

struct Agents;

/// A checkpoint's live agents, which close it, as the writer streams them in id order after
/// the rest of the state (Model::save_state): rank 0's own agents read from its arrays, the
/// other ranks' from the records they sent, without copying the lot into one buffer first.
class AgentRecords {
 public:
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;
  /// One agent's record: id, six one-byte fields, since, job_since, wake (no padding; the
  /// model's checkpoint.cpp checks it against Agents).
  static constexpr std::size_t kRecordBytes = 4 + 6 + 3 * 2;
  /// Live agents in all.
  std::size_t size() const { return count_; }
  /// Writes the next (at most `max`) records in id order to `out`; returns how many.
  std::size_t fill(char* out, std::size_t max);

 private:
  friend class Model;
  const Agents* local_ = nullptr;     // rank 0's agents
  std::vector<char> remote_;          // the other ranks' records
  std::vector<std::uint32_t> where_;  // by id: a slot of local_, local_slots_ + a record of remote_, or kNone
  std::size_t local_slots_ = 0, count_ = 0, cursor_ = 0;
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
