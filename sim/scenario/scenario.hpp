#pragma once
/// @file scenario.hpp
/// The scenario as const typed structs: what the model reads. Built once from YAML by
/// load_scenario() (see docs/scenario.md for the file format); nothing here knows YAML.
/// Rates are per month unless a name says otherwise; money is in international dollars
/// (PPP) per month; counts of people are persons, not agents.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/month.hpp"

namespace migsim {

inline constexpr int kMaxCountries = 120;  ///< countries are stored in one byte per agent
inline constexpr int kMaxSectors = 8;
inline constexpr int kMaxPathways = 250;
inline constexpr std::uint8_t kNone = 255;  ///< "no country / no pathway" in agent fields

/// A time series given at some months and interpolated linearly between them; constant
/// before the first and after the last point.
struct Series {
  std::vector<std::pair<Month, double>> points;  ///< sorted by month, at least one point
  double at(Month m) const;
};

enum class PathwayKind : std::uint8_t {
  LabourVisa,
  HumanitarianVisa,
  PrivateSponsorship,
  FamilyReunification,
  FreeMovement,
  Regularisation,
};
inline constexpr int kPathwayKinds = 6;
const char* to_string(PathwayKind k);

enum class RouteKind : std::uint8_t { Land, Sea, Air };
const char* to_string(RouteKind k);

/// A labour sector; wages are `wage_ratio` x GDP per capita (PPP) / 12 unless a country
/// overrides the ratio.
struct Sector {
  std::string name;
  double wage_ratio = 1.0;  ///< monthly wage / (GDP per capita PPP / 12)
};

struct Country {
  std::string code;  ///< ISO 3166-1 alpha-3
  std::string name;
  std::string language;              ///< main language; equal strings mean a common language
  std::vector<std::string> regions;  ///< tags for derived totals, e.g. "LAC"
  double capital_lat = 0, capital_lon = 0;  ///< degrees
  Series population;    ///< persons
  Series working_age;   ///< persons aged 15-64
  Series gdp_pc_ppp;    ///< GDP per capita, PPP international $ per year
  Series unemployment;  ///< share of the labour force, 0..1
  Series crisis;        ///< push index, 0 (none) .. 1 (collapse); scenario input
  std::vector<double> sector_shares;  ///< share of working-age people by sector; sums to 1
  std::vector<double> wage_ratio;     ///< per sector; defaults to the sector's
  std::vector<Series> vacancies;      ///< per sector: vacancies open to migrants, persons/month
  double deportation_rate = 0;        ///< share of irregular migrants removed per month
};

/// An edge of the irregular route graph (undirected).
struct Route {
  std::string label;  ///< "COL-PAN"
  int a = 0, b = 0;   ///< country indices
  RouteKind kind = RouteKind::Land;
  int months = 1;            ///< months to cross
  double cost = 0;           ///< $ per person
  double mortality = 0;      ///< probability of dying per crossing
  double interception = 0;   ///< probability of being intercepted (and sent home) per crossing
};

/// Where applicants for a pathway may be.
enum class AppliesFrom : std::uint8_t { Abroad, InCountry, Both };

struct Pathway {
  std::string name;
  int country = 0;  ///< destination (or, for regularisation, host) country index
  PathwayKind kind = PathwayKind::LabourVisa;
  std::vector<std::uint8_t> origin_ok;  ///< per origin index (countries, then rest of world)
  std::vector<std::uint8_t> sector_ok;  ///< per sector
  std::optional<std::int64_t> quota;    ///< persons per month; none = no cap
  int processing_months = 0;            ///< months from admission to travel
  double cost = 0;                      ///< $ per person
  Month open;                           ///< first month open
  std::optional<Month> close;           ///< last month open
  AppliesFrom applies_from = AppliesFrom::Abroad;
  std::optional<Month> presence_before;  ///< regularisation: arrived before this month
  double take_up = 0;                    ///< regularisation: share of eligible applying per month
};

/// Initial stock of people born in `origin` living in `location` at the start month.
struct StockCell {
  int origin = 0;
  int location = 0;
  std::int64_t persons = 0;
  double irregular_share = 0;
};

/// Arrivals from outside the model's movers (for example from the rest of the world).
struct Inflow {
  int origin = 0;
  int destination = 0;
  Series persons_per_year;
  double irregular_share = 0;
};

/// The free behavioural parameters (see docs/ODD.md for each one's role and source).
struct Behaviour {
  double move_rate = 2e-5;         ///< per month: working-age people starting to consider moving
  double gain_weight = 1.0;        ///< mover rate: weight of the expected gain of moving
  double crisis_weight = 2.0;      ///< mover rate: weight of the crisis index
  double unemployment_weight = 3.0;  ///< mover rate: weight of the unemployment share
  double income_weight = 1.0;      ///< choice: weight of log expected income
  double network_weight = 0.4;     ///< choice: weight of log(1 + diaspora in thousands)
  double distance_weight = 0.8;    ///< choice: weight of log distance (1000 km)
  double language_weight = 0.5;    ///< choice: bonus for a common language
  double access_weight = 1.0;      ///< choice: weight of log probability of getting there
  double risk_weight = 20.0;       ///< irregular route: weight of the probability of death
  double cost_weight = 0.1;        ///< route and pathway: weight of cost in months of home wage
  double irregular_rate = 0.15;    ///< per month: departures of aspirants with no pathway
  int give_up_months = 12;         ///< months an aspirant keeps trying
  double irregular_match = 0.6;    ///< job matching of irregular relative to regular seekers
  double job_separation_rate = 0.02;  ///< per month
  int long_unemployment_months = 6;
  double return_rate = 0.002;         ///< per month
  double return_unemployed_factor = 2.0;
  double return_irregular_factor = 1.5;
  double return_crisis_weight = 2.0;  ///< returns fall by exp(-w * crisis at origin)
  double onward_rate = 0.0005;        ///< per month
  double onward_unemployed_factor = 1.0;  ///< onward moves after long unemployment: multiplier
  double onward_irregular_factor = 1.0;   ///< onward moves of irregular migrants: multiplier
  double natural_mortality = 0.0005;  ///< per month
  double transit_stay = 0.2;  ///< chance to stay and apply where a transit country offers a pathway
};

/// A scheduled change. `target` names a pathway, route or country (with an optional sector).
struct Event {
  enum class Target : std::uint8_t { Pathway, Route, Country };
  enum class Field : std::uint8_t {
    Open,              ///< pathway: 1 open, 0 closed
    Quota,             ///< pathway: persons per month; < 0 = no cap
    ProcessingMonths,  ///< pathway
    Cost,              ///< pathway or route
    Mortality,         ///< route
    Interception,      ///< route
    Months,            ///< route
    Crisis,            ///< country: replaces the crisis series from this month on
    DeportationRate,   ///< country
    VacancyFactor,     ///< country (and sector): multiplies vacancies from this month on
  };
  Month date;
  Target target = Target::Pathway;
  int index = 0;    ///< pathway, route or country index
  int sector = -1;  ///< for VacancyFactor: sector index, or -1 for all sectors
  Field field = Field::Open;
  double value = 0;
};
const char* to_string(Event::Field f);

struct Scenario {
  std::string name;
  std::string description;
  std::vector<std::string> files;  ///< files read, base first (extends chain)
  std::string resolved_yaml;       ///< the merged scenario as YAML, stored in outputs
  Month start, end;                ///< inclusive
  std::uint64_t seed = 1;
  std::int64_t people_per_agent = 1;
  std::string size_source;  ///< "FILE:LINE:COL" of people_per_agent (or initial_stock), for size errors
  std::string size_key;     ///< "people_per_agent" or "initial_stock"
  std::vector<Sector> sectors;
  std::vector<Country> countries;
  bool rest_of_world = false;  ///< an extra origin "ROW" exists (index = countries.size())
  std::vector<Route> routes;
  std::vector<Pathway> pathways;
  std::vector<StockCell> initial_stock;
  std::vector<Inflow> inflows;
  Behaviour behaviour;
  std::vector<Event> events;  ///< sorted by date, stable
  std::vector<std::vector<double>> distance_km;  ///< between capitals (great circle) or given

  int months() const { return end - start + 1; }
  int n_countries() const { return static_cast<int>(countries.size()); }
  int n_origins() const { return n_countries() + (rest_of_world ? 1 : 0); }
  int n_sectors() const { return static_cast<int>(sectors.size()); }
  /// Code of an origin index ("ROW" for the rest of the world).
  std::string origin_code(int origin) const;
  /// Index of a country code, or -1.
  int country_index(std::string_view code) const;
  /// Persons in the initial stock, and agents it makes at people_per_agent.
  std::int64_t initial_persons() const;
  std::int64_t initial_agents() const;
};

/// Reads, merges (`extends`) and checks a scenario. Throws InputError listing every problem
/// with file, line, column and key path.
Scenario load_scenario(const std::filesystem::path& path);
/// The same from YAML text (tests, fuzzing); `name` stands for the file in messages.
Scenario load_scenario_text(const std::string& text, const std::string& name);

namespace scenario {
struct Node;
}
/// The same from a tree already read and merged (load_with_extends()), possibly edited by
/// an experiment; `files` are the files it came from, base first.
Scenario load_scenario_tree(const scenario::Node& root, std::vector<std::string> files);

}  // namespace migsim
