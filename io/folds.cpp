#include "folds.hpp"

#include <algorithm>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../pipeline/atomic_file.hpp"
#include "../pipeline/errors.hpp"

namespace c2f {

std::vector<std::string> Folds::all_cases() const {
  std::vector<std::string> all;
  for (const auto& f : folds) all.insert(all.end(), f.begin(), f.end());
  return all;
}

std::vector<std::string> Folds::training_cases(int k) const {
  if (k < -1 || k >= int(folds.size()))
    throw OptionError(fmt::format("fold {} does not exist (folds 0..{}, or -1 for all cases)", k, int(folds.size()) - 1));
  std::vector<std::string> out;
  for (int i = 0; i < int(folds.size()); ++i)
    if (i != k) out.insert(out.end(), folds[std::size_t(i)].begin(), folds[std::size_t(i)].end());
  return out;
}

Folds make_folds(std::vector<std::string> ids, int k) {
  if (k < 1) throw OptionError("the number of folds must be at least 1");
  if (int(ids.size()) < k) throw OptionError(fmt::format("{} cases cannot fill {} folds (choose at most {} folds)", ids.size(), k, ids.size()));
  std::sort(ids.begin(), ids.end());
  Folds f;
  std::size_t at = 0;
  for (int i = 0; i < k; ++i) {
    const std::size_t n = ids.size() / std::size_t(k) + (std::size_t(i) < ids.size() % std::size_t(k) ? 1 : 0);
    f.folds.emplace_back(ids.begin() + std::ptrdiff_t(at), ids.begin() + std::ptrdiff_t(at + n));
    at += n;
  }
  return f;
}

void write_folds(const std::filesystem::path& path, const Folds& f) {
  const nlohmann::json j = {{"format", "c2f folds 1"}, {"folds", f.folds}};
  write_text_atomically(path, j.dump(2) + "\n");
}

Folds read_folds(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path.string(), "cannot open fold file");
  Folds f;
  try {
    const auto j = nlohmann::json::parse(in);
    if (j.value("format", "") != "c2f folds 1") throw InputError(path.string(), "not a c2f fold file");
    f.folds = j.at("folds").get<std::vector<std::vector<std::string>>>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path.string(), std::string("corrupt fold file: ") + e.what());
  }
  std::set<std::string> seen;
  for (const auto& id : f.all_cases())
    if (!seen.insert(id).second) throw InputError(path.string(), "case " + id + " is in two folds");
  if (f.folds.empty()) throw InputError(path.string(), "no folds");
  for (std::size_t k = 0; k < f.folds.size(); ++k)
    if (f.folds[k].empty()) throw InputError(path.string(), "fold " + std::to_string(k) + " holds no case");
  return f;
}

}  // namespace c2f
