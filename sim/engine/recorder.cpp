#include "engine/recorder.hpp"

#include <unistd.h>

#include <H5public.h>
#include <cstring>
#include <ctime>
#include <utility>
#include <vector>

#include "core/version.hpp"

namespace migsim {

namespace {

// Integer series, in this order.
enum IntSeries {
  kStock, kArrivals, kApplications, kAdmissions, kQuota, kUnused, kCrossings, kRouteDeaths,
  kInterceptions, kEmployed, kSeekers, kHires, kReturns, kDeportations, kNaturalDeaths, kOnward,
  kNewMovers, kGaveUp, kAgents, kIntSeries
};
enum FloatSeries { kVacancies, kFloatSeries };

}  // namespace

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Recorder::Recorder(const Scenario& s) : s_(s), ints_(kIntSeries), floats_(kFloatSeries) {}

void Recorder::reserve(const MonthResult& r, const CounterLayout& L) {
  // Each series' values for every month of the run, allocated once: growing them month by
  // month copied and page-faulted them over again (16 of the 94 ms of the 1M-agent
  // benchmark's loop).
  const std::size_t O = L.origins, C = L.countries, S = L.sectors, P = L.pathways, R = L.routes;
  const std::size_t per_month[kIntSeries] = {O * C * 6, O * C * kArrivalKinds, P, P, P, P, R, R, R, C * S, C * S,
                                             C * S, O * C, O * C, C, C, r.new_movers.size(), O, 1};
  // The scenario's months, at least one more than recorded so far.
  const std::size_t months = static_cast<std::size_t>(std::max(months_ + 1, s_.months()));
  for (int k = 0; k < kIntSeries; ++k) ints_[k].reserve(per_month[k] * months);
  floats_[kVacancies].reserve(r.vacancies.size() * months);
  // Mapped now in one call each rather than page by page as the months fill them, and
  // written once: on the benchmark VM the first write to a page costs about 5 us per 4 KiB
  // even after MADV_POPULATE_WRITE (the host maps it then), which made each month's add
  // 0.15-0.2 ms instead of 0.013 at 1M agents. The series are shared among the threads (the
  // two largest, about 1 MB each at 30 countries and 24 months, go to different threads).
  std::vector<std::pair<void*, std::size_t>> room;
  for (auto& v : ints_) room.emplace_back(v.data() + v.size(), (v.capacity() - v.size()) * sizeof(std::int64_t));
  for (auto& v : floats_) room.emplace_back(v.data() + v.size(), (v.capacity() - v.size()) * sizeof(double));
#pragma omp parallel for schedule(dynamic, 1)
  for (std::size_t k = 0; k < room.size(); ++k) {
    prefault(room[k].first, room[k].second);
    std::memset(room[k].first, 0, room[k].second);
  }
}

void Recorder::add(const MonthResult& r, const CounterLayout& L) {
  const std::int64_t ppa = s_.people_per_agent;
  const int O = L.origins, C = L.countries, S = L.sectors, P = L.pathways, R = L.routes;
  const auto& c = r.counts;
  // Room for the rest of the run (first month, or first after a resume): nothing below
  // reallocates.
  if (ints_[kStock].capacity() < ints_[kStock].size() + static_cast<std::size_t>(O) * C * 6 ||
      ints_[kArrivals].capacity() < ints_[kArrivals].size() + static_cast<std::size_t>(O) * C * kArrivalKinds)
    reserve(r, L);
  // Grown once per series and written through a pointer: a loop the compiler vectorises.
  auto append = [&](IntSeries k, std::size_t from, std::size_t count) {
    auto& v = ints_[k];
    const std::size_t at = v.size();
    v.resize(at + count);
    std::int64_t* out = v.data() + at;
    const std::int64_t* in = c.data() + from;
    for (std::size_t i = 0; i < count; ++i) out[i] = in[i] * ppa;
  };
  append(kStock, L.stock, static_cast<std::size_t>(O) * C * 6);
  append(kArrivals, L.arrivals, static_cast<std::size_t>(O) * C * kArrivalKinds);
  append(kApplications, L.applications, P);
  append(kAdmissions, L.admissions, P);
  for (int p = 0; p < P; ++p) {
    ints_[kQuota].push_back(r.quota[p]);
    const std::int64_t admitted = c[L.admissions + p] * ppa;
    ints_[kUnused].push_back(r.quota[p] < 0 ? 0 : std::max<std::int64_t>(0, r.quota[p] - admitted));
  }
  append(kCrossings, L.crossings, R);
  append(kRouteDeaths, L.route_deaths, R);
  append(kInterceptions, L.interceptions, R);
  for (int l = 0; l < C; ++l) {
    for (int sec = 0; sec < S; ++sec) {
      ints_[kEmployed].push_back(ppa * (c[L.labour_at(l, sec, 0, 1)] + c[L.labour_at(l, sec, 1, 1)]));
      ints_[kSeekers].push_back(ppa * (c[L.labour_at(l, sec, 0, 0)] + c[L.labour_at(l, sec, 1, 0)]));
    }
  }
  append(kHires, L.hires, static_cast<std::size_t>(C) * S);
  append(kReturns, L.returns, static_cast<std::size_t>(O) * C);
  append(kDeportations, L.deportations, static_cast<std::size_t>(O) * C);
  append(kNaturalDeaths, L.natural_deaths, C);
  append(kOnward, L.onward, C);
  for (auto v : r.new_movers) ints_[kNewMovers].push_back(v * ppa);
  append(kGaveUp, L.gave_up, O);
  ints_[kAgents].push_back(r.agents);
  floats_[kVacancies].insert(floats_[kVacancies].end(), r.vacancies.begin(), r.vacancies.end());
  ++months_;
}

output::Dataset Recorder::dataset(const RunInfo& info) const { return build(info, ints_, floats_); }

output::Dataset Recorder::take_dataset(const RunInfo& info) {
  output::Dataset ds = build(info, std::move(ints_), std::move(floats_));
  ints_.assign(kIntSeries, {});
  floats_.assign(kFloatSeries, {});
  months_ = 0;
  return ds;
}

output::Dataset Recorder::build(const RunInfo& info, std::vector<std::vector<std::int64_t>> ints,
                                std::vector<std::vector<double>> floats) const {
  using output::Attributes;
  using output::Dimension;
  using output::Variable;
  const Scenario& s = s_;
  output::Dataset ds;
  auto strings_dim = [&](const std::string& name, std::vector<std::string> values, const std::string& long_name) {
    Dimension d;
    d.name = name;
    d.size = values.size();
    d.coordinate.data = std::move(values);
    d.coordinate.attrs = {{"long_name", long_name}};
    ds.dims.push_back(std::move(d));
  };

  // time: days since the first day of the start month.
  Dimension time;
  time.name = "time";
  time.size = static_cast<std::size_t>(months_);
  time.unlimited = true;
  std::vector<std::int32_t> days;
  for (int t = 0; t < months_; ++t)
    days.push_back(static_cast<std::int32_t>(days_from_epoch(s.start + t) - days_from_epoch(s.start)));
  time.coordinate.data = days;
  time.coordinate.attrs = {{"standard_name", std::string("time")},
                           {"long_name", std::string("first day of the simulated month")},
                           {"units", "days since " + s.start.str() + "-01 00:00:00"},
                           {"calendar", std::string("proleptic_gregorian")},
                           {"axis", std::string("T")}};
  ds.dims.push_back(std::move(time));

  std::vector<std::string> origins, locations, names;
  for (int o = 0; o < s.n_origins(); ++o) origins.push_back(s.origin_code(o));
  for (const auto& c : s.countries) {
    locations.push_back(c.code);
    names.push_back(c.name);
  }
  strings_dim("origin", origins, "country of birth (ISO 3166-1 alpha-3; ROW: rest of the world)");
  strings_dim("location", locations, "country where people are (ISO 3166-1 alpha-3)");
  std::vector<std::string> statuses;
  for (int k = 0; k < kStatuses; ++k) statuses.push_back(to_string(static_cast<Status>(k)));
  strings_dim("status", statuses, "migration status");
  std::vector<std::string> sectors, pathways, edges, kinds, regions;
  for (const auto& x : s.sectors) sectors.push_back(x.name);
  for (const auto& p : s.pathways) pathways.push_back(p.name);
  for (const auto& r : s.routes) edges.push_back(s.countries[r.a].code + "-" + s.countries[r.b].code);
  for (int k = 0; k < kArrivalKinds; ++k) kinds.push_back(arrival_kind_name(k));
  for (const auto& c : s.countries)
    for (const auto& r : c.regions)
      if (std::find(regions.begin(), regions.end(), r) == regions.end()) regions.push_back(r);
  strings_dim("sector", sectors, "labour sector");
  strings_dim("pathway", pathways, "pathway (scenario name)");
  strings_dim("edge", edges, "route edge (its two countries' ISO3 codes)");
  strings_dim("arrival_kind", kinds, "how migrants arrived: pathway kind, irregular, or other (exogenous inflow)");
  strings_dim("region", regions, "region tag of the scenario's countries");

  auto counts = [&](const char* name, std::vector<std::string> dims, int series, const std::string& long_name,
                    const std::string& units = "persons") {
    Variable v;
    v.name = name;
    v.dims = std::move(dims);
    v.data = std::move(ints[series]);
    v.attrs = {{"long_name", long_name}, {"units", units}};
    ds.vars.push_back(std::move(v));
  };
  counts("migrant_stock", {"time", "origin", "location", "status"}, kStock,
         "people by origin, location and status at the end of the month (origin == location: "
         "prospective migrants not yet gone)");
  counts("arrivals", {"time", "origin", "location", "arrival_kind"}, kArrivals,
         "people arriving at their destination during the month");
  counts("applications", {"time", "pathway"}, kApplications, "applications submitted during the month");
  counts("admissions", {"time", "pathway"}, kAdmissions, "applications admitted during the month");
  counts("quota", {"time", "pathway"}, kQuota, "monthly quota in force (-1: no cap; 0 when closed)");
  counts("unused_quota", {"time", "pathway"}, kUnused, "quota left unused in the month (0 for uncapped pathways)");
  counts("irregular_crossings", {"time", "edge"}, kCrossings,
         "irregular migrants who crossed the edge (in either direction) and reached the other side");
  counts("route_deaths", {"time", "edge"}, kRouteDeaths, "irregular migrants who died crossing the edge");
  counts("interceptions", {"time", "edge"}, kInterceptions,
         "irregular migrants intercepted on the edge and sent home");
  counts("employed", {"time", "location", "sector"}, kEmployed, "settled migrants holding a job at the month's end");
  counts("job_seekers", {"time", "location", "sector"}, kSeekers,
         "settled migrants without a job at the month's end");
  counts("hires", {"time", "location", "sector"}, kHires,
         "vacancies filled by migrants during the month (labour-visa arrivals included)");
  {
    Variable v;
    v.name = "vacancies";
    v.dims = {"time", "location", "sector"};
    v.data = std::move(floats[kVacancies]);
    v.attrs = {{"long_name", std::string("vacancies open to migrants in the month (scenario input)")},
               {"units", std::string("persons")}};
    ds.vars.push_back(std::move(v));
  }
  counts("returns", {"time", "origin", "location"}, kReturns, "settled migrants returning home from location");
  counts("deportations", {"time", "origin", "location"}, kDeportations,
         "settled irregular migrants deported from location");
  counts("natural_deaths", {"time", "location"}, kNaturalDeaths, "settled migrants who died of natural causes");
  counts("onward_moves", {"time", "location"}, kOnward, "settled migrants who start to consider moving on");
  counts("new_movers", {"time", "origin", "sector"}, kNewMovers,
         "people who start to consider migrating (become aspiring agents)");
  counts("gave_up", {"time", "origin"}, kGaveUp, "aspirants at home who gave up migrating");
  counts("agents", {"time"}, kAgents, "live agents at the month's end", "1");
  {
    Variable step;
    step.name = "step";
    step.dims = {"time"};
    std::vector<std::int32_t> steps;
    for (int t = 0; t < months_; ++t) steps.push_back(t);
    step.data = steps;
    step.attrs = {{"long_name", std::string("months since the start")}, {"units", std::string("1")}};
    ds.vars.push_back(std::move(step));
  }
  auto strings_var = [&](const char* name, const char* dim, std::vector<std::string> values, const char* long_name) {
    Variable v;
    v.name = name;
    v.dims = {dim};
    v.data = std::move(values);
    v.attrs = {{"long_name", std::string(long_name)}};
    ds.vars.push_back(std::move(v));
  };
  std::vector<std::string> pkind, pcountry, ekind;
  for (const auto& p : s.pathways) {
    pkind.push_back(to_string(p.kind));
    pcountry.push_back(s.countries[p.country].code);
  }
  for (const auto& r : s.routes) ekind.push_back(to_string(r.kind));
  strings_var("country_name", "location", names, "country name");
  strings_var("pathway_kind", "pathway", pkind, "pathway kind");
  strings_var("pathway_country", "pathway", pcountry, "country offering the pathway");
  strings_var("edge_kind", "edge", ekind, "route kind (land, sea, air)");
  {
    Variable v;
    v.name = "region_member";
    v.dims = {"region", "location"};
    std::vector<std::int8_t> member;
    for (const auto& r : regions)
      for (const auto& c : s.countries)
        member.push_back(std::find(c.regions.begin(), c.regions.end(), r) != c.regions.end() ? 1 : 0);
    v.data = member;
    v.attrs = {{"long_name", std::string("1 if the location belongs to the region")}, {"units", std::string("1")}};
    ds.vars.push_back(std::move(v));
  }

  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  std::string files;
  for (const auto& f : s.files) files += (files.empty() ? "" : ";") + f;
  ds.attrs = {
      {"Conventions", std::string("CF-1.8")},
      {"title", "migsim run of scenario " + s.name},
      {"institution", std::string("migsim")},
      {"source", std::string("migsim ") + version() + ", an agent-based model of regional labour migration"},
      {"history", info.start_time_utc + ": " + info.command},
      {"references", std::string("docs/ODD.md and docs/output.md of migsim")},
      {"migsim_version", std::string(version())},
      {"scenario_name", s.name},
      {"scenario_description", s.description},
      {"scenario_files", files},
      {"scenario", s.resolved_yaml},
      {"seed", info.seed},
      {"people_per_agent", s.people_per_agent},
      {"start_month", s.start.str()},
      {"months", static_cast<std::int32_t>(months_)},
      {"threads", static_cast<std::int32_t>(info.threads)},
      {"ranks", static_cast<std::int32_t>(info.ranks)},
      {"start_time_utc", info.start_time_utc},
      {"host", std::string(host)},
      {"hdf5_version", std::to_string(maj) + "." + std::to_string(min) + "." + std::to_string(rel)},
  };
  return ds;
}

}  // namespace migsim
