#pragma once
// Writing files so that a reader never sees half of one: write to a temporary name in the same
// folder, flush it to disk, then rename over the final name (atomic on POSIX file systems).
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace c2f {

// A temporary sibling of final_path that keeps its extension(s), e.g. "a/.mask.nii.gz.tmp-123-7.nii.gz"
// keeps ".nii.gz" so that libraries which pick a format from the name still do.
std::filesystem::path temporary_sibling(const std::filesystem::path& final_path);

// Calls write(tmp) and renames tmp to final_path. If write throws, or the result cannot be
// flushed and renamed, tmp is removed and OutputError is thrown: final_path is either the old
// file or the complete new one.
void write_atomically(const std::filesystem::path& final_path,
                      const std::function<void(const std::filesystem::path& tmp)>& write);

// Removes temporaries of final_path left by writers that were killed (SIGKILL cannot be caught):
// siblings named like temporary_sibling(final_path) whose process no longer runs. Returns how
// many it removed.
int remove_stale_temporaries(const std::filesystem::path& final_path);

// Writes text (JSON, CSV, a fold file) atomically.
void write_text_atomically(const std::filesystem::path& final_path, std::string_view text);

// fsync()s a written file; throws OutputError naming the file if that fails (full disk shows
// up here on some file systems).
void sync_file(const std::filesystem::path& path);

}  // namespace c2f
