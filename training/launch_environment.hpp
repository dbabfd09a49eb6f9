#pragma once
// Where a process stands among the processes of one data-parallel training, read from the
// launcher's environment:
//   Open MPI's mpirun:  OMPI_COMM_WORLD_RANK, OMPI_COMM_WORLD_SIZE, OMPI_COMM_WORLD_LOCAL_SIZE
//   Slurm's srun:       SLURM_PROCID, SLURM_NTASKS, SLURM_NTASKS_PER_NODE / SLURM_STEP_TASKS_PER_NODE;
//                       rank 0's host is the first of SLURM_STEP_NODELIST (or SLURM_JOB_NODELIST),
//                       else SLURM_LAUNCH_NODE_IPADDR
//   torchrun and others: RANK, WORLD_SIZE, LOCAL_WORLD_SIZE
// MASTER_ADDR and MASTER_PORT, where set, name rank 0's rendezvous (a TCP store) for every
// launcher. Without them, a single-node mpirun rendezvous on 127.0.0.1, and srun on a port drawn
// from the job and step ids, so that two steps of one job do not collide.
// No LibTorch here: model/data_parallel.hpp does the communication.
#include <functional>
#include <optional>
#include <string>

namespace c2f {

struct LaunchEnvironment {
  std::string launcher;     // "mpirun", "srun", "env"
  int rank = 0, world_size = 1;
  int local_size = 1;       // processes of this training on this machine (threads are shared among them)
  std::string master_addr;  // rank 0's host
  int master_port = 29500;
};

using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;
// The process's own environment.
std::optional<std::string> process_environment(const std::string& name);

// Throws OptionError naming the variable when none of the launchers is recognised or a value is
// malformed (a rank outside [0, size), a port outside [1, 65535], no address for a multi-node run).
LaunchEnvironment read_launch_environment(const EnvironmentLookup& env = process_environment);

// The first host of a Slurm host list: "node[03-05,9],gpu1" -> "node03"; "a,b" -> "a".
std::string first_slurm_host(const std::string& nodelist);

}  // namespace c2f
