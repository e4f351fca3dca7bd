#include "engine/ensemble.hpp"

#include <unistd.h>

#include <algorithm>
#include <map>

#include "core/errors.hpp"

namespace migsim {

using output::AttrValue;
using output::Attributes;
using output::Dataset;
using output::Variable;

namespace {

const AttrValue* find_attr(const Attributes& attrs, const std::string& name) {
  for (const auto& [k, v] : attrs)
    if (k == name) return &v;
  return nullptr;
}

template <typename T>
const T* attr_as(const Attributes& attrs, const std::string& name) {
  const AttrValue* v = find_attr(attrs, name);
  return v ? std::get_if<T>(v) : nullptr;
}

void set_attr(Attributes& attrs, const std::string& name, AttrValue value) {
  for (auto& [k, v] : attrs) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  attrs.emplace_back(name, std::move(value));
}

std::int64_t int_attr(const Attributes& attrs, const std::string& name, const std::string& file) {
  const AttrValue* v = find_attr(attrs, name);
  if (v) {
    if (const auto* i = std::get_if<std::int32_t>(v)) return *i;
    if (const auto* i = std::get_if<std::int64_t>(v)) return *i;
  }
  throw InputError({file + ": not a member file of `migsim sweep --member` (no integer attribute " + name + ")"});
}

std::string string_attr(const Attributes& attrs, const std::string& name, const std::string& file) {
  if (const auto* s = attr_as<std::string>(attrs, name)) return *s;
  throw InputError({file + ": not a member file of `migsim sweep --member` (no attribute " + name + ")"});
}

/// The variables that gain the member dimension: the run's time series (not `step`, which is
/// the same in every run).
bool is_series(const Variable& v) { return !v.dims.empty() && v.dims[0] == "time" && v.name != "step"; }

}  // namespace

Dataset member_dataset(const Experiment& e, int member, BatchResult result) {
  Dataset ds = std::move(result.data);
  Attributes& a = ds.attrs;
  a.emplace_back("experiment", e.text);
  a.emplace_back("experiment_name", e.name);
  a.emplace_back("experiment_file", e.file);
  a.emplace_back("experiment_members", static_cast<std::int32_t>(e.members()));
  a.emplace_back("experiment_replicates", static_cast<std::int32_t>(e.replicates));
  a.emplace_back("base_scenario", e.base->resolved_yaml);
  a.emplace_back("base_seed", e.base_seed);
  a.emplace_back("member", static_cast<std::int32_t>(member));
  a.emplace_back("replicate", static_cast<std::int32_t>(e.replicate_of(member)));
  a.emplace_back("member_ok", static_cast<std::int32_t>(result.ok ? 1 : 0));
  a.emplace_back("member_error", result.error);
  const DesignPoint& pt = e.points[static_cast<std::size_t>(e.point_of(member))];
  for (std::size_t k = 0; k < e.parameters.size(); ++k) {
    AttrValue v;
    std::visit([&](const auto& x) { v = x; }, pt.values[k]);
    a.emplace_back(std::string(kParameterAttrPrefix) + e.parameters[k].path, v);
  }
  return ds;
}

Dataset stack_members(std::vector<Dataset> members, const EnsembleInfo& info) {
  if (members.empty()) throw InputError({"no members to merge"});
  // Order by member index and check they form one experiment, each member once.
  auto file_of = [](const Dataset& d) {
    const auto* f = attr_as<std::string>(d.attrs, "migsim_member_source");
    return f ? *f : std::string("member dataset");
  };
  std::sort(members.begin(), members.end(), [&](const Dataset& x, const Dataset& y) {
    return int_attr(x.attrs, "member", file_of(x)) < int_attr(y.attrs, "member", file_of(y));
  });
  const Dataset& first = members.front();
  const std::string experiment = string_attr(first.attrs, "experiment", file_of(first));
  const auto total = int_attr(first.attrs, "experiment_members", file_of(first));
  std::vector<std::string> problems;
  std::vector<int> seen(static_cast<std::size_t>(std::max<std::int64_t>(total, 0)), 0);
  for (const auto& m : members) {
    const std::string f = file_of(m);
    if (string_attr(m.attrs, "experiment", f) != experiment || int_attr(m.attrs, "experiment_members", f) != total) {
      problems.push_back(f + ": comes from another experiment than " + file_of(first) +
                         " (the experiment text differs)");
      continue;
    }
    const auto k = int_attr(m.attrs, "member", f);
    if (k < 0 || k >= total) {
      problems.push_back(f + ": member " + std::to_string(k) + " is outside 0.." + std::to_string(total - 1));
    } else if (seen[static_cast<std::size_t>(k)]++) {
      problems.push_back(f + ": member " + std::to_string(k) + " is given twice");
    }
  }
  std::string missing;
  int n_missing = 0;
  for (std::size_t k = 0; k < seen.size(); ++k) {
    if (!seen[k]) {
      if (++n_missing <= 20) missing += (missing.empty() ? "" : ", ") + std::to_string(k);
    }
  }
  if (n_missing > 0) {
    problems.push_back(std::to_string(n_missing) + " of " + std::to_string(total) + " members are missing: " + missing +
                       (n_missing > 20 ? ", ..." : "") + " (run them with `migsim sweep EXPERIMENT --member K`)");
  }
  if (!problems.empty()) throw InputError(problems);

  const auto M = members.size();
  Dataset ens;
  output::Dimension mdim;
  mdim.name = "member";
  mdim.size = M;
  std::vector<std::int32_t> index(M);
  for (std::size_t k = 0; k < M; ++k) index[k] = static_cast<std::int32_t>(k);
  mdim.coordinate.data = index;
  mdim.coordinate.attrs = {{"long_name", std::string("ensemble member (design point x replicate)")},
                           {"units", std::string("1")}};
  ens.dims.push_back(std::move(mdim));
  for (const auto& d : first.dims) ens.dims.push_back(d);

  for (const auto& v : first.vars) {
    if (!is_series(v)) {
      ens.vars.push_back(v);
      continue;
    }
    Variable out;
    out.name = v.name;
    out.dims = v.dims;
    out.dims.insert(out.dims.begin(), "member");
    out.attrs = v.attrs;
    out.data = std::visit(
        [&](const auto& x) -> output::Data {
          using Vec = std::decay_t<decltype(x)>;
          Vec all;
          all.reserve(x.size() * M);
          for (const auto& m : members) {
            const Variable* mv = m.var(v.name);
            const Vec* data = mv ? std::get_if<Vec>(&mv->data) : nullptr;
            if (!data || data->size() != x.size() || mv->dims != v.dims) {
              throw InputError({file_of(m) + ": variable " + v.name + " differs in shape or type from member 0's"});
            }
            all.insert(all.end(), data->begin(), data->end());
          }
          return all;
        },
        v.data);
    ens.vars.push_back(std::move(out));
  }

  // Along the member dimension: seed, replicate, parameters, ok, error.
  auto member_var = [&](const std::string& name, output::Data data, Attributes attrs) {
    Variable v;
    v.name = name;
    v.dims = {"member"};
    v.data = std::move(data);
    v.attrs = std::move(attrs);
    ens.vars.push_back(std::move(v));
  };
  std::vector<std::uint64_t> seeds;
  std::vector<std::int32_t> replicates;
  std::vector<std::int8_t> ok;
  std::vector<std::string> errors;
  for (const auto& m : members) {
    const auto* s = attr_as<std::uint64_t>(m.attrs, "seed");
    seeds.push_back(s ? *s : 0);
    replicates.push_back(static_cast<std::int32_t>(int_attr(m.attrs, "replicate", file_of(m))));
    ok.push_back(static_cast<std::int8_t>(int_attr(m.attrs, "member_ok", file_of(m))));
    errors.push_back(string_attr(m.attrs, "member_error", file_of(m)));
  }
  member_var("seed", seeds, {{"long_name", std::string("random seed of the member's run")}});
  member_var("replicate", replicates,
             {{"long_name", std::string("replicate number: the same number has the same seed in every design point")},
              {"units", std::string("1")}});
  const std::string prefix = kParameterAttrPrefix;
  for (const auto& [key, value] : first.attrs) {
    if (key.rfind(prefix, 0) != 0) continue;
    const std::string path = key.substr(prefix.size());
    output::Data data = std::visit(
        [&](const auto& x) -> output::Data {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::int32_t>) {
            return std::vector<std::int64_t>{};
          } else {
            return std::vector<T>{};
          }
        },
        value);
    for (const auto& m : members) {
      const AttrValue* mv = find_attr(m.attrs, key);
      if (!mv || mv->index() != value.index()) {
        throw InputError({file_of(m) + ": parameter " + path + " is missing or of another type than in member 0"});
      }
      std::visit(
          [&](auto& vec) {
            using T = typename std::decay_t<decltype(vec)>::value_type;
            if constexpr (std::is_same_v<T, std::int64_t>) vec.push_back(std::get<std::int64_t>(*mv));
            else if constexpr (std::is_same_v<T, double>) vec.push_back(std::get<double>(*mv));
            else if constexpr (std::is_same_v<T, std::string>) vec.push_back(std::get<std::string>(*mv));
            else if constexpr (std::is_same_v<T, std::uint64_t>) vec.push_back(std::get<std::uint64_t>(*mv));
          },
          data);
    }
    member_var(path, std::move(data), {{"long_name", "scenario parameter " + path + " (varied by the experiment)"}});
  }
  member_var("member_ok", ok,
             {{"long_name", std::string("1 if the member's run succeeded; 0: it failed and its series are meaningless")},
              {"units", std::string("1")}});
  member_var("member_error", errors, {{"long_name", std::string("why the member failed (empty when it succeeded)")}});

  // Global attributes: the run's, for the experiment.
  const Attributes& a = first.attrs;
  auto copy = [&](const std::string& name) {
    if (const AttrValue* v = find_attr(a, name)) ens.attrs.emplace_back(name, *v);
  };
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  const std::string ename = string_attr(a, "experiment_name", file_of(first));
  ens.attrs.emplace_back("Conventions", std::string("CF-1.8"));
  ens.attrs.emplace_back("title", "migsim ensemble of experiment " + ename);
  copy("institution");
  copy("source");
  ens.attrs.emplace_back("history", info.start_time_utc + ": " + info.command);
  copy("references");
  copy("migsim_version");
  copy("scenario_name");
  copy("scenario_description");
  copy("scenario_files");
  if (const AttrValue* v = find_attr(a, "base_scenario")) ens.attrs.emplace_back("scenario", *v);
  ens.attrs.emplace_back("experiment", experiment);
  ens.attrs.emplace_back("experiment_name", ename);
  copy("experiment_file");
  if (const AttrValue* v = find_attr(a, "base_seed")) ens.attrs.emplace_back("base_seed", *v);
  ens.attrs.emplace_back("members", static_cast<std::int32_t>(M));
  copy("experiment_replicates");
  copy("people_per_agent");
  copy("start_month");
  copy("months");
  ens.attrs.emplace_back("threads", static_cast<std::int32_t>(info.threads));
  ens.attrs.emplace_back("ranks", static_cast<std::int32_t>(1));
  ens.attrs.emplace_back("start_time_utc", info.start_time_utc);
  ens.attrs.emplace_back("host", std::string(host));
  copy("hdf5_version");
  return ens;
}

Dataset merge_member_files(const std::vector<std::string>& files, const EnsembleInfo& info) {
  std::vector<Dataset> members;
  members.reserve(files.size());
  for (const auto& f : files) {
    Dataset d = output::read_netcdf(f);
    set_attr(d.attrs, "migsim_member_source", f);
    members.push_back(std::move(d));
  }
  return stack_members(std::move(members), info);
}

}  // namespace migsim
