#include <doctest/doctest.h>

#include <map>

#include "../../pipeline/errors.hpp"
#include "../../training/launch_environment.hpp"

using namespace c2f;

namespace {
EnvironmentLookup lookup(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}
}  // namespace

TEST_CASE("the first host of a Slurm node list keeps its leading zeros and ignores commas inside brackets") {
  CHECK(first_slurm_host("node07") == "node07");
  CHECK(first_slurm_host("a,b") == "a");
  CHECK(first_slurm_host("node[03-05,9],gpu1") == "node03");
  CHECK(first_slurm_host("gpu[12]") == "gpu12");
  CHECK_THROWS_AS(first_slurm_host("node[1-4"), OptionError);
}

TEST_CASE("srun's rank, size, tasks per node and first node give the rendezvous, on a port drawn from the job") {
  const auto e = read_launch_environment(lookup({{"SLURM_PROCID", "3"},
                                                 {"SLURM_NTASKS", "4"},
                                                 {"SLURM_STEP_TASKS_PER_NODE", "2(x2)"},
                                                 {"SLURM_STEP_NODELIST", "cn[007-008]"},
                                                 {"SLURM_LAUNCH_NODE_IPADDR", "10.0.0.9"},
                                                 {"SLURM_JOB_ID", "12345"},
                                                 {"SLURM_STEP_ID", "0"}}));
  CHECK(e.launcher == "srun");
  CHECK(e.rank == 3);
  CHECK(e.world_size == 4);
  CHECK(e.local_size == 2);
  CHECK(e.master_addr == "cn007");
  CHECK(e.master_port >= 20000);
  CHECK(e.master_port < 60000);
  // Another step of the job meets on another port; MASTER_ADDR and MASTER_PORT override both.
  const auto next = read_launch_environment(
      lookup({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}, {"SLURM_JOB_NODELIST", "cn1"}, {"SLURM_JOB_ID", "12345"}, {"SLURM_STEP_ID", "1"}}));
  CHECK(next.master_port != e.master_port);
  CHECK(next.master_addr == "cn1");
  const auto set = read_launch_environment(lookup(
      {{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_JOB_NODELIST", "cn1"}, {"MASTER_ADDR", "h0"}, {"MASTER_PORT", "29555"}}));
  CHECK(set.master_addr == "h0");
  CHECK(set.master_port == 29555);
  // Only the launch node's address known.
  CHECK(read_launch_environment(lookup({{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "2"}, {"SLURM_LAUNCH_NODE_IPADDR", "10.0.0.9"}}))
            .master_addr == "10.0.0.9");
}

TEST_CASE("mpirun's variables win over Slurm's, and a single-node mpirun meets on the loopback") {
  const auto e = read_launch_environment(lookup({{"OMPI_COMM_WORLD_RANK", "1"},
                                                 {"OMPI_COMM_WORLD_SIZE", "2"},
                                                 {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"},
                                                 {"SLURM_PROCID", "0"},
                                                 {"SLURM_NTASKS", "1"}}));
  CHECK(e.launcher == "mpirun");
  CHECK(e.rank == 1);
  CHECK(e.world_size == 2);
  CHECK(e.master_addr == "127.0.0.1");
  CHECK(e.master_port == 29500);
  // Over several machines rank 0's address must be given.
  CHECK_THROWS_WITH_AS(read_launch_environment(lookup({{"OMPI_COMM_WORLD_RANK", "0"},
                                                       {"OMPI_COMM_WORLD_SIZE", "4"},
                                                       {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}})),
                       doctest::Contains("MASTER_ADDR"), OptionError);
}

TEST_CASE("RANK and WORLD_SIZE with MASTER_ADDR, and bad values named by their variable") {
  const auto e = read_launch_environment(
      lookup({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29400"}}));
  CHECK(e.launcher == "env");
  CHECK(e.world_size == 2);
  CHECK(e.master_port == 29400);
  CHECK_THROWS_WITH_AS(read_launch_environment(lookup({})), doctest::Contains("no launcher"), OptionError);
  CHECK_THROWS_WITH_AS(read_launch_environment(lookup({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}})),
                       doctest::Contains("RANK='2'"), OptionError);
  CHECK_THROWS_WITH_AS(read_launch_environment(lookup({{"RANK", "x"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}})),
                       doctest::Contains("RANK='x'"), OptionError);
  CHECK_THROWS_WITH_AS(
      read_launch_environment(lookup({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}})),
      doctest::Contains("MASTER_PORT"), OptionError);
}
