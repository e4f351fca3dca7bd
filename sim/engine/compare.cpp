#include "engine/compare.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "core/errors.hpp"
#include "engine/batch.hpp"
#include "engine/experiment.hpp"
#include "engine/progress.hpp"
#include "engine/recorder.hpp"

namespace migsim {

using output::Dataset;
using output::Variable;

double t_quantile_95(int df) {
  static const double t[] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                             2.201, 2.179,  2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080,
                             2.074, 2.069,  2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (df <= 0) return 0;
  if (df <= 30) return t[df];
  if (df <= 60) return 2.000 + (2.042 - 2.000) * (60 - df) / 30.0;
  if (df <= 120) return 1.980 + (2.000 - 1.980) * (120 - df) / 60.0;
  return 1.960;
}

namespace {

bool is_series(const Variable& v) { return !v.dims.empty() && v.dims[0] == "time" && v.name != "step"; }

std::vector<std::string> coords(const Dataset& d, const std::string& dim) {
  const auto* c = d.dim(dim);
  if (!c) return {};
  return std::get<std::vector<std::string>>(c->coordinate.data);
}

/// Re-lays `d` along dimension `dim` so that its coordinate is `target` (a superset):
/// cells of coordinates `d` lacks are zero (or empty text).
void widen(Dataset& d, const std::string& dim, const std::vector<std::string>& target) {
  const auto have = coords(d, dim);
  if (have == target) return;
  std::vector<long> from(target.size(), -1);  // target index -> index in d, or -1
  for (std::size_t i = 0; i < target.size(); ++i) {
    auto it = std::find(have.begin(), have.end(), target[i]);
    if (it != have.end()) from[i] = it - have.begin();
  }
  auto relayout = [&](Variable& v) {
    auto pos = std::find(v.dims.begin(), v.dims.end(), dim);
    if (pos == v.dims.end()) return;
    const std::size_t p = static_cast<std::size_t>(pos - v.dims.begin());
    std::size_t outer = 1, inner = 1;
    for (std::size_t k = 0; k < v.dims.size(); ++k) {
      if (k == p) continue;
      const std::size_t n = d.dim(v.dims[k])->size;
      (k < p ? outer : inner) *= n;
    }
    std::visit(
        [&](auto& x) {
          using Vec = std::decay_t<decltype(x)>;
          Vec out(outer * target.size() * inner);
          for (std::size_t o = 0; o < outer; ++o)
            for (std::size_t i = 0; i < target.size(); ++i)
              if (from[i] >= 0)
                for (std::size_t q = 0; q < inner; ++q)
                  out[(o * target.size() + i) * inner + q] =
                      x[(o * have.size() + static_cast<std::size_t>(from[i])) * inner + q];
          x = std::move(out);
        },
        v.data);
  };
  for (auto& v : d.vars) relayout(v);
  for (auto& dd : d.dims) {
    if (dd.name == dim) {
      dd.size = target.size();
      dd.coordinate.data = target;
    }
  }
}

std::vector<std::string> union_of(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> u = a;
  for (const auto& x : b)
    if (std::find(u.begin(), u.end(), x) == u.end()) u.push_back(x);
  return u;
}

const std::vector<std::int64_t>& ints(const Dataset& d, const std::string& name) {
  const Variable* v = d.var(name);
  if (!v) throw RuntimeFailure("comparison: no variable " + name);
  return std::get<std::vector<std::int64_t>>(v->data);
}

}  // namespace

std::vector<Difference> differences(const Dataset& ds) {
  const std::size_t S = ds.dim("scenario")->size, R = ds.dim("replicate")->size, T = ds.dim("time")->size;
  const std::size_t O = ds.dim("origin")->size, L = ds.dim("location")->size, K = ds.dim("arrival_kind")->size;
  const auto locations = coords(ds, "location");
  const auto kinds = coords(ds, "arrival_kind");
  if (S != 2) throw RuntimeFailure("comparison: expected two scenarios");
  const auto& stock = ints(ds, "migrant_stock");
  const auto& arrivals = ints(ds, "arrivals");
  constexpr std::size_t kStatusCount = 6, kRegular = 4, kIrregular = 5;

  // Each indicator's value per (scenario, replicate).
  std::vector<std::pair<std::string, std::vector<double>>> ind;
  auto add = [&](const std::string& name, auto value) {
    std::vector<double> v(S * R);
    for (std::size_t s = 0; s < S; ++s)
      for (std::size_t r = 0; r < R; ++r) v[s * R + r] = value(s * R + r);
    ind.emplace_back(name, std::move(v));
  };
  auto stock_end = [&](std::size_t run, std::size_t status, long location) {
    double sum = 0;
    const std::size_t base = (run * T + (T - 1)) * O * L * kStatusCount;
    for (std::size_t o = 0; o < O; ++o)
      for (std::size_t l = 0; l < L; ++l)
        if (location < 0 || l == static_cast<std::size_t>(location)) sum += double(stock[base + (o * L + l) * kStatusCount + status]);
    return sum;
  };
  auto total = [&](const std::string& name) {
    const auto& x = ints(ds, name);
    const std::size_t per = x.size() / (S * R);
    return [&x, per](std::size_t run) {
      double sum = 0;
      for (std::size_t k = 0; k < per; ++k) sum += double(x[run * per + k]);
      return sum;
    };
  };
  const std::string end = " at the end";
  add("migrants settled abroad" + end, [&](std::size_t run) { return stock_end(run, kRegular, -1) + stock_end(run, kIrregular, -1); });
  add("  of whom irregular" + end, [&](std::size_t run) { return stock_end(run, kIrregular, -1); });
  auto arrivals_of = [&](std::size_t run, auto want) {
    double sum = 0;
    const std::size_t per = T * O * L * K;
    for (std::size_t i = 0; i < per; ++i)
      if (want(i % K)) sum += double(arrivals[run * per + i]);
    return sum;
  };
  const auto irregular_kind = static_cast<std::size_t>(std::find(kinds.begin(), kinds.end(), "irregular") - kinds.begin());
  const auto other_kind = static_cast<std::size_t>(std::find(kinds.begin(), kinds.end(), "other") - kinds.begin());
  add("arrivals through pathways", [&](std::size_t run) {
    return arrivals_of(run, [&](std::size_t k) { return k != irregular_kind && k != other_kind; });
  });
  add("irregular arrivals", [&](std::size_t run) { return arrivals_of(run, [&](std::size_t k) { return k == irregular_kind; }); });
  add("applications", total("applications"));
  add("admissions", total("admissions"));
  add("irregular crossings", total("irregular_crossings"));
  add("deaths on routes", total("route_deaths"));
  add("interceptions", total("interceptions"));
  add("vacancies filled by migrants", total("hires"));
  add("returns", total("returns"));
  add("deportations", total("deportations"));

  std::vector<Difference> rows;
  auto summarise = [&](const std::string& name, const std::vector<double>& v) {
    Difference d;
    d.indicator = name;
    d.n = static_cast<int>(R);
    std::vector<double> diff(R);
    for (std::size_t r = 0; r < R; ++r) {
      d.base_mean += v[r] / double(R);
      d.policy_mean += v[R + r] / double(R);
      diff[r] = v[R + r] - v[r];
      d.mean += diff[r] / double(R);
    }
    double ss = 0;
    for (double x : diff) ss += (x - d.mean) * (x - d.mean);
    const double half = R > 1 ? t_quantile_95(static_cast<int>(R) - 1) * std::sqrt(ss / double(R - 1)) / std::sqrt(double(R)) : 0.0;
    d.low = d.mean - half;
    d.high = d.mean + half;
    return d;
  };
  for (const auto& [name, v] : ind) rows.push_back(summarise(name, v));
  // The three destinations whose settled stock changes most.
  std::vector<Difference> by_place;
  for (std::size_t l = 0; l < L; ++l) {
    std::vector<double> v(S * R);
    for (std::size_t run = 0; run < S * R; ++run)
      v[run] = stock_end(run, kRegular, static_cast<long>(l)) + stock_end(run, kIrregular, static_cast<long>(l));
    by_place.push_back(summarise("migrants settled in " + locations[l] + end, v));
  }
  std::stable_sort(by_place.begin(), by_place.end(),
                   [](const Difference& a, const Difference& b) { return std::fabs(a.mean) > std::fabs(b.mean); });
  for (std::size_t k = 0; k < std::min<std::size_t>(3, by_place.size()); ++k) rows.push_back(by_place[k]);
  return rows;
}

namespace {
std::string signed_count(double v) {
  const auto r = static_cast<std::int64_t>(std::llround(v));
  return (r > 0 ? "+" : "") + format_count(r);
}
}  // namespace

std::string format_differences(const std::vector<Difference>& rows, const std::string& base,
                               const std::string& policy) {
  std::string out;
  char line[512];
  const int n = rows.empty() ? 0 : rows.front().n;
  std::snprintf(line, sizeof line, "%s minus %s, mean over %d replicate%s with common random numbers%s\n",
                policy.c_str(), base.c_str(), n, n == 1 ? "" : "s",
                n > 1 ? " (95% interval of the mean difference)" : " (no interval with one replicate)");
  out += line;
  // The two scenarios' columns are as wide as their names (16 at least, 64 at most).
  const std::string bname = base.substr(0, 64), pname = policy.substr(0, 64);
  const int bw = std::max(16, static_cast<int>(bname.size())), pw = std::max(16, static_cast<int>(pname.size()));
  std::snprintf(line, sizeof line, "%-40s %*s %*s %14s  %-31s %8s\n", "indicator (persons)", bw, bname.c_str(), pw,
                pname.c_str(), "difference", "95% interval", "change");
  out += line;
  for (const auto& r : rows) {
    const std::string interval =
        r.n > 1 ? "[" + signed_count(r.low) + ", " + signed_count(r.high) + "]" : std::string("-");
    char change[32] = "-";
    if (r.base_mean != 0) std::snprintf(change, sizeof change, "%+.1f%%", 100.0 * r.mean / r.base_mean);
    std::snprintf(line, sizeof line, "%-40s %*s %*s %14s  %-31s %8s%s\n", r.indicator.c_str(), bw,
                  format_count(std::llround(r.base_mean)).c_str(), pw, format_count(std::llround(r.policy_mean)).c_str(),
                  signed_count(r.mean).c_str(), interval.c_str(), change,
                  r.n > 1 && (r.low > 0 || r.high < 0) ? "  *" : "");
    out += line;
  }
  if (n > 1) out += "* the interval excludes zero\n";
  return out;
}

std::vector<Difference> run_compare(const std::string& base_path, const std::string& policy_path,
                                    const CompareOptions& opt, std::string* base_name, std::string* policy_name) {
  const Scenario base = load_scenario(base_path);
  const Scenario policy = load_scenario(policy_path);
  std::vector<std::string> problems;
  if (base.start != policy.start) problems.push_back(policy_path + ": starts " + policy.start.str() + ", the base " + base.start.str() + "; compared scenarios start together");
  const int months = opt.months ? *opt.months : std::min(base.months(), policy.months());
  if (opt.months && (*opt.months > base.months() || *opt.months > policy.months()))
    problems.push_back("--months: the scenarios run " + std::to_string(base.months()) + " and " + std::to_string(policy.months()) + " months");
  if (!opt.months && base.months() != policy.months())
    problems.push_back(policy_path + ": runs " + std::to_string(policy.months()) + " months, the base " + std::to_string(base.months()) + "; give --months to compare the common part");
  bool same_places = base.n_origins() == policy.n_origins() && base.n_sectors() == policy.n_sectors();
  for (int c = 0; same_places && c < base.n_countries(); ++c)
    same_places = base.countries[c].code == policy.countries[c].code && base.countries[c].regions == policy.countries[c].regions;
  for (int s = 0; same_places && s < base.n_sectors(); ++s) same_places = base.sectors[s].name == policy.sectors[s].name;
  if (!same_places) problems.push_back(policy_path + ": its countries, regions or sectors differ from the base's; a comparison needs the same ones");
  if (!problems.empty()) throw InputError(problems);
  output::check_output_path(opt.output, opt.force);
  output::check_not_an_input(opt.output, base.files);
  output::check_not_an_input(opt.output, policy.files);

  std::string bname = base.name, pname = policy.name;
  if (bname == pname) {
    bname = std::filesystem::path(base_path).stem().string();
    pname = std::filesystem::path(policy_path).stem().string();
  }
  if (bname == pname) {
    bname = "base";
    pname = "policy";
  }
  *base_name = bname;
  *policy_name = pname;

  const std::uint64_t base_seed = opt.seed ? *opt.seed : base.seed;
  std::vector<BatchRun> runs;
  for (const Scenario* s : {&base, &policy})
    for (int r = 0; r < opt.replicates; ++r)
      runs.push_back(BatchRun{s, member_seed(base_seed, r), months,
                              (s == &base ? bname : pname) + " replicate " + std::to_string(r)});
  BatchOptions bopt;
  bopt.threads = opt.threads;
  bopt.parallel = opt.parallel;
  bopt.quiet = opt.quiet;
  bopt.noun = "run";
  bopt.command = opt.command;
  std::vector<BatchResult> results = run_batch(runs, bopt);
  for (std::size_t k = 0; k < results.size(); ++k)
    if (!results[k].ok) throw RuntimeFailure(runs[k].label + " failed: " + results[k].error + "; no output written");

  // Align the pathways and route edges (a policy may add some), then stack.
  for (const char* dim : {"pathway", "edge"}) {
    const auto u = union_of(coords(results.front().data, dim), coords(results.back().data, dim));
    // Static per-pathway / per-edge text (kind, country): the policy's where the base lacks it.
    const auto base_have = coords(results.front().data, dim);
    for (auto& r : results) widen(r.data, dim, u);
    for (auto& v : results.front().data.vars) {
      if (is_series(v) || v.dims != std::vector<std::string>{dim}) continue;
      const Variable* pv = results.back().data.var(v.name);
      if (!pv) continue;
      auto* bs = std::get_if<std::vector<std::string>>(&v.data);
      const auto* ps = std::get_if<std::vector<std::string>>(&pv->data);
      if (!bs || !ps) continue;
      for (std::size_t i = 0; i < u.size(); ++i)
        if (std::find(base_have.begin(), base_have.end(), u[i]) == base_have.end()) (*bs)[i] = (*ps)[i];
    }
  }
  const Dataset& first = results.front().data;
  const auto R = static_cast<std::size_t>(opt.replicates);
  Dataset ds;
  auto dim_of = [](const std::string& name, output::Data values, output::Attributes attrs) {
    output::Dimension d;
    d.name = name;
    d.size = std::visit([](const auto& x) { return x.size(); }, values);
    d.coordinate.data = std::move(values);
    d.coordinate.attrs = std::move(attrs);
    return d;
  };
  ds.dims.push_back(dim_of("scenario", std::vector<std::string>{bname, pname},
                           {{"long_name", std::string("scenario compared (the base first)")}}));
  std::vector<std::int32_t> reps(R);
  for (std::size_t r = 0; r < R; ++r) reps[r] = static_cast<std::int32_t>(r);
  ds.dims.push_back(dim_of("replicate", reps,
                           {{"long_name", std::string("replicate: the same seed in both scenarios (common random numbers)")},
                            {"units", std::string("1")}}));
  for (const auto& d : first.dims) ds.dims.push_back(d);
  for (const auto& v : first.vars) {
    if (!is_series(v)) {
      ds.vars.push_back(v);
      continue;
    }
    Variable out = v;
    out.dims.insert(out.dims.begin(), {"scenario", "replicate"});
    out.data = std::visit(
        [&](const auto& x) -> output::Data {
          using Vec = std::decay_t<decltype(x)>;
          Vec all;
          for (const auto& res : results) {
            const Vec& part = std::get<Vec>(res.data.var(v.name)->data);
            all.insert(all.end(), part.begin(), part.end());
          }
          return all;
        },
        v.data);
    ds.vars.push_back(std::move(out));
  }
  std::vector<std::uint64_t> seeds(R);
  for (std::size_t r = 0; r < R; ++r) seeds[r] = member_seed(base_seed, static_cast<int>(r));
  ds.vars.push_back(Variable{"seed", {"replicate"}, seeds, {{"long_name", std::string("random seed of the replicate (both scenarios)")}}});
  ds.vars.push_back(Variable{"scenario_text", {"scenario"}, std::vector<std::string>{base.resolved_yaml, policy.resolved_yaml},
                             {{"long_name", std::string("the scenario, as run (YAML)")}}});
  ds.attrs = first.attrs;
  for (auto& [k, v] : ds.attrs) {
    if (k == "title") v = "migsim comparison of " + pname + " with " + bname;
    if (k == "seed") v = base_seed;
    if (k == "threads") v = static_cast<std::int32_t>(opt.threads > 0 ? opt.threads : omp_get_max_threads());
  }
  ds.attrs.emplace_back("policy_scenario", policy.resolved_yaml);
  ds.attrs.emplace_back("policy_scenario_files", policy.files.empty() ? std::string() : policy.files.back());
  ds.attrs.emplace_back("replicates", static_cast<std::int32_t>(R));
  const auto rows = differences(ds);
  ds.attrs.emplace_back("differences", format_differences(rows, bname, pname));
  output::write_netcdf(ds, opt.output, {opt.force, 2});
  return rows;
}

}  // namespace migsim
