#include "engine/checkpoint.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <string_view>
#include <utility>

#include "core/errors.hpp"
#include "core/version.hpp"
#include "model/checkpoint.hpp"
#include "output/dataset.hpp"
#include "scenario/tree.hpp"

namespace migsim {

namespace {

constexpr char kMagic[8] = {'M', 'I', 'G', 'S', 'I', 'M', 'C', 'K'};
constexpr std::uint32_t kFormat = 3;  // 2: the unemployed's hiring bounds; 3: XXH3 checksum

/// The payload's checksum: XXH3's 64-bit hash (libxxhash), fed a part at a time. (Format 2
/// used FNV-1a, a byte at a time: 0.7 s of CPU for the Americas' 530 MB of agents.)
class Checksum {
 public:
  Checksum() : state_(XXH3_createState()) {
    if (!state_ || XXH3_64bits_reset(state_) != XXH_OK) throw std::bad_alloc();
  }
  ~Checksum() { XXH3_freeState(state_); }
  Checksum(const Checksum&) = delete;
  Checksum& operator=(const Checksum&) = delete;
  void add(const char* p, std::size_t n) { XXH3_64bits_update(state_, p, n); }
  std::uint64_t value() const { return XXH3_64bits_digest(state_); }

 private:
  XXH3_state_t* state_;
};

void put_header(ByteWriter& w, const CheckpointHeader& h) {
  w.put_string(h.migsim_version);
  w.put_string(h.scenario_yaml);
  w.put<std::uint64_t>(h.scenario_files.size());
  for (const auto& f : h.scenario_files) w.put_string(f);
  w.put(h.seed);
  w.put<std::int32_t>(h.months);
  w.put<std::int32_t>(h.months_done);
  w.put_string(h.output);
  w.put<std::uint8_t>(h.force ? 1 : 0);
  w.put<std::int32_t>(h.checkpoint_every);
  w.put_string(h.command);
}

CheckpointHeader get_header(ByteReader& r) {
  CheckpointHeader h;
  h.migsim_version = r.get_string();
  h.scenario_yaml = r.get_string();
  const auto files = r.get<std::uint64_t>();
  if (files > 1000) throw CheckpointError("damaged (too many scenario files)");
  for (std::uint64_t k = 0; k < files; ++k) h.scenario_files.push_back(r.get_string());
  h.seed = r.get<std::uint64_t>();
  h.months = r.get<std::int32_t>();
  h.months_done = r.get<std::int32_t>();
  h.output = r.get_string();
  h.force = r.get<std::uint8_t>() != 0;
  h.checkpoint_every = r.get<std::int32_t>();
  h.command = r.get_string();
  return h;
}

}  // namespace

void write_checkpoint(const std::string& path, const CheckpointHeader& header, const Model& model,
                      const Recorder* recorder) {
  ByteWriter w;
  put_header(w, header);
  if (recorder) {
    auto& rec = const_cast<Recorder&>(*recorder);
    w.put<std::int32_t>(rec.months());
    w.put<std::uint64_t>(rec.int_series().size());
    for (const auto& v : rec.int_series()) w.put_vector(v);
    w.put<std::uint64_t>(rec.float_series().size());
    for (const auto& v : rec.float_series()) w.put_vector(v);
  }
  AgentRecords agents;
  model.save_state(w, agents);  // collective
  if (model.comm().rank() != 0) return;

  namespace fs = std::filesystem;
  const fs::path final_path(path);
  const std::string tmp = output::temp_name(final_path);  // checked with the output's path by run_scenario
  {
    // The file: magic, format, the payload's size, the payload (the state in `w`, then the
    // agents' records in id order, streamed from `agents` a block at a time rather than
    // copied into `w` first: at 33M agents each copy was 530 MB more memory, zeroed and
    // touched a first time), and the payload's checksum.
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    const auto size = static_cast<std::uint64_t>(w.bytes.size() + agents.size() * AgentRecords::kRecordBytes);
    Checksum sum;
    sum.add(w.bytes.data(), w.bytes.size());
    out.write(kMagic, sizeof kMagic);
    out.write(reinterpret_cast<const char*>(&kFormat), sizeof kFormat);
    out.write(reinterpret_cast<const char*>(&size), sizeof size);
    out.write(w.bytes.data(), static_cast<std::streamsize>(w.bytes.size()));
    constexpr std::size_t kRecordsPerBlock = 1 << 16;
    std::vector<char> block(kRecordsPerBlock * AgentRecords::kRecordBytes);
    std::size_t written = 0;
    while (out) {
      const std::size_t m = agents.fill(block.data(), kRecordsPerBlock);
      if (m == 0) break;
      written += m;
      sum.add(block.data(), m * AgentRecords::kRecordBytes);
      out.write(block.data(), static_cast<std::streamsize>(m * AgentRecords::kRecordBytes));
    }
    if (out && written != agents.size()) {
      out.close();
      std::error_code ec;
      fs::remove(tmp, ec);
      throw std::logic_error("checkpoint: agents' records miscounted");
    }
    const std::uint64_t digest = sum.value();
    out.write(reinterpret_cast<const char*>(&digest), sizeof digest);
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw RuntimeFailure(path + ": cannot write the checkpoint (is the disk full or the folder read-only?)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, final_path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw RuntimeFailure(path + ": cannot move the checkpoint into place (" + ec.message() + ")");
  }
}

bool is_checkpoint_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[sizeof kMagic] = {};
  in.read(head, sizeof head);
  return in.gcount() == static_cast<std::streamsize>(sizeof head) && std::memcmp(head, kMagic, sizeof kMagic) == 0;
}

CheckpointState::~CheckpointState() {
  if (map_) munmap(map_, bytes_);
}

CheckpointState& CheckpointState::operator=(CheckpointState&& o) noexcept {
  if (this != &o) {
    if (map_) munmap(map_, bytes_);
    map_ = std::exchange(o.map_, nullptr);
    copy_ = std::move(o.copy_);
    bytes_ = std::exchange(o.bytes_, 0);
    offset_ = std::exchange(o.offset_, 0);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

CheckpointHeader read_checkpoint(const std::string& path, CheckpointState* rest, bool map) {
  auto bad = [&](const std::string& why) -> InputError {
    return InputError({path + ": cannot resume from this checkpoint: " + why});
  };
  auto cannot_read = [&](int err) { return bad(std::string("cannot read it (") + std::strerror(err) + ")"); };
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw bad("no such file");
  // The file is mapped rather than read into memory: at the Americas' 530 MB, reading it
  // byte by byte into a growing vector and copying its state out took most of a 16 s resume.
  // A file system that cannot map files is read from into memory instead.
  CheckpointState file;
  {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw cannot_read(errno);
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw cannot_read(errno);
    std::size_t bytes = st.st_size > 0 ? static_cast<std::size_t>(st.st_size) : 0;
    void* p = MAP_FAILED;
    int map_err = 0;
    if (bytes > 0 && map) {
      p = ::mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) map_err = errno;
    }
    // Only where the file system cannot map this file (some network and FUSE ones): any
    // other failure (no memory or address space left, say) is reported as it is.
    const bool cannot_map = map_err == ENODEV || map_err == EINVAL || map_err == EOPNOTSUPP ||
                            map_err == EACCES || map_err == EPERM;
    if (map_err && !cannot_map) throw cannot_read(map_err);
    if (p != MAP_FAILED) {
      file.map_ = p;
    } else if (bytes > 0) {
      try {
        file.copy_ = std::make_unique_for_overwrite<char[]>(bytes);
      } catch (const std::bad_alloc&) {
        throw bad("cannot read it into memory (" + std::to_string(bytes >> 20) + " MiB; this file system cannot map it)");
      }
      std::size_t got = 0;
      while (got < bytes) {
        const ssize_t k = ::pread(fd, file.copy_.get() + got, bytes - got, static_cast<off_t>(got));
        if (k > 0) got += static_cast<std::size_t>(k);
        else if (k == 0) break;  // shorter than fstat said: the checks below call it truncated
        else if (errno != EINTR) throw cannot_read(errno);
      }
      bytes = got;
    }
    file.bytes_ = bytes;
  }
  const std::string_view all(file.data(), file.bytes_);  // offset_ is still 0
  if (all.size() < sizeof kMagic || std::memcmp(all.data(), kMagic, sizeof kMagic) != 0)
    throw bad("not a migsim checkpoint (it does not start with MIGSIMCK)");
  const std::size_t head = sizeof kMagic + 4 + 8;
  if (all.size() < head + 8) throw bad("truncated (the file ends too early)");
  std::uint32_t format = 0;
  std::uint64_t size = 0, sum = 0;
  std::memcpy(&format, all.data() + sizeof kMagic, 4);
  std::memcpy(&size, all.data() + sizeof kMagic + 4, 8);
  if (format != kFormat)
    throw bad("written in checkpoint format " + std::to_string(format) + "; this migsim reads format " +
              std::to_string(kFormat));
  if (size != all.size() - head - 8)
    throw bad("truncated or damaged (it holds " + std::to_string(all.size()) + " bytes, its header promises " +
              std::to_string(size + head + 8) + ")");
  std::memcpy(&sum, all.data() + head + size, 8);
  if (XXH3_64bits(all.data() + head, size) != sum) throw bad("damaged (its checksum does not match its contents)");
  ByteReader r(all.data() + head, size);
  CheckpointHeader h;
  try {
    h = get_header(r);
  } catch (const CheckpointError& e) {
    throw bad(e.what());
  }
  if (h.migsim_version != version())
    throw bad("written by migsim " + h.migsim_version + ", this is migsim " + version() +
              "; resume with the same version (the model may differ between versions)");
  if (rest) {
    file.size_ = r.remaining();
    file.offset_ = all.size() - 8 - file.size_;
    *rest = std::move(file);
  }
  return h;
}

void restore_checkpoint(const std::string& path, const CheckpointState& rest, Model& model, Recorder* recorder) {
  ByteReader r(rest.data(), rest.size());
  try {
    const auto months = r.get<std::int32_t>();
    const auto n_int = r.get<std::uint64_t>();
    std::vector<std::vector<std::int64_t>> ints;
    for (std::uint64_t k = 0; k < n_int && k < 1000; ++k) ints.push_back(r.get_vector<std::int64_t>());
    const auto n_float = r.get<std::uint64_t>();
    std::vector<std::vector<double>> floats;
    for (std::uint64_t k = 0; k < n_float && k < 1000; ++k) floats.push_back(r.get_vector<double>());
    if (recorder) {
      if (ints.size() != recorder->int_series().size() || floats.size() != recorder->float_series().size())
        throw CheckpointError("does not fit the scenario: its recorded series differ");
      recorder->int_series() = std::move(ints);
      recorder->float_series() = std::move(floats);
      recorder->set_months(months);
    }
    model.load_state(r);
    if (recorder && model.months_done() != months)
      throw CheckpointError("damaged (its recorded months and model month differ)");
    if (r.remaining() != 0) throw CheckpointError("damaged (unexpected bytes at its end)");
  } catch (const CheckpointError& e) {
    throw InputError({path + ": cannot resume from this checkpoint: " + e.what()});
  }
}

Scenario checkpoint_scenario(const CheckpointHeader& header, const std::string& path) {
  try {
    const scenario::Node root = scenario::parse_text(header.scenario_yaml, path + " (its scenario)");
    return load_scenario_tree(root, header.scenario_files);
  } catch (const InputError& e) {
    std::vector<std::string> problems = {path + ": the scenario stored in the checkpoint does not load:"};
    for (const auto& p : e.problems()) problems.push_back(p);
    throw InputError(problems);
  }
}

}  // namespace migsim
