#pragma once
/// @file ensemble.hpp
/// The ensemble file of a sweep (docs/experiments.md): every time series of a run gains a
/// leading `member` dimension; along it go `seed`, `replicate`, one variable per varied
/// parameter (named by its key path), `member_ok` and `member_error`. Static variables
/// (country_name, pathway_kind, ...) keep their dimensions.
///
/// A member is first a member dataset: the run's dataset plus global attributes saying
/// which experiment and member it is (what `migsim sweep --member K` writes). The
/// ensemble is stacked from member datasets alone, so `migsim sweep` (members in memory)
/// and `migsim merge` (member files) build it with the same code and get the same file.

#include <string>
#include <vector>

#include "engine/batch.hpp"
#include "engine/experiment.hpp"
#include "output/dataset.hpp"

namespace migsim {

/// Prefix of the member-file attributes that hold the member's parameter values.
inline constexpr const char* kParameterAttrPrefix = "parameter: ";

/// The run dataset of member `member` with its member attributes added.
output::Dataset member_dataset(const Experiment& e, int member, BatchResult result);

/// Facts about the process that builds the ensemble (the volatile attributes).
struct EnsembleInfo {
  int threads = 1;
  std::string start_time_utc;
  std::string command;
};

/// Stacks member datasets (any order; each member of the experiment exactly once) into
/// the ensemble dataset. Throws InputError when members are missing, repeated or come from
/// different experiments.
output::Dataset stack_members(std::vector<output::Dataset> members, const EnsembleInfo& info);

/// Reads member files (from `migsim sweep --member K`) and stacks them. Throws InputError
/// naming the files that do not fit, and listing missing members.
output::Dataset merge_member_files(const std::vector<std::string>& files, const EnsembleInfo& info);

}  // namespace migsim
