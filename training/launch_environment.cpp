#include "launch_environment.hpp"

#include <cstdlib>

#include <fmt/format.h>

#include "../pipeline/errors.hpp"

namespace c2f {

std::optional<std::string> process_environment(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (!value) return std::nullopt;
  return std::string(value);
}

namespace {
int parse_int(const std::string& name, const std::string& text, long long lo, long long hi) {
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || v < lo || v > hi)
    throw OptionError(fmt::format("environment variable {}='{}' is not an integer in [{}, {}]", name, text, lo, hi));
  return int(v);
}

// "2(x3),1" (SLURM_STEP_TASKS_PER_NODE) -> 2: the tasks on the first node, which holds rank 0.
int first_task_count(const std::string& name, const std::string& text) {
  const auto end = text.find_first_of("(,");
  return parse_int(name, text.substr(0, end), 1, 1 << 20);
}
}  // namespace

std::string first_slurm_host(const std::string& nodelist) {
  // Commas inside brackets separate ranges, not hosts.
  int depth = 0;
  std::size_t end = 0;
  for (; end < nodelist.size(); ++end) {
    if (nodelist[end] == '[') ++depth;
    else if (nodelist[end] == ']') --depth;
    else if (nodelist[end] == ',' && depth == 0) break;
  }
  const std::string host = nodelist.substr(0, end);
  const auto open = host.find('[');
  if (open == std::string::npos) return host;
  const auto close = host.find(']', open);
  if (close == std::string::npos) throw OptionError(fmt::format("Slurm host list '{}' has an unclosed '['", nodelist));
  const std::string ranges = host.substr(open + 1, close - open - 1);
  const std::string first = ranges.substr(0, ranges.find_first_of(",-"));  // keeps leading zeros
  return host.substr(0, open) + first + host.substr(close + 1);
}

LaunchEnvironment read_launch_environment(const EnvironmentLookup& env) {
  LaunchEnvironment e;
  const auto get = [&](const char* name) { return env(name); };
  const auto master_addr = get("MASTER_ADDR");
  const auto master_port = get("MASTER_PORT");
  std::string rank_name, size_name;
  if (get("OMPI_COMM_WORLD_RANK")) {
    e.launcher = "mpirun";
    rank_name = "OMPI_COMM_WORLD_RANK";
    size_name = "OMPI_COMM_WORLD_SIZE";
    if (auto local = get("OMPI_COMM_WORLD_LOCAL_SIZE")) e.local_size = parse_int("OMPI_COMM_WORLD_LOCAL_SIZE", *local, 1, 1 << 20);
  } else if (get("RANK") && get("WORLD_SIZE")) {
    e.launcher = "env";
    rank_name = "RANK";
    size_name = "WORLD_SIZE";
    if (auto local = get("LOCAL_WORLD_SIZE")) e.local_size = parse_int("LOCAL_WORLD_SIZE", *local, 1, 1 << 20);
  } else if (get("SLURM_PROCID") && get("SLURM_NTASKS")) {
    e.launcher = "srun";
    rank_name = "SLURM_PROCID";
    size_name = "SLURM_NTASKS";
    if (auto per_node = get("SLURM_STEP_TASKS_PER_NODE")) e.local_size = first_task_count("SLURM_STEP_TASKS_PER_NODE", *per_node);
    else if (auto tasks = get("SLURM_TASKS_PER_NODE")) e.local_size = first_task_count("SLURM_TASKS_PER_NODE", *tasks);
  } else {
    throw OptionError(
        "--distributed: no launcher found in the environment (expected mpirun's OMPI_COMM_WORLD_RANK, srun's "
        "SLURM_PROCID and SLURM_NTASKS, or RANK and WORLD_SIZE)");
  }
  if (!get(size_name.c_str())) throw OptionError(fmt::format("--distributed: {} is set but {} is not", rank_name, size_name));
  e.world_size = parse_int(size_name, *get(size_name.c_str()), 1, 1 << 20);
  e.rank = parse_int(rank_name, *get(rank_name.c_str()), 0, e.world_size - 1);
  e.local_size = std::min(e.local_size, e.world_size);

  if (master_port) e.master_port = parse_int("MASTER_PORT", *master_port, 1, 65535);
  if (master_addr) {
    e.master_addr = *master_addr;
  } else if (e.launcher == "srun") {
    if (auto nodes = get("SLURM_STEP_NODELIST")) e.master_addr = first_slurm_host(*nodes);
    else if (auto job_nodes = get("SLURM_JOB_NODELIST")) e.master_addr = first_slurm_host(*job_nodes);
    else if (auto launch = get("SLURM_LAUNCH_NODE_IPADDR")) e.master_addr = *launch;
    if (!master_port) {
      // The job and step ids pick a port in [20000, 60000): concurrent steps of one job, and jobs
      // sharing a node, rarely meet; MASTER_PORT overrides it.
      long long job = 0, step = 0;
      if (auto id = get("SLURM_JOB_ID")) job = parse_int("SLURM_JOB_ID", *id, 0, 2147483647);
      if (auto id = get("SLURM_STEP_ID")) step = parse_int("SLURM_STEP_ID", *id, 0, 2147483647);
      e.master_port = int(20000 + (job * 97 + step) % 40000);
    }
  } else if (e.local_size == e.world_size) {
    e.master_addr = "127.0.0.1";  // every rank on this machine
  }
  if (e.master_addr.empty())
    throw OptionError(fmt::format("--distributed: {} ranks over several machines under {} need MASTER_ADDR (rank 0's host)",
                                  e.world_size, e.launcher));
  return e;
}

}  // namespace c2f
