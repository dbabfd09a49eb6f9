#pragma once
// The table c2f-train prints, one row per network trained: iterations run, seconds, samples per
// second, the last logged loss, the DSC on the training samples (when evaluated) and the busy
// seconds of the graph's two nodes.
#include <string>

#include "../graphs/training_graph.hpp"

namespace c2f {

std::string training_table_header();  // with its newline
// `network`: "coarse_axial", as the checkpoint's file name says. With its newline.
std::string training_table_row(const std::string& network, const TrainingReport& report);

}  // namespace c2f
