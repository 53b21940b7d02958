// A test's own scratch directory under the system's temporary directory, removed after each test: named after
// the test binary's pid (ScratchDirTest, with the two file helpers most tests of file formats need) or made
// unique by mkdtemp (TempDirTest).
#pragma once

#include <errno.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>

namespace testing_support {

class ScratchDirTest : public ::testing::Test {
 protected:
  explicit ScratchDirTest(const std::string& name)
      : dir_(std::filesystem::temp_directory_path() / ("bootrino-" + name + "-" + std::to_string(getpid()))) {}
  void SetUp() override { std::filesystem::create_directories(dir_); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// Writes `data` to NAME in the directory and returns its path.
  std::string Write(const std::string& name, const std::string& data) {
    std::ofstream(dir_ / name, std::ios::binary) << data;
    return (dir_ / name).string();
  }
  static std::string Read(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::filesystem::path dir_;
};

/// A fixture with a private directory, bootrino-TAG-XXXXXX under the system's temp dir, for each test's files;
/// removed after the test. It exists from the constructor on, so a derived fixture's constructor may fill it.
class TempDirTest : public ::testing::Test {
 protected:
  explicit TempDirTest(const std::string& tag) : dir_(MakeDir(tag)) {}
  ~TempDirTest() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  /// Writes `data` to NAME in the directory and returns its path.
  std::string Write(const std::string& name, const std::string& data) const {
    std::ofstream(dir_ / name, std::ios::binary) << data;
    return (dir_ / name).string();
  }

  const std::filesystem::path dir_;

 private:
  // Throws when mkdtemp fails: gtest reports an exception from a fixture's constructor as the test's failure.
  static std::filesystem::path MakeDir(const std::string& tag) {
    std::string tmpl = (std::filesystem::temp_directory_path() / ("bootrino-" + tag + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp " + tmpl);
    return tmpl;
  }
};

}  // namespace testing_support
