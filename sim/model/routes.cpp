#include "model/routes.hpp"

#include <limits>
#include <queue>
#include <tuple>

namespace migsim {

void RouteTable::build(const Scenario& s, const PolicyState& p) {
  n = s.n_countries();
  const auto nn = static_cast<std::size_t>(n) * n;
  next_edge.assign(nn, -1);
  next_node.assign(nn, kNone);
  death.assign(nn, 0.0);
  pass.assign(nn, 0.0);
  cost.assign(nn, 0.0);
  months.assign(nn, 0);

  // Adjacency: (neighbour, edge).
  std::vector<std::vector<std::pair<int, int>>> adj(n);
  for (int e = 0; e < static_cast<int>(s.routes.size()); ++e) {
    adj[s.routes[e].a].push_back({s.routes[e].b, e});
    adj[s.routes[e].b].push_back({s.routes[e].a, e});
  }
  using Cost = std::pair<long long, double>;  // (months, summed risk)
  const Cost inf{std::numeric_limits<long long>::max(), 0.0};
  auto edge_cost = [&](int e) {
    return Cost{p.route_months[e], p.mortality[e] + p.interception[e]};
  };
  for (int to = 0; to < n; ++to) {
    // Dijkstra towards `to` (the graph is undirected).
    std::vector<Cost> dist(n, inf);
    dist[to] = {0, 0.0};
    using Item = std::tuple<Cost, int>;
    std::priority_queue<Item, std::vector<Item>, std::greater<>> q;
    q.push({dist[to], to});
    while (!q.empty()) {
      auto [d, u] = q.top();
      q.pop();
      if (d > dist[u]) continue;
      for (auto [v, e] : adj[u]) {
        const Cost ec = edge_cost(e);
        const Cost nd{d.first + ec.first, d.second + ec.second};
        if (nd < dist[v]) {
          dist[v] = nd;
          q.push({nd, v});
        }
      }
    }
    for (int from = 0; from < n; ++from) {
      if (from == to || dist[from] == inf) continue;
      // The neighbour on a best route; ties to the lower country index.
      int best_v = -1, best_e = -1;
      Cost best = inf;
      for (auto [v, e] : adj[from]) {
        if (dist[v] == inf) continue;
        const Cost ec = edge_cost(e);
        const Cost c{ec.first + dist[v].first, ec.second + dist[v].second};
        if (c < best || (c == best && v < best_v)) {
          best = c;
          best_v = v;
          best_e = e;
        }
      }
      next_edge[from * n + to] = best_e;
      next_node[from * n + to] = static_cast<std::uint8_t>(best_v);
    }
  }
  // Totals along each route.
  for (int from = 0; from < n; ++from) {
    for (int to = 0; to < n; ++to) {
      if (from == to || next_edge[from * n + to] < 0) continue;
      double survive = 1.0, through = 1.0, c = 0.0;
      std::int32_t m = 0;
      for (int at = from, hops = 0; at != to && hops <= n; ++hops) {
        const int e = next_edge[at * n + to];
        survive *= 1.0 - p.mortality[e];
        through *= 1.0 - p.mortality[e] - p.interception[e];
        c += p.route_cost[e];
        m += p.route_months[e];
        at = next_node[at * n + to];
      }
      death[from * n + to] = 1.0 - survive;
      pass[from * n + to] = through;
      cost[from * n + to] = c;
      months[from * n + to] = m;
    }
  }
}

}  // namespace migsim
