#pragma once
// Typed errors. Each carries the thing it is about (a file, a stage and case) so that an
// executable can print one line that says what went wrong and where.
#include <stdexcept>
#include <string>

namespace c2f {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad or unreadable input: a file or folder and what is wrong with it.
class InputError : public Error {
 public:
  InputError(std::string path, const std::string& problem)
      : Error(path + ": " + problem), path_(std::move(path)) {}
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// An output that could not be written (full disk, no permission); nothing is left behind.
class OutputError : public Error {
 public:
  OutputError(std::string path, const std::string& problem)
      : Error(path + ": " + problem), path_(std::move(path)) {}
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Options that cannot work, caught before any data flows.
class OptionError : public Error {
 public:
  using Error::Error;
};

}  // namespace c2f
